"""`pmbridge demo`: the whole service on one machine, on a generated agency that keeps changing."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from service.cli.context import settings_from

DEFAULT_PORT = 8000


def demo(
    ctx: typer.Context,
    duration: Annotated[
        float | None,
        typer.Option(
            help="Run this many seconds once started (start-up comes first and is reported); "
            "default: until Ctrl-C."
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help=f"API port on 127.0.0.1 (default {DEFAULT_PORT}, or a free one when it is taken; "
            "0 picks a free one)."
        ),
    ] = None,
    scenario: Annotated[str, typer.Option(help="Agency size: tiny, small or large.")] = "small",
    seed: Annotated[int, typer.Option(help="Seed of the generated agency.")] = 1,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the closing summary as one JSON object.")
    ] = False,
) -> None:
    """Run the sandbox agency, pmbridge's API and worker on a fresh embedded database, and watch the
    feed, flags and Jira comments move as the agency's work changes."""
    started = time.monotonic()
    from service.cli.demo_run import DemoOptions, run_demo

    run_demo(
        started,
        settings_from(ctx),
        DemoOptions(
            duration_s=duration,
            port=port,
            default_port=DEFAULT_PORT,
            scenario=scenario,
            seed=seed,
            as_json=as_json,
        ),
    )
