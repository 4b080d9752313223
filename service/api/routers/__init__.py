"""HTTP routers: the client API under /v1 and the operator API under /admin.

`install_routers` adds them with the body-size limit; `start_api_state` builds what they share per
process (token checks, client snapshots, the feed reader) once the store is open.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from service.api.auth import Authenticator, LastUseRecorder
from service.api.limits import BodySizeLimit
from service.api.routers import (
    admin_feedback,
    admin_ops,
    admin_rules,
    admin_sources,
    admin_subscriptions,
    admin_tenancy,
    client,
    feed,
    feedback,
    subscriptions,
)
from service.feed.cursor import FeedCursorCodec
from service.feed.paging import FeedReader
from service.feed.snapshots import ClientSnapshots
from service.ratelimit import RateLimiter
from service.settings import Settings
from service.store.runtime import Store


def install_routers(app: FastAPI) -> None:
    app.add_middleware(BodySizeLimit)
    # The feed first: routes are matched in order, and it is the hot path.
    for module in (
        feed,
        client,
        feedback,
        subscriptions,
        admin_tenancy,
        admin_sources,
        admin_subscriptions,
        admin_ops,
        admin_feedback,
        admin_rules,
    ):
        app.include_router(module.router)


def start_api_state(app: FastAPI, store: Store, settings: Settings) -> Callable[[], None]:
    """Put the per-process API state on `app.state`; returns what closes it."""
    limiter = RateLimiter(per_second=settings.rate_limit_per_second, burst=settings.rate_limit_burst)
    last_use = LastUseRecorder(store)
    last_use.start()
    app.state.authenticator = Authenticator(
        store, cache_seconds=settings.auth_cache_seconds, limiter=limiter, last_use=last_use
    )
    app.state.client_snapshots = ClientSnapshots(store, ttl_seconds=settings.auth_cache_seconds)
    reader = FeedReader(store, FeedCursorCodec(settings.secret_keys[0]))
    app.state.feed_reader = reader

    def close() -> None:
        reader.close()
        last_use.close()

    return close
