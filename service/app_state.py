"""What the running app holds on `app.state` that both the API and the portal read: the store and
the settings, each read with its type, the job queue, and the word that access changed for the API's
caches. A leaf the web layers import; the API's own objects (the authenticator, caches, intake) have
their accessors in `service.api.routers.context`."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request

from service.queue import Enqueuer
from service.settings import Settings
from service.store.runtime import Store


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def enqueuer_of(request: Request) -> Enqueuer:
    """Where jobs are queued (a sync now, a rule run): the job runner, or a test's recorder."""
    enqueuer: Enqueuer = request.app.state.enqueuer
    return enqueuer


class _ForgetsTokens(Protocol):
    def forget(self) -> None: ...


class _ForgetsClients(Protocol):
    def invalidate(self, client_id: int | None = None) -> None: ...


def access_changed(request: Request, *, client_id: int | None = None, tokens: bool = False) -> None:
    """Tell this process's caches of the client API that access changed: a client's scope (or, with
    no `client_id`, a source or project, so every client's), and with `tokens` a token revoked."""
    state = request.app.state
    if tokens:
        authenticator: _ForgetsTokens = state.authenticator
        authenticator.forget()
    snapshots: _ForgetsClients = state.client_snapshots
    snapshots.invalidate(client_id)
