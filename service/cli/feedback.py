"""`pmbridge feedback`: read the clients' ratings and mark them handled (as `GET /admin/feedback`
and `POST /admin/feedback/{id}/handled`; the logic is `service.feed.feedback_admin`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from service.cli.context import fail_on_service_error, opened_store

feedback_app = typer.Typer(help="Client feedback: list it, mark it handled.", no_args_is_help=True)


def _line(row: dict[str, Any]) -> str:
    about = "period"
    if row["milestone"] is not None:
        about = f"milestone {row['milestone']['project_key']}/{row['milestone']['name']}"
    elif row["event"] is not None:
        event = row["event"]
        where = event["item_key"] or event["project_key"] or "-"
        about = f"event {event['id']} ({where}): {event['summary']}"
    elif row["subject"] != "period":
        about = f"{row['subject']} (gone)"
    handled = "handled" if row["handled"] else "unhandled"
    comment = row["comment"] or ""
    return (
        f"{row['id']}\t{row['created_at'][:10]}\t{row['client']['name']}\t{row['rating']}/5\t{handled}\t"
        f"{about}\t{comment}"
    )


@feedback_app.command("list")
def list_(
    ctx: typer.Context,
    client: Annotated[
        str | None, typer.Option("--client", help="Feedback of this client (its name).")
    ] = None,
    project: Annotated[
        str | None,
        typer.Option("--project", help="Feedback on this project's milestones and events (its key)."),
    ] = None,
    milestone: Annotated[
        int | None, typer.Option("--milestone", help="Ratings of this milestone (its id).")
    ] = None,
    handled: Annotated[
        bool | None,
        typer.Option(
            "--handled/--unhandled", help="Only handled, or only unhandled, feedback (default: all)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List client feedback, newest first, with what each rating refers to (a milestone, a feed
    event as the client read it, or a period)."""
    from service.feed.feedback_admin import FeedbackFilter, feedback_row, list_feedback_for_operator

    filters = FeedbackFilter(client=client, project=project, milestone_id=milestone, handled=handled)
    with fail_on_service_error(), opened_store(ctx) as store, store.sessions() as session:
        rows = [feedback_row(f) for f in list_feedback_for_operator(session, filters=filters, limit=None)]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(_line(row))


@feedback_app.command("handled")
def handled_(
    ctx: typer.Context,
    feedback_id: Annotated[int, typer.Argument(metavar="ID", help="The feedback's id.")],
    undo: Annotated[bool, typer.Option("--undo", help="Mark it not handled again.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the feedback as one JSON object.")] = False,
) -> None:
    """Mark feedback handled (followed up); marking it again changes nothing."""
    from service.feed.feedback_admin import feedback_row, mark_feedback_handled
    from service.store.db import transaction

    with fail_on_service_error(), opened_store(ctx) as store, transaction(store.sessions) as session:
        feedback = mark_feedback_handled(
            session, feedback_id=feedback_id, handled=not undo, now=datetime.now(UTC)
        )
        row = feedback_row(feedback)
    if as_json:
        typer.echo(json.dumps(row))
        return
    typer.echo(f"feedback {row['id']} {'handled' if row['handled'] else 'not handled'}")
