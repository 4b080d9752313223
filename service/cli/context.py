"""What every command shares: the settings, and turning service errors into a clear exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from service.errors import ServiceError
from service.settings import Settings
from service.store.runtime import Store, open_store


def settings_from(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    settings = root.obj
    if not isinstance(settings, Settings):
        raise RuntimeError("settings were not loaded")
    return settings


@contextmanager
def fail_on_service_error() -> Iterator[None]:
    """A service error ends the command with its message on stderr and exit code 1."""
    try:
        yield
    except ServiceError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(code=1) from exc


@contextmanager
def opened_store(ctx: typer.Context) -> Iterator[Store]:
    """The store for a command; refuses an outdated schema (the embedded default upgrades itself)."""
    with fail_on_service_error():
        store = open_store(settings_from(ctx))
    try:
        yield store
    finally:
        store.close()
