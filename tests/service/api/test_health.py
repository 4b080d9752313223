from __future__ import annotations

import gc
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import redis
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from service.api.app import create_app, freeze_startup_objects
from service.errors import SchemaOutdatedError
from service.settings import Settings
from service.store.db import build_engine
from service.store.migrate import downgrade_schema, upgrade_schema
from service.store.runtime import Store
from tests.support.fakes import RecordingEnqueuer


def test_healthz_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_fresh_embedded_database_is_ready(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_readyz_sqlite_writer_locked_elsewhere_answers_503_then_ready_again(client: TestClient) -> None:
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    assert store.engine.url.database is not None
    writer = sqlite3.connect(store.engine.url.database, timeout=0.1)
    writer.execute("BEGIN IMMEDIATE")
    try:
        locked = client.get("/readyz")
    finally:
        writer.rollback()
        writer.close()

    assert locked.status_code == 503
    assert "cannot take writes" in locked.json()["checks"][0]["detail"]
    assert client.get("/readyz").status_code == 200


def test_readyz_read_only_database_answers_503(client: TestClient, tmp_path: Path) -> None:
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    assert store.engine.url.database is not None
    read_only = build_engine(f"sqlite:///file:{store.engine.url.database}?mode=ro&uri=true")
    client.app.state.store = replace(store, engine=read_only)  # type: ignore[attr-defined]

    response = client.get("/readyz")

    client.app.state.store = store  # type: ignore[attr-defined]
    read_only.dispose()
    assert response.status_code == 503
    assert "cannot take writes" in response.json()["checks"][0]["detail"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True, ids=["postgresql"])
def test_readyz_postgresql_read_only_answers_503(database_url: str, tmp_path: Path) -> None:
    engine = build_engine(database_url)
    upgrade_schema(engine)
    engine.dispose()
    url = make_url(database_url)
    # Every transaction of this client read-only, as on a hot standby.
    options = f"{url.query.get('options', '')} -cdefault_transaction_read_only=on".strip()
    read_only = url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    settings = Settings(
        data_dir=tmp_path, database_url=read_only, secret_key=SecretStr(Fernet.generate_key().decode())
    )

    with TestClient(create_app(settings, enqueuer=RecordingEnqueuer())) as client:
        response = client.get("/readyz")

    assert response.status_code == 503
    assert "cannot take writes" in response.json()["checks"][0]["detail"]


def test_readyz_outdated_schema_answers_503(client: TestClient) -> None:
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    downgrade_schema(store.engine, revision="base")

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"][0]["name"] == "database"


def test_readyz_database_unreachable_answers_503(client: TestClient) -> None:
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    # Nothing listens on port 1: the engine cannot connect.
    unreachable = build_engine("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")
    client.app.state.store = replace(store, engine=unreachable)  # type: ignore[attr-defined]

    response = client.get("/readyz")

    client.app.state.store = store  # type: ignore[attr-defined]
    unreachable.dispose()
    assert response.status_code == 503
    assert "unreachable" in response.json()["checks"][0]["detail"]


def test_unknown_route_answers_the_error_shape(client: TestClient) -> None:
    response = client.get("/no/such/route")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found", "details": {}}}


def test_wrong_method_answers_the_error_shape(client: TestClient) -> None:
    response = client.post("/healthz")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True, ids=["postgresql"])
def test_create_app_outdated_postgres_schema_refuses_to_start(database_url: str) -> None:
    settings = Settings(database_url=database_url, secret_key=SecretStr(Fernet.generate_key().decode()))

    with (
        pytest.raises(SchemaOutdatedError, match="pmbridge db upgrade"),
        TestClient(create_app(settings, enqueuer=RecordingEnqueuer())),
    ):
        pass


def redis_test_url() -> str:
    url = os.environ.get("PMBRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        message = f"Redis at {url} is unreachable ({type(exc).__name__}); set PMBRIDGE_TEST_REDIS_URL"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires Redis: {message}", pytrace=False)
        pytest.skip(message)
    return url


def readyz_with_redis(tmp_path: Path, redis_url: str) -> httpx.Response:
    settings = Settings(
        data_dir=tmp_path, secret_key=SecretStr(Fernet.generate_key().decode()), redis_url=redis_url
    )
    with TestClient(create_app(settings, enqueuer=RecordingEnqueuer())) as client:
        return client.get("/readyz")


def test_readyz_without_redis_configured_checks_only_the_database(client: TestClient) -> None:
    response = client.get("/readyz")

    assert [check["name"] for check in response.json()["checks"]] == ["database"]


def test_readyz_redis_answering_is_ready(tmp_path: Path) -> None:
    response = readyz_with_redis(tmp_path, redis_test_url())

    assert response.status_code == 200
    assert {check["name"]: check["ok"] for check in response.json()["checks"]} == {
        "database": True,
        "redis": True,
    }


def test_readyz_redis_unreachable_answers_503(tmp_path: Path) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    response = readyz_with_redis(tmp_path, "redis://127.0.0.1:1/0")

    assert response.status_code == 503
    redis_check = response.json()["checks"][1]
    assert redis_check["name"] == "redis" and not redis_check["ok"]
    assert redis_check["detail"].startswith("unreachable")


def test_freezing_startup_objects_keeps_them_out_of_later_collections() -> None:
    before = gc.get_freeze_count()
    try:
        freeze_startup_objects()

        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
