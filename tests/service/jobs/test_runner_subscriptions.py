"""The tick drains due event subscriptions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.server import LoopbackServer
from service.feed.subscriptions import verify_signature
from service.jobs.runner import JobRunner
from service.settings import Settings
from service.store.db import transaction
from service.store.subscriptions import CREATED_BY_CLIENT, add_subscription
from service.store.tenancy import add_client
from tests.support.api import add_feed_event


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[JobRunner]:
    settings = Settings(
        data_dir=tmp_path,
        secret_key=SecretStr(Fernet.generate_key().decode()),
        allow_private_source_urls=True,
    )
    job_runner = JobRunner(settings, immediate=True)
    yield job_runner
    job_runner.close()


def test_tick_delivers_new_events_to_a_subscription(runner: JobRunner) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    now = datetime.now(UTC)
    with LoopbackServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as server:
        with transaction(runner.store.sessions) as session:
            client = add_client(session, name="acme", now=now)
            assert client.id is not None
            created = add_subscription(
                session,
                cipher=runner.store.cipher,
                client_id=client.id,
                url=f"{server.base_url}/hook",
                created_by=CREATED_BY_CLIENT,
                now=now,
            )
        add_feed_event(runner.store, client_id=client.id, project_id=None, summary="shipped")

        runner.run_tick(now)

    [(headers, body)] = received
    assert verify_signature(
        created.secret, headers["x-pmbridge-timestamp"], body, headers["x-pmbridge-signature"], now=now
    )
