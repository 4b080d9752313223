"""Fixtures for the sandbox core and Jira tests: a tiny seeded sandbox on a frozen clock, in process."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from sandbox.app import Sandbox, create_sandbox_app
from sandbox.emit import CollectingSink
from sandbox.scenarios import build_sandbox
from sandbox.server import LoopbackServer
from tests.support.fakes import FakeClock

FROZEN_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def monotonic() -> FakeClock:
    return FakeClock()


@pytest.fixture
def deliveries() -> CollectingSink:
    return CollectingSink()


@pytest.fixture
def sandbox(deliveries: CollectingSink, monotonic: FakeClock) -> Sandbox:
    return build_sandbox("tiny", 7, now=FROZEN_NOW, sink=deliveries, monotonic=monotonic, with_trello=False)


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[TestClient]:
    with TestClient(
        create_sandbox_app(sandbox),
        base_url="https://sandbox.test",
    ) as client:
        client.auth = (sandbox.jira_email, sandbox.jira_api_token)
        yield client


class Bearer(httpx.Auth):
    """`Authorization: Bearer <token>` on every request: a personal access token is how a Data Center
    client authenticates, so the sandbox answers it as Jira Data Center."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


@pytest.fixture
def dc_api(sandbox: Sandbox) -> Iterator[TestClient]:
    """The same site seen by a Data Center client (the personal access token)."""
    with TestClient(create_sandbox_app(sandbox), base_url="https://sandbox.test") as client:
        client.auth = Bearer(sandbox.jira_pat)
        yield client


@pytest.fixture
def anonymous(sandbox: Sandbox) -> Iterator[TestClient]:
    with TestClient(create_sandbox_app(sandbox), base_url="https://sandbox.test") as client:
        yield client


def hub_signature(secret: str, body: bytes) -> str:
    """An independent computation of X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def sign() -> Callable[[str, bytes], str]:
    return hub_signature


@dataclass
class Receiver:
    """A webhook endpoint on loopback that answers with queued statuses and remembers what it got."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.received.append((dict(request.headers), await request.body()))
            self.arrived.set()
            return Response(status_code=self.statuses.pop(0) if self.statuses else 200)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    with LoopbackServer(hook.app()) as server:
        hook.url = f"{server.base_url}/hook"
        yield hook
