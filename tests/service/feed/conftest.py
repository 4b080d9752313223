"""A local receiver for subscription deliveries: records every request, answers scripted statuses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.server import LoopbackServer


@dataclass(frozen=True, slots=True)
class ReceivedDelivery:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    base_url: str = ""
    received: list[ReceivedDelivery] = field(default_factory=list)
    # Statuses answered in turn; 200 once they run out.
    statuses: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.base_url}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    recorded = Receiver()

    async def hook(request: Request) -> Response:
        recorded.received.append(
            ReceivedDelivery(path=request.url.path, headers=dict(request.headers), body=await request.body())
        )
        status = recorded.statuses.pop(0) if recorded.statuses else 200
        headers = {"Location": f"{recorded.base_url}/elsewhere"} if 300 <= status < 400 else None
        return Response(status_code=status, headers=headers)

    app = Starlette(
        routes=[Route("/hook", hook, methods=["POST"]), Route("/elsewhere", hook, methods=["POST"])]
    )
    with LoopbackServer(app) as server:
        recorded.base_url = server.base_url
        yield recorded
