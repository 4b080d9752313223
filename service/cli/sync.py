"""`pmbridge sync`: sync one source now, with a progress bar and a summary."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.context import fail_on_service_error, opened_store

if TYPE_CHECKING:
    from service.sync.summary import SyncSummary


def sync(
    ctx: typer.Context,
    source: Annotated[int, typer.Option("--source", help="The source id (see `pmbridge sources list`).")],
    full: Annotated[bool, typer.Option("--full", help="Everything, then the delete census.")] = False,
    census: Annotated[
        bool, typer.Option("--census", help="Only the delete census (id-only listing).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
) -> None:
    """Sync one source: incremental since the last run unless --full."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from service.sync.runs import sync_source_now

    with opened_store(ctx) as store, fail_on_service_error():
        if as_json:
            summary = sync_source_now(store, source_id=source, full=full, census=census)
            typer.echo(json.dumps(summary.to_json()))
            return
        console = Console(stderr=True)
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]syncing source {task.fields[source]}"),
            BarColumn(bar_width=None),
            TextColumn("{task.completed} items"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("sync", total=None, source=source)
            summary = sync_source_now(
                store,
                source_id=source,
                full=full,
                census=census,
                progress=lambda n: progress.advance(task, n),
            )
        _print_summary(summary)


def _print_summary(summary: SyncSummary) -> None:
    typer.echo(
        f"{summary.kind} sync of source {summary.source_id}: {summary.status} in {summary.duration_s:.1f}s\n"
        f"  items seen {summary.items_seen}, changed {summary.items_changed}, "
        f"changes added {summary.changes_added}, deleted {summary.items_deleted}, "
        f"hidden {summary.items_hidden}\n"
        f"  worklogs written {summary.worklogs_written}, deleted {summary.worklogs_deleted}\n"
        f"  API calls: {summary.api_calls.get('total', 0)}"
    )
    for endpoint, statuses in sorted(summary.api_calls.get("by_endpoint", {}).items()):
        counts = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
        typer.echo(f"    {endpoint}  ({counts})")
    for error in summary.errors:
        typer.echo(f"  warning: {error}")
