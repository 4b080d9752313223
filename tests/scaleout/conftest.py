"""A scaled-out pmbridge on this machine: PostgreSQL, Redis, `serve --no-worker` and `worker`
processes as real subprocesses. Skipped without Redis or PostgreSQL, except under CI=true."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet
from pydantic import SecretStr

from service.settings import Settings
from tests.scaleout.cluster import Cluster

REDIS_URL = os.environ.get("PMBRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis at {REDIS_URL} is unreachable ({type(exc).__name__}); set PMBRIDGE_TEST_REDIS_URL"
        if IN_CI:
            pytest.fail(f"CI=true requires Redis: {message}", pytrace=False)
        pytest.skip(message)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def cluster(tmp_path: Path, database_url: str, redis_url: str) -> Iterator[Cluster]:
    """An empty, migrated PostgreSQL schema and a Redis queue of this test's own; no process yet."""
    secret_key = Fernet.generate_key().decode()
    queue_name = f"pmbridge-scaleout-{uuid.uuid4().hex[:12]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PMBRIDGE_")},
        "PMBRIDGE_DATABASE_URL": database_url,
        "PMBRIDGE_SECRET_KEY": secret_key,
        "PMBRIDGE_REDIS_URL": redis_url,
        "PMBRIDGE_QUEUE_NAME": queue_name,
        "PMBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "PMBRIDGE_ALLOW_PRIVATE_SOURCE_URLS": "true",
        "PMBRIDGE_LOG_FORMAT": "json",
        "PMBRIDGE_LOG_LEVEL": "INFO",
        "PMBRIDGE_WORKER_THREADS": "2",
    }
    settings = Settings(
        database_url=database_url,
        secret_key=SecretStr(secret_key),
        redis_url=redis_url,
        queue_name=queue_name,
        data_dir=tmp_path / "data",
        allow_private_source_urls=True,
    )
    deployment = Cluster(settings=settings, env=env, workdir=tmp_path)
    deployment.upgrade_database()
    try:
        yield deployment
    finally:
        deployment.stop()
