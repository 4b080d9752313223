"""The `pmbridge` command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sandbox.cli import sandbox_app
from service.cli.clients import clients_app
from service.cli.context import LazySettings, fail_on_service_error, settings_from
from service.cli.db import db_app
from service.cli.demo import demo
from service.cli.digest import digest
from service.cli.feedback import feedback_app
from service.cli.flags import flags_app, push_app
from service.cli.rules import rules_app
from service.cli.sources import sources_app
from service.cli.sync import sync
from service.cli.tokens import tokens_app

if TYPE_CHECKING:
    from service.settings import Settings

app = typer.Typer(
    name="pmbridge",
    help="Delivery progress, promises and risks from Jira and Trello, for an agency's clients.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: Rich's formatter doubles the time `pmbridge --help` takes to answer.
    rich_markup_mode=None,
)
app.add_typer(db_app, name="db")
app.add_typer(sources_app, name="sources")
app.add_typer(rules_app, name="rules")
app.add_typer(flags_app, name="flags")
app.add_typer(push_app, name="push")
app.add_typer(feedback_app, name="feedback")
app.add_typer(clients_app, name="clients")
app.add_typer(tokens_app, name="tokens")
app.add_typer(sandbox_app, name="sandbox", help="Local fakes of the Jira Cloud and Trello APIs.")
app.command("sync")(sync)
app.command("demo")(demo)
app.command("digest")(digest)

DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")


@app.callback()
def _root(ctx: typer.Context) -> None:
    ctx.obj = LazySettings()


@app.command()
def version() -> None:
    """Print the pmbridge version."""
    from service import __version__

    typer.echo(__version__)


@app.command("secret-key")
def secret_key() -> None:
    """Print a new key for PMBRIDGE_SECRET_KEY (credential encryption)."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    no_worker: Annotated[
        bool,
        typer.Option("--no-worker", help="Serve the API only; `pmbridge worker` processes run the jobs."),
    ] = False,
) -> None:
    """Run the HTTP API, with an embedded job worker unless --no-worker."""
    import uvicorn

    from service.api.app import create_app, freeze_startup_objects
    from service.console import console_router
    from service.jobs.runner import JobRunner
    from service.portal import portal_router
    from service.store.runtime import prepare_schema

    settings = settings_from(ctx)
    with fail_on_service_error():
        settings.validate_for_startup()
        prepare_schema(settings)
        runner = JobRunner(settings)
        consumer = None if no_worker else runner.start_embedded_consumer()
        app = create_app(settings, enqueuer=runner, extra_routers=[portal_router(), console_router()])
        freeze_startup_objects()
        try:
            uvicorn.run(
                app,
                host=host,
                port=port,
                log_level=settings.log_level.lower(),
            )
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)
            runner.close()


@app.command()
def worker(
    ctx: typer.Context,
    threads: Annotated[
        int | None, typer.Option(help="Worker threads (default: PMBRIDGE_WORKER_THREADS).")
    ] = None,
) -> None:
    """Run a job worker: syncs, webhook processing, the periodic tick. Stops gracefully on SIGINT/SIGTERM."""
    from service.jobs.runner import JobRunner
    from service.store.runtime import prepare_schema

    settings = settings_from(ctx)
    with fail_on_service_error():
        settings.validate_for_startup()
        prepare_schema(settings)
        runner = JobRunner(settings)
        try:
            runner.create_consumer(workers=threads).run()
        finally:
            runner.close()


def render_openapi(settings: Settings) -> str:
    from service.api.app import create_app
    from service.jobs.runner import JobRunner

    schema = create_app(settings, enqueuer=JobRunner(settings, immediate=True)).openapi()
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


@app.command()
def openapi(
    ctx: typer.Context,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write it; '-' for standard output.")
    ] = DEFAULT_OPENAPI_PATH,
) -> None:
    """Write the API contract (OpenAPI JSON) that is committed as openapi/openapi.json."""
    document = render_openapi(settings_from(ctx))
    if str(output) == "-":
        sys.stdout.write(document)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(document)
    typer.echo(f"wrote {output}")


def main() -> None:
    app()
