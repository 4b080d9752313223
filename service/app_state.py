"""What the running app holds on `app.state` that both the API and the portal read: the store and
the settings, each read with its type. A leaf the web layers import; the API's own objects (the
authenticator, caches, intake) have their accessors in `service.api.routers.context`."""

from __future__ import annotations

from starlette.requests import Request

from service.settings import Settings
from service.store.runtime import Store


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings
