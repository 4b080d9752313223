"""The one place configuration is read: environment variables prefixed `PMBRIDGE_`, nested with `__`."""

from __future__ import annotations

import os
import threading
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.errors import ConfigurationError

SECRET_KEY_FILE = "secret.key"  # noqa: S105 - a file name, not a secret
DATABASE_FILE = "pmbridge.db"


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


class Settings(BaseSettings):
    """Settings of one pmbridge process.

    `secret_key` holds one or more Fernet keys separated by commas (the first encrypts, all decrypt,
    so keys can be rotated). Without one, development mode generates a key into the data directory
    on first use; production mode refuses to start.
    """

    model_config = SettingsConfigDict(
        env_prefix="PMBRIDGE_",
        env_nested_delimiter="__",
        extra="ignore",
        frozen=True,
    )

    mode: Mode = Mode.DEVELOPMENT
    data_dir: Path = Field(default=Path(".pmbridge"))
    database_url: str | None = None
    secret_key: SecretStr | None = None
    # Where providers reach this service; Trello signs deliveries over the callback URL built from it.
    public_url: str | None = None
    log_format: LogFormat = LogFormat.CONSOLE
    log_level: str = "INFO"
    # Jobs: huey on a SQLite file in the data directory, or Redis when several machines share work.
    redis_url: str | None = None
    # The huey queue's name: processes sharing one Redis work the same queue only when names match.
    queue_name: str = Field(default="pmbridge", min_length=1, max_length=100)
    # `pmbridge worker` serves its own /metrics on this port (API processes serve theirs at /metrics).
    worker_metrics_port: int | None = Field(default=None, ge=0, le=65535)
    # Every source is synced incrementally at this interval; the delete census runs daily at this hour.
    sync_interval_minutes: int = Field(default=10, ge=1)
    census_hour_utc: int = Field(default=3, ge=0, le=23)
    worker_threads: int = Field(default=2, ge=1)
    evaluate_interval_minutes: int = Field(default=60, ge=1, le=1440)
    # Dry runs asked through the admin API run as jobs: this many at once across every process
    # (each holds a core for its length), and at most `rule_runs_waiting` queued or running.
    rule_runs_at_once: int = Field(default=1, ge=1, le=16)
    rule_runs_waiting: int = Field(default=10, ge=1, le=1000)
    # The rules as shipped are backtested over the last 180 days this often (0: never), on the
    # census's hour, so push-back's `min_precision` is held against a recent score.
    backtest_every_days: int = Field(default=7, ge=0, le=365)
    # Rule files: default.yaml, client-<name>.yaml, project-<KEY>.yaml (see `pmbridge rules check`).
    rules_dir: Path | None = None
    # Source base URLs may point at private, loopback or link-local addresses and use plain http:
    # for the local sandbox and on-premises Data Center only; it opens the door to SSRF otherwise.
    allow_private_source_urls: bool = False
    # Per API token: a bucket of `rate_limit_burst` requests refilled at `rate_limit_per_second`.
    rate_limit_per_second: float = Field(default=20.0, gt=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    # When set, /metrics (the API's, and a worker's on `worker_metrics_port`) answers only a scraper
    # that sends `Authorization: Bearer <this token>`.
    metrics_token: SecretStr | None = None
    # How long a token check, a client's scope and data freshness are reused within one process.
    auth_cache_seconds: float = Field(default=5.0, ge=0)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / DATABASE_FILE).resolve()}"

    @property
    def is_embedded_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @cached_property
    def secret_keys(self) -> list[bytes]:
        """The Fernet keys, primary first; generated into the data directory when allowed."""
        if self.secret_key is not None:
            raw = self.secret_key.get_secret_value()
        else:
            raw = self._read_or_generate_key_file()
        keys = [part.strip().encode() for part in raw.split(",") if part.strip()]
        if not keys:
            raise ConfigurationError("PMBRIDGE_SECRET_KEY is empty")
        for key in keys:
            try:
                Fernet(key)
            except ValueError as exc:
                raise ConfigurationError(
                    "PMBRIDGE_SECRET_KEY must be Fernet keys "
                    "(32 url-safe base64-encoded bytes), comma-separated"
                ) from exc
        return keys

    def _read_or_generate_key_file(self) -> str:
        path = self.data_dir / SECRET_KEY_FILE
        if path.exists():
            return path.read_text().strip()
        if self.mode is Mode.PRODUCTION:
            raise ConfigurationError(
                "no secret key: set PMBRIDGE_SECRET_KEY in production mode "
                "(generate one with: pmbridge secret-key)"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key().decode()
        # Written whole to an owner-only file of this process's, then linked into place: processes
        # started together on a fresh data directory never read a half-written key, and the first
        # link wins (the others read the key it put there).
        draft = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.{threading.get_ident()}")
        draft.unlink(missing_ok=True)
        draft.touch(mode=0o600, exist_ok=False)
        try:
            draft.write_text(key + "\n")
            os.link(draft, path)
        except FileExistsError:
            return path.read_text().strip()
        finally:
            draft.unlink(missing_ok=True)
        return key

    def validate_for_startup(self) -> None:
        """Fail fast on configuration a process must not run with."""
        _ = self.secret_keys
