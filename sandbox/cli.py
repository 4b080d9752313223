"""`pmbridge sandbox serve`: both fake APIs on loopback, with their base URLs and credentials printed."""

from __future__ import annotations

import gc
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

sandbox_app = typer.Typer(help="Local fakes of the Jira Cloud and Trello REST APIs.", no_args_is_help=True)


class Scenario(StrEnum):
    tiny = "tiny"
    small = "small"
    large = "large"


@sandbox_app.callback()
def sandbox() -> None:
    """Local fakes of the Jira Cloud and Trello REST APIs."""


@sandbox_app.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.")] = 8765,
    host: Annotated[
        str, typer.Option(help="Interface to listen on (0.0.0.0 in a container other containers reach).")
    ] = "127.0.0.1",
    public_url: Annotated[
        str | None,
        typer.Option(
            help="The URL clients reach the sandbox at (e.g. http://sandbox:8765), used in the links "
            "and connection details it hands out; default: the address it listens on."
        ),
    ] = None,
    scenario: Annotated[Scenario, typer.Option(help="World size: tiny, small or large.")] = Scenario.small,
    seed: Annotated[int, typer.Option(help="Seed of the generated worlds and credentials.")] = 1,
    start: Annotated[
        str | None,
        typer.Option(
            help="Start the clock at this past instant (ISO date or date-time; UTC unless it has an "
            "offset): the worlds are generated as of it, and POST /_sandbox/clock/advance builds history "
            "forward from it. Default: now."
        ),
    ] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate: serve HTTPS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key for --tls-cert.")] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="First stdout line: one JSON object for scripts.")
    ] = False,
) -> None:
    """Serve both APIs until interrupted."""
    import orjson

    from sandbox.app import create_sandbox_app
    from sandbox.clock import ClockError
    from sandbox.scenarios import build_sandbox
    from sandbox.server import LoopbackServer

    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("--tls-cert and --tls-key go together")
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise typer.BadParameter("--public-url must start with http:// or https://")
    start_at = parse_start(start) if start is not None else None
    started = time.perf_counter()
    try:
        sandbox = build_sandbox(scenario.value, seed, start=start_at)
    except ClockError as error:
        raise typer.BadParameter(str(error), param_hint="--start") from None
    # The generated world lives as long as the server: keep it out of every later collection.
    gc.collect()
    gc.freeze()
    server = LoopbackServer(
        create_sandbox_app(sandbox),
        port=port,
        host=host,
        tls_cert=str(tls_cert) if tls_cert else None,
        tls_key=str(tls_key) if tls_key else None,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    with sandbox.dispatcher, server:
        sandbox.bind(public_url or server.base_url)
        info = sandbox.connection_info()
        if json_output:
            sys.stdout.write(orjson.dumps(info).decode() + "\n")
            sys.stdout.flush()
        else:
            _print_human(info, scenario.value, seed, time.perf_counter() - started, sandbox.clock.now())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass


def parse_start(text: str) -> datetime:
    """`2026-09-01` (midnight UTC), `2026-09-01T09:30` (UTC) or an instant with its offset."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO date or date-time", param_hint="--start") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _print_human(info: dict[str, object], scenario: str, seed: int, seconds: float, now: datetime) -> None:
    jira = info["jira"]
    trello = info["trello"]
    assert isinstance(jira, dict)
    typer.echo(
        f"sandbox: scenario {scenario}, seed {seed}, built in {seconds:.1f}s, clock at {now.isoformat()}"
    )
    typer.echo(f"Jira     base URL {jira['base_url']}")
    typer.echo(f"         email {jira['email']}  API token {jira['api_token']}")
    typer.echo(f"         PAT {jira['pat']}  webhook secret {jira['webhook_secret']}")
    if isinstance(trello, dict):
        typer.echo(f"Trello   base URL {trello['base_url']} (clients append /1/...)")
        typer.echo(f"         API key {trello['api_key']}  token {trello['token']}")
        typer.echo(f"         app secret {trello['app_secret']}")
    typer.echo(f"control  {info['control_url']}  (/requests, /clock/advance, /faults, /jira/…, /trello/…)")
    typer.echo("Ctrl-C to stop.")
