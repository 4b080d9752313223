"""pmbridge: the application."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # The version is read from the installed package's metadata only when asked for: importlib.metadata
    # costs every command of the CLI a few hundredths of a second at start-up otherwise.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("pmbridge")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"
