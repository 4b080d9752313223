"""`pmbridge flags`: evaluate the rules now and list the open flags."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from service.cli.context import fail_on_service_error, opened_store, settings_from
from service.errors import NotFoundError

flags_app = typer.Typer(help="Risk flags: evaluate, list, push to Jira.", no_args_is_help=True)


@flags_app.command("evaluate")
def evaluate(
    ctx: typer.Context,
    source: Annotated[int | None, typer.Option("--source", help="Only this source's projects.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array, one object per project.")
    ] = False,
) -> None:
    """Evaluate the rules over stored data now (the worker does it after syncs and on the tick)."""
    from service.flags.run import evaluate_projects

    settings = settings_from(ctx)
    with fail_on_service_error(), opened_store(ctx) as store:
        summaries = evaluate_projects(
            store, now=datetime.now(UTC), rules_dir=settings.rules_dir, source_id=source
        )
    if as_json:
        typer.echo(json.dumps([s.to_json() for s in summaries]))
        return
    for s in summaries:
        typer.echo(
            f"project {s.project_id}: {s.findings} finding(s) — opened {s.opened}, updated {s.updated}, "
            f"resolved {s.resolved}; {s.commitments} commitment(s), {s.feed_events} new feed event(s)"
        )
        for failure in s.failures:
            typer.echo(f"  rule failure: {failure}")


@flags_app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List open flags."""
    from service.domain.enums import FlagState
    from service.store.flags import list_flags, list_subject_keys

    with opened_store(ctx) as store, store.sessions() as session:
        flags = list_flags(session, state=FlagState.OPEN, limit=None)
        subject_keys = list_subject_keys(session, flags=flags)
        rows = [
            {
                "id": f.id,
                "rule": f.rule_id,
                "subject": f.subject.value,
                "subject_key": subject_keys[f.id or 0],
                "severity": f.severity.value,
                "state": f.state.value,
                "pushed": f.pushed_comment_id is not None,
                "published": f.published,
                "message": f.message,
                "first_seen_at": f.first_seen_at.isoformat(),
            }
            for f in flags
        ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        pushed = "pushed" if row["pushed"] else "-"
        typer.echo(
            f"{row['id']}\t{row['severity']}\t{row['rule']}\t{row['subject_key']}\t{pushed}\t{row['message']}"
        )


@flags_app.command("push")
def push(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
) -> None:
    """Post or edit the comments of flags now (the worker drains the same queue on its own)."""
    from service.flags.push import drain_pushes

    with fail_on_service_error(), opened_store(ctx) as store:
        summary = drain_pushes(store, now=datetime.now(UTC))
    if as_json:
        typer.echo(json.dumps(summary.to_json()))
        return
    typer.echo(" ".join(f"{key} {value}" for key, value in summary.to_json().items()))


push_app = typer.Typer(
    help="Push-back of flags as provider comments, opt-in per project.", no_args_is_help=True
)


@push_app.command("enable")
def enable(
    ctx: typer.Context,
    project: Annotated[
        str, typer.Option("--project", help="The project key (Jira key or board short link).")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Render comments without posting them.")] = False,
) -> None:
    """Opt a project in to push-back; its open flags are queued at once."""
    from service.flags.push import enable_push
    from service.store.db import transaction
    from service.store.projects import find_project_by_key

    with fail_on_service_error(), opened_store(ctx) as store, transaction(store.sessions) as session:
        found = find_project_by_key(session, key=project)
        if found is None or found.id is None:
            raise NotFoundError(f"no project with key {project!r}", details={"project": project})
        queued = enable_push(session, project_id=found.id, dry_run=dry_run, now=datetime.now(UTC))
    mode = "dry run" if dry_run else "live"
    typer.echo(f"push-back enabled for {project} ({mode}); {queued} open flag(s) queued")


@push_app.command("disable")
def disable(
    ctx: typer.Context,
    project: Annotated[str, typer.Option("--project", help="The project key.")],
) -> None:
    """Stop pushing comments for a project (comments already posted stay)."""
    from service.flags.push import disable_push
    from service.store.db import transaction
    from service.store.projects import find_project_by_key

    with fail_on_service_error(), opened_store(ctx) as store, transaction(store.sessions) as session:
        found = find_project_by_key(session, key=project)
        if found is None or found.id is None:
            raise NotFoundError(f"no project with key {project!r}", details={"project": project})
        disable_push(session, project_id=found.id)
    typer.echo(f"push-back disabled for {project}")
