"""What every command shares: the settings, and turning service errors into a clear exit.

Commands import what they run inside their own bodies, and this module builds the settings only
when a command first asks for them: `pmbridge version` and `--help` import neither the API, the
store nor the settings (bench/bench_cli_startup.py measures it, and its `--importtime COMMAND`
finds a culprit).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from service.errors import ServiceError

if TYPE_CHECKING:
    from service.settings import Settings
    from service.store.runtime import Store


class LazySettings:
    """The root command's object: the settings, read from the environment (and logging configured)
    the first time a command needs them."""

    def __init__(self) -> None:
        self._settings: Settings | None = None

    def get(self) -> Settings:
        if self._settings is None:
            from service.logging import configure_logging
            from service.settings import Settings

            with fail_on_service_error():
                settings = Settings()
                configure_logging(settings)
            self._settings = settings
        return self._settings


def settings_from(ctx: typer.Context) -> Settings:
    lazy = ctx.find_root().obj
    if not isinstance(lazy, LazySettings):
        raise RuntimeError("settings were not loaded")
    return lazy.get()


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
    from service.store.runtime import open_store

    settings = settings_from(ctx)
    with fail_on_service_error():
        store = open_store(settings)
    try:
        yield store
    finally:
        store.close()


# A secret option given as "-" is read from stdin, so it never shows in `ps` or the shell history.
READ_FROM_STDIN = "-"
STDIN_HELP = 'Or "-" to read it from stdin.'


def secret_from(value: str | None, *, option: str) -> str | None:
    """The option's value, or the next line of stdin when it is "-" (several such options are read one
    line each, in the order the command's help lists them)."""
    if value != READ_FROM_STDIN:
        return value
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        typer.echo(f"error: {option} - expects the secret on stdin", err=True)
        raise typer.Exit(code=2)
    return line
