from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from service.errors import ConfigurationError
from service.settings import LogFormat, Mode, Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "PMBRIDGE_DATA_DIR",
        "PMBRIDGE_DATABASE_URL",
        "PMBRIDGE_SECRET_KEY",
        "PMBRIDGE_MODE",
        "PMBRIDGE_LOG_FORMAT",
        "PMBRIDGE_LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_settings_defaults_to_sqlite_in_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()

    assert settings.data_dir == Path(".pmbridge")
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / '.pmbridge' / 'pmbridge.db'}"
    assert settings.is_embedded_sqlite


def test_settings_reads_prefixed_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMBRIDGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PMBRIDGE_DATABASE_URL", "postgresql+psycopg://u@db/pmbridge")
    monkeypatch.setenv("PMBRIDGE_LOG_FORMAT", "json")

    settings = Settings()

    assert settings.data_dir == tmp_path
    assert settings.resolved_database_url == "postgresql+psycopg://u@db/pmbridge"
    assert not settings.is_embedded_sqlite
    assert settings.log_format is LogFormat.JSON


def test_secret_keys_generated_once_into_data_dir_owner_only(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).secret_keys
    second = Settings(data_dir=tmp_path).secret_keys

    assert first == second
    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_secret_keys_production_without_key_refuses(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, mode=Mode.PRODUCTION)

    with pytest.raises(ConfigurationError, match="PMBRIDGE_SECRET_KEY"):
        settings.validate_for_startup()
    assert not (tmp_path / "secret.key").exists()


def test_secret_keys_comma_separated_keeps_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [Fernet.generate_key().decode(), Fernet.generate_key().decode()]
    monkeypatch.setenv("PMBRIDGE_SECRET_KEY", ",".join(keys))

    assert Settings(data_dir=tmp_path, mode=Mode.PRODUCTION).secret_keys == [k.encode() for k in keys]


def test_secret_keys_malformed_key_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMBRIDGE_SECRET_KEY", "not-a-fernet-key")

    with pytest.raises(ConfigurationError, match="Fernet"):
        Settings(data_dir=tmp_path).validate_for_startup()
