"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from service import __version__
from service.api.direct_route import DirectRoutingApp
from service.api.errors import install_error_handlers
from service.api.health import router as health_router
from service.api.middleware import RequestContextMiddleware
from service.api.routers import install_routers, start_api_state
from service.api.routers.digest import router as digest_router
from service.api.webhooks import router as webhooks_router
from service.api.webhooks_trello import router as trello_webhooks_router
from service.queue import Enqueuer
from service.settings import Settings
from service.store.runtime import open_store
from service.webhooks.intake import WebhookIntake
from service.webhooks.trigger import DeliveryTrigger


def create_app(settings: Settings, *, enqueuer: Enqueuer, extra_routers: Sequence[APIRouter] = ()) -> FastAPI:
    """Build the app; the lifespan opens the store (refusing an outdated schema) and closes it.

    `enqueuer` triggers jobs; the entrypoint wires the job runner in (the API never imports it).
    `extra_routers` are included last: the entrypoint adds the portal's pages this way, as the API
    does not import the portal either.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings)
        app.state.store = store
        intake = WebhookIntake(store)
        app.state.webhook_intake = intake
        trigger = DeliveryTrigger(enqueuer)
        app.state.delivery_trigger = trigger
        close_api_state = start_api_state(app, store, settings)
        try:
            yield
        finally:
            trigger.close()
            close_api_state()
            intake.close()
            store.close()

    app = DirectRoutingApp(
        title="pmbridge",
        version=__version__,
        summary="Delivery progress, promises and risks from Jira and Trello, for an agency's clients.",
        lifespan=lifespan,
        # /metrics serves Prometheus; FastAPI's own OpenTelemetry hooks would look up the global
        # providers on every request for nothing.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.enqueuer = enqueuer
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    # Routes are matched in order: the hot paths (webhook intake, then the feed) come first.
    app.include_router(webhooks_router)
    app.include_router(trello_webhooks_router)
    install_routers(app)
    app.include_router(health_router)
    app.include_router(digest_router)
    for router in extra_routers:
        app.include_router(router)
    return app


def freeze_startup_objects() -> None:
    """Call once a serving process has built its app: everything loaded so far (modules, routes,
    models) lives as long as the process, so the cyclic collector stops re-scanning it, and its
    pauses on the request path stay short."""
    gc.collect()
    gc.freeze()
