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
