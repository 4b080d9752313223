"""`pmbridge flags`: evaluate the rules now, list flags, triage them (ack, snooze, dismiss), publish
them to clients or keep them internal, drain the push-back; `pmbridge push`: a project's push-back
opt-in and budget."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from service.cli.context import fail_on_service_error, opened_store, settings_from
from service.errors import NotFoundError

if TYPE_CHECKING:
    from service.flags.listing import ListedFlag

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


def _row(listed: ListedFlag, *, now: datetime) -> dict[str, Any]:
    flag = listed.flag
    triage = flag.triage_at(now)
    return {
        "id": flag.id,
        "rule": flag.rule_id,
        "subject": flag.subject.value,
        "subject_key": listed.subject_key,
        "severity": flag.severity.value,
        "state": flag.state.value,
        "pushed": flag.pushed_comment_id is not None,
        "published": flag.published,
        "client_text": flag.client_text,
        "message": flag.message,
        "first_seen_at": flag.first_seen_at.isoformat(),
        "triage": None if triage is None else triage.value,
        "triage_reason": None if flag.triage_reason is None else flag.triage_reason.value,
        "triaged_by": flag.triaged_by,
        "triaged_at": None if flag.triaged_at is None else flag.triaged_at.isoformat(),
        "snoozed_until": None if flag.snoozed_until is None else flag.snoozed_until.isoformat(),
        "dismissed_fingerprint": flag.dismissed_fingerprint,
        "push_state": listed.push.state.value,
        "push_waiting_reason": None if listed.push.reason is None else listed.push.reason.value,
    }


def _line(row: dict[str, Any]) -> str:
    push = (
        row["push_state"] if row["push_waiting_reason"] is None else f"waiting:{row['push_waiting_reason']}"
    )
    triage = row["triage"] or row["state"]
    return (
        f"{row['id']}\t{row['severity']}\t{row['rule']}\t{row['subject_key']}\t{triage}\t{push}\t"
        f"{row['message']}"
    )


@flags_app.command("list")
def list_(
    ctx: typer.Context,
    client: Annotated[str | None, typer.Option("--client", help="Flags of this client's projects.")] = None,
    project: Annotated[str | None, typer.Option("--project", help="Flags of this project (its key).")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Flags of this rule.")] = None,
    severity: Annotated[str | None, typer.Option("--severity", help="info, warning or critical.")] = None,
    state: Annotated[
        str,
        typer.Option(
            "--state",
            help="open (neither snoozed nor dismissed), resolved, acknowledged, snoozed, dismissed, or all.",
        ),
    ] = "open",
    published: Annotated[
        bool | None,
        typer.Option("--published/--unpublished", help="Only flags shown to clients, or only internal ones."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List flags (the open ones by default), each with where its comment stands and, while it
    waits, why: budget, quiet_hours, below_min_severity, below_min_precision, snoozed, dismissed,
    rule_not_pushed, push_disabled."""
    from service.flags.listing import FlagFilter, list_flags_for_operator
    from service.flags.push_policy import parse_severity
    from service.flags.triage import parse_list_state

    now = datetime.now(UTC)
    with fail_on_service_error(), opened_store(ctx) as store, store.sessions() as session:
        filters = FlagFilter(
            client=client,
            project=project,
            rule=rule,
            severity=None if severity is None else parse_severity(severity, field="severity"),
            state=None if state == "all" else parse_list_state(state),
            published=published,
        )
        rows = [
            _row(f, now=now) for f in list_flags_for_operator(session, filters=filters, now=now, limit=None)
        ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(_line(row))


def _triaged(ctx: typer.Context, *, as_json: bool, verb: str, step: Any) -> None:
    """Run one step on a flag (triage, publication) in a transaction and print the flag as it is
    after it, in the row shape of `flags list --json`."""
    from service.flags.listing import ListedFlag
    from service.flags.push_queue import read_push_statuses
    from service.store.db import transaction
    from service.store.flags import list_subject_keys

    now = datetime.now(UTC)
    with fail_on_service_error(), opened_store(ctx) as store, transaction(store.sessions) as session:
        flag = step(session, now)
        assert flag.id is not None
        listed = ListedFlag(
            flag=flag,
            subject_key=list_subject_keys(session, flags=[flag])[flag.id],
            push=read_push_statuses(session, flags=[flag], now=now)[flag.id],
        )
        row = _row(listed, now=now)
    if as_json:
        typer.echo(json.dumps(row))
        return
    typer.echo(f"flag {row['id']} {verb}")


@flags_app.command("ack")
def ack(
    ctx: typer.Context,
    flag_id: Annotated[int, typer.Argument(metavar="ID", help="The flag's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the flag as one JSON object.")] = False,
) -> None:
    """Acknowledge a flag: it is right. An open flag stays open and counted."""
    from service.flags.triage import acknowledge

    _triaged(
        ctx,
        as_json=as_json,
        verb="acknowledged",
        step=lambda s, now: acknowledge(s, flag_id=flag_id, now=now),
    )


@flags_app.command("snooze")
def snooze_(
    ctx: typer.Context,
    flag_id: Annotated[int, typer.Argument(metavar="ID", help="The flag's id.")],
    until: Annotated[
        str, typer.Option("--until", help="YYYY-MM-DD (from 00:00 UTC) or an ISO datetime, in the future.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the flag as one JSON object.")] = False,
) -> None:
    """Snooze a flag: open, but neither pushed nor listed as open until then."""
    from service.flags.triage import snooze

    _triaged(
        ctx,
        as_json=as_json,
        verb=f"snoozed until {until}",
        step=lambda s, now: snooze(s, flag_id=flag_id, until=until, now=now),
    )


@flags_app.command("dismiss")
def dismiss_(
    ctx: typer.Context,
    flag_id: Annotated[int, typer.Argument(metavar="ID", help="The flag's id.")],
    reason: Annotated[str, typer.Option("--reason", help="false_positive, known or not_client_relevant.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the flag as one JSON object.")] = False,
) -> None:
    """Dismiss a flag for its evidence: the same finding raises nothing again; new evidence does."""
    from service.flags.triage import dismiss

    _triaged(
        ctx,
        as_json=as_json,
        verb=f"dismissed ({reason})",
        step=lambda s, now: dismiss(s, flag_id=flag_id, reason=reason, now=now),
    )


@flags_app.command("publish")
def publish(
    ctx: typer.Context,
    flag_id: Annotated[int, typer.Argument(metavar="ID", help="The flag's id.")],
    text: Annotated[
        str,
        typer.Option("--text", help="The wording the clients who see its subject read (1-2000 characters)."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the flag as one JSON object.")] = False,
) -> None:
    """Show a flag to the clients who see its subject, in --text (never the rule's words); their feed
    gets a `risk_raised` event when an open flag becomes visible or its wording changes."""
    from service.flags.publishing import publish_risk

    _triaged(
        ctx,
        as_json=as_json,
        verb="published",
        step=lambda s, now: publish_risk(s, flag_id=flag_id, client_text=text, now=now),
    )


@flags_app.command("unpublish")
def unpublish(
    ctx: typer.Context,
    flag_id: Annotated[int, typer.Argument(metavar="ID", help="The flag's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the flag as one JSON object.")] = False,
) -> None:
    """Keep a flag internal again; clients who were shown it open read that it was withdrawn."""
    from service.flags.publishing import keep_risk_internal

    _triaged(
        ctx,
        as_json=as_json,
        verb="kept internal",
        step=lambda s, now: keep_risk_internal(s, flag_id=flag_id, now=now),
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
    max_per_day: Annotated[
        int | None, typer.Option("--max-per-day", help="New comments a day (default 5).", min=0)
    ] = None,
    quiet_hours: Annotated[
        str | None,
        typer.Option("--quiet-hours", help="HH:MM-HH:MM local times with no new comment, or none."),
    ] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="IANA zone of the day and quiet hours (default UTC).")
    ] = None,
    min_severity: Annotated[
        str | None, typer.Option("--min-severity", help="info, warning (default) or critical.")
    ] = None,
    min_precision: Annotated[
        float | None,
        typer.Option(
            "--min-precision",
            help="No comment for rules below this precision in the latest backtest (default 0.8).",
            min=0.0,
            max=1.0,
        ),
    ] = None,
) -> None:
    """Opt a project in to push-back; its open flags are queued at once. Budget options not given
    keep their value (defaults: 5 new comments a day, no quiet hours, UTC, warning and above, rules
    of backtested precision 0.8 and above)."""
    from service.flags.push_queue import enable_push, read_push_policy
    from service.store.db import transaction
    from service.store.projects import find_project_by_key

    with fail_on_service_error(), opened_store(ctx) as store, transaction(store.sessions) as session:
        found = find_project_by_key(session, key=project)
        if found is None or found.id is None:
            raise NotFoundError(f"no project with key {project!r}", details={"project": project})
        queued = enable_push(
            session,
            project_id=found.id,
            dry_run=dry_run,
            now=datetime.now(UTC),
            max_per_day=max_per_day,
            quiet_hours=quiet_hours,
            timezone=timezone,
            min_severity=min_severity,
            min_precision=min_precision,
        )
        policy = read_push_policy(session, project_id=found.id)
    mode = "dry run" if dry_run else "live"
    quiet = policy.quiet_hours_text or "none"
    typer.echo(
        f"push-back enabled for {project} ({mode}); {queued} open flag(s) queued; at most "
        f"{policy.max_per_day} new comment(s) a day, quiet hours {quiet} ({policy.timezone}), "
        f"{policy.min_severity.value} and above, from rules of backtested precision "
        f"{policy.min_precision:g} and above"
    )


@push_app.command("disable")
def disable(
    ctx: typer.Context,
    project: Annotated[str, typer.Option("--project", help="The project key.")],
) -> None:
    """Stop pushing comments for a project (comments already posted stay)."""
    from service.flags.push_queue import disable_push
    from service.store.db import transaction
    from service.store.projects import find_project_by_key

    with fail_on_service_error(), opened_store(ctx) as store, transaction(store.sessions) as session:
        found = find_project_by_key(session, key=project)
        if found is None or found.id is None:
            raise NotFoundError(f"no project with key {project!r}", details={"project": project})
        disable_push(session, project_id=found.id)
    typer.echo(f"push-back disabled for {project}")
