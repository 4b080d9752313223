"""Client feedback as the operator reads it (`store.feedback_admin`): each rating's subject
resolved, the filters, newest-first paging, and the handled mark; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.enums import FeedbackSubject
from service.store.feedback_admin import list_operator_feedback, update_feedback_handled
from service.store.orm import FeedEventRow, MilestoneRow, ProjectRow
from service.store.tenancy import add_client, add_feedback

NOW = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


def _event(session: Session, *, client_id: int, project_id: int | None, payload: dict[str, str]) -> int:
    row = FeedEventRow(
        client_id=client_id,
        project_id=project_id,
        kind="item_done",
        dedupe_key=f"e-{len(payload)}-{project_id}",
        summary="ACME-7 is done",
        payload=payload,
        occurred_at=NOW - timedelta(days=1),
        created_at=NOW,
    )
    session.add(row)
    session.flush()
    return row.id


def _seed(session: Session) -> dict[str, int]:
    """acme rates the milestone 1.0, then an event of ACME, then a period; globex rates the period."""
    project_id = session.scalars(select(ProjectRow.id).where(ProjectRow.key == "ACME")).one()
    milestone_id = session.scalars(select(MilestoneRow.id).where(MilestoneRow.name == "1.0")).one()
    acme = add_client(session, name="acme", now=NOW)
    globex = add_client(session, name="globex", now=NOW)
    assert acme.id is not None and globex.id is not None
    event_id = _event(
        session, client_id=acme.id, project_id=project_id, payload={"item": "ACME-7", "title": "Checkout"}
    )
    ids = {"acme": acme.id, "globex": globex.id, "event": event_id, "milestone": milestone_id}
    for name, client_id, subject, subject_id in (
        ("on-milestone", acme.id, FeedbackSubject.MILESTONE, milestone_id),
        ("on-event", acme.id, FeedbackSubject.EVENT, event_id),
        ("on-period", acme.id, FeedbackSubject.PERIOD, None),
        ("globex-period", globex.id, FeedbackSubject.PERIOD, None),
    ):
        period = subject is FeedbackSubject.PERIOD
        feedback = add_feedback(
            session,
            client_id=client_id,
            subject=subject,
            subject_id=subject_id,
            period_start=date(2026, 10, 27) if period else None,
            period_end=date(2026, 11, 2) if period else None,
            rating=4,
            comment=f"comment {name}",
            now=NOW,
        )
        assert feedback.id is not None
        ids[name] = feedback.id
    return ids


def test_list_operator_feedback_resolves_each_subject(session: Session, source_id: int) -> None:
    ids = _seed(session)

    by_id = {f.id: f for f in list_operator_feedback(session)}

    on_milestone = by_id[ids["on-milestone"]]
    assert on_milestone.client_name == "acme"
    assert on_milestone.milestone is not None and on_milestone.event is None
    assert (on_milestone.milestone.id, on_milestone.milestone.name, on_milestone.milestone.project_key) == (
        ids["milestone"],
        "1.0",
        "ACME",
    )
    event = by_id[ids["on-event"]].event
    assert event is not None
    assert (event.id, event.kind, event.summary, event.item_key, event.item_title, event.project_key) == (
        ids["event"],
        "item_done",
        "ACME-7 is done",
        "ACME-7",
        "Checkout",
        "ACME",
    )
    period = by_id[ids["on-period"]]
    assert (period.milestone, period.event, period.period_start) == (None, None, date(2026, 10, 27))


def test_list_operator_feedback_filters_by_client_project_milestone_and_handled(
    session: Session, source_id: int
) -> None:
    ids = _seed(session)
    project_id = session.scalars(select(ProjectRow.id).where(ProjectRow.key == "ACME")).one()
    update_feedback_handled(session, feedback_id=ids["on-event"], handled=True, now=NOW, by="token:1")

    def listed(**filters: object) -> set[int]:
        return {f.id for f in list_operator_feedback(session, **filters)}  # type: ignore[arg-type]

    assert listed(client_id=ids["globex"]) == {ids["globex-period"]}
    assert listed(project_ids=[project_id]) == {ids["on-milestone"], ids["on-event"]}
    assert listed(project_ids=[project_id + 1000]) == set()
    assert listed(milestone_id=ids["milestone"]) == {ids["on-milestone"]}
    assert listed(handled=True) == {ids["on-event"]}
    assert listed(handled=False, client_id=ids["acme"]) == {ids["on-milestone"], ids["on-period"]}


def test_list_operator_feedback_pages_newest_first(session: Session, source_id: int) -> None:
    ids = _seed(session)
    newest_first = sorted(
        (ids[k] for k in ("on-milestone", "on-event", "on-period", "globex-period")), reverse=True
    )

    first = [f.id for f in list_operator_feedback(session, limit=3)]
    second = [f.id for f in list_operator_feedback(session, after_id=first[-1], limit=3)]

    assert first + second == newest_first


def test_update_feedback_handled_keeps_the_first_mark_and_undoes(session: Session, source_id: int) -> None:
    ids = _seed(session)
    feedback_id = ids["on-period"]

    first = update_feedback_handled(session, feedback_id=feedback_id, handled=True, now=NOW, by="token:1")
    again = update_feedback_handled(
        session, feedback_id=feedback_id, handled=True, now=NOW + timedelta(hours=1), by="token:2"
    )
    undone = update_feedback_handled(session, feedback_id=feedback_id, handled=False, now=NOW)
    undone_again = update_feedback_handled(session, feedback_id=feedback_id, handled=False, now=NOW)

    assert (first.handled_at, first.handled_by) == (NOW, "token:1")
    assert (again.handled_at, again.handled_by) == (NOW, "token:1")
    assert (undone.handled_at, undone.handled_by) == (None, None)
    assert undone_again == undone
