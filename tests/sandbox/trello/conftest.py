from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
import requests
from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from sandbox.clock import SandboxClock
from sandbox.emit import CollectingSink
from sandbox.server import LoopbackServer
from sandbox.trello.control import trello_control_routes
from sandbox.trello.routes import trello_routes
from sandbox.trello.scenario import populate_trello
from sandbox.trello.state import TrelloWorld

API_KEY = "0123456789abcdef0123456789abcdef"
TOKEN = "ATTA" + "c0ffee" * 12
APP_SECRET = "f" * 64
NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def make_world(
    *, boards: int = 2, cards_per_board: int = 25, seed: int = 11
) -> tuple[TrelloWorld, CollectingSink]:
    sink = CollectingSink()
    world = TrelloWorld(
        clock=SandboxClock(frozen_at=NOW), sink=sink, api_key=API_KEY, token=TOKEN, app_secret=APP_SECRET
    )
    populate_trello(
        world,
        random.Random(seed),
        clients=["Acme", "Globex"],
        boards=boards,
        cards_per_board=cards_per_board,
        days_of_history=60,
    )
    return world, sink


def make_app(world: TrelloWorld) -> Starlette:
    return Starlette(
        routes=[*trello_routes(world), Mount("/_sandbox/trello", routes=trello_control_routes(world))]
    )


@pytest.fixture
def world_and_sink() -> tuple[TrelloWorld, CollectingSink]:
    return make_world()


@pytest.fixture
def world(world_and_sink: tuple[TrelloWorld, CollectingSink]) -> TrelloWorld:
    return world_and_sink[0]


@pytest.fixture
def sink(world_and_sink: tuple[TrelloWorld, CollectingSink]) -> CollectingSink:
    return world_and_sink[1]


class SyncASGITransport(httpx.BaseTransport):
    """Drives an ASGI app from a synchronous httpx.Client through an anyio portal."""

    def __init__(self, app: ASGIApp, portal: BlockingPortal) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            response = await self._asgi.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return self._portal.call(call)


@pytest.fixture
def client(world: TrelloWorld) -> Iterator[httpx.Client]:
    with start_blocking_portal() as portal:
        transport = SyncASGITransport(make_app(world), portal)
        with httpx.Client(transport=transport, base_url="https://api.trello.com") as http:
            yield http


@pytest.fixture
def auth() -> dict[str, str]:
    return {"key": API_KEY, "token": TOKEN}


@dataclass
class Receiver:
    """A webhook callback: answers HEAD with `head_status`, records POSTs."""

    head_status: int = 200
    posts: list[tuple[dict[str, str], bytes, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            if request.method == "HEAD":
                return Response(status_code=self.head_status)
            body = await request.body()
            with self.lock:
                self.posts.append((dict(request.headers), body, str(request.url)))
            return Response(status_code=200)

        return Starlette(routes=[Route("/hooks/trello", hook, methods=["HEAD", "POST"])])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    with LoopbackServer(found.app()) as server:
        found.base_url = server.base_url
        yield found


@pytest.fixture(scope="session")
def big_world() -> TrelloWorld:
    """One board with well over 1,000 actions; read-only: tests must not change it."""
    world, _ = make_world(boards=1, cards_per_board=260, seed=5)
    world.rate_limiter.enabled = False
    return world


@pytest.fixture(scope="session")
def big_client(big_world: TrelloWorld) -> Iterator[httpx.Client]:
    with start_blocking_portal() as portal:
        transport = SyncASGITransport(make_app(big_world), portal)
        with httpx.Client(transport=transport, base_url="https://api.trello.com") as http:
            yield http


@pytest.fixture(scope="session")
def scenario_world() -> TrelloWorld:
    """Four boards (two per client, so cards move between sibling boards); read-only."""
    world, _ = make_world(boards=4, cards_per_board=150, seed=3)
    return world


class RedirectingHttp:
    """A `requests`-compatible `http_service` for py-trello: its hard-coded hosts go to the sandbox.

    py-trello builds `https://api.trello.com/1/...` and posts webhooks to `https://trello.com/1/...`.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.urls: list[str] = []

    def _rewrite(self, url: str) -> str:
        for host in ("https://api.trello.com", "https://trello.com"):
            if url.startswith(host):
                url = self.base_url + url[len(host) :]
        self.urls.append(url)
        return url

    def request(self, method: str, url: str, **kwargs: object) -> requests.Response:
        return requests.request(method, self._rewrite(url), timeout=10, **kwargs)  # type: ignore[arg-type]

    def post(self, url: str, **kwargs: object) -> requests.Response:
        return requests.post(self._rewrite(url), timeout=10, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def served_world() -> Iterator[tuple[TrelloWorld, str]]:
    world, _ = make_world(boards=2, cards_per_board=40, seed=21)
    with LoopbackServer(make_app(world)) as server:
        yield world, server.base_url


@pytest.fixture
def trello_http(served_world: tuple[TrelloWorld, str]) -> RedirectingHttp:
    return RedirectingHttp(served_world[1])
