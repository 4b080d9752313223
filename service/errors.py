"""The service's error base; one handler in the API maps these to the JSON error shape."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An error the service reports to its caller with a stable, machine-readable code."""

    code = "service_error"
    http_status = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ConfigurationError(ServiceError):
    code = "configuration_error"
    http_status = 500


class NotFoundError(ServiceError):
    code = "not_found"
    http_status = 404


class ConflictError(ServiceError):
    code = "conflict"
    http_status = 409


class InvalidInputError(ServiceError):
    code = "invalid_input"
    http_status = 400


class UnauthorizedError(ServiceError):
    code = "unauthorized"
    http_status = 401


class SchemaOutdatedError(ServiceError):
    code = "schema_outdated"
    http_status = 503


class DatabaseUnavailableError(ServiceError):
    code = "database_unavailable"
    http_status = 503


class PayloadTooLargeError(ServiceError):
    code = "payload_too_large"
    http_status = 413


class ProviderDataError(ServiceError):
    """A provider answered with data pmbridge cannot use (a contract the provider broke)."""

    code = "provider_data_invalid"
    http_status = 502


class ProviderUnavailableError(ServiceError):
    """A provider could not be reached or kept failing; the work is retried later."""

    code = "provider_unavailable"
    http_status = 503


class SyncInProgressError(ConflictError):
    """Another worker holds the source's sync lease."""

    code = "sync_in_progress"


class TooManyRunsError(ServiceError):
    """More rule runs are waiting than the service takes at once; the caller retries later."""

    code = "too_many_runs"
    http_status = 429


class UnprocessableInputError(ServiceError):
    """Input well formed but not acceptable (a date in the past, an unknown time zone)."""

    code = "validation_failed"
    http_status = 422


class InvalidRuleFilesError(UnprocessableInputError):
    """A rule file in the rules directory does not load: a reload is refused and nothing is queued."""

    code = "invalid_rule_file"
