"""Cost facts on both databases: effort per project and milestone, and time logged in a window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.enums import ScopeRule, Visibility
from service.feed.kpis import compute_kpis
from service.store.client_views import items_in_scope, read_grants
from service.store.items import mark_items_visibility, upsert_work_items
from service.store.kpi_queries import count_seconds_logged, list_effort_by_milestone, list_effort_by_project
from service.store.orm import MilestoneRow, ProjectRow
from service.store.tenancy import add_client, add_scope
from service.store.worklogs import save_worklogs
from tests.service.store.test_items import make_item
from tests.service.store.test_worklogs import make_worklog

HOUR = 3600
TODAY = date(2026, 10, 30)
NOW = datetime(2026, 10, 30, 15, 0, tzinfo=UTC)


def _scoped(
    session: Session, source_id: int, *, rule: ScopeRule = ScopeRule.ALL, value: str | None = None
) -> int:
    client = add_client(session, name=f"client-{rule.value}", now=NOW)
    project_id = session.scalars(select(ProjectRow.id).where(ProjectRow.source_id == source_id)).one()
    add_scope(session, client_id=client.id, project_id=project_id, rule=rule, value=value)
    return client.id


def _items(session: Session, source_id: int) -> None:
    """Item 1 has worklogs (2 h) and a time-tracking field (9 h); item 2 only the field (1 h);
    item 3 neither. Items 1 and 2 carry an estimate of 4 h."""
    items = [
        replace(make_item(source_id, 1), estimate_seconds=4 * HOUR, spent_seconds=9 * HOUR),
        replace(make_item(source_id, 2), estimate_seconds=4 * HOUR, spent_seconds=HOUR, labels=("internal",)),
        replace(make_item(source_id, 3), estimate_seconds=None, spent_seconds=None),
    ]
    upsert_work_items(session, source_id=source_id, items=items)
    save_worklogs(
        session,
        source_id=source_id,
        worklogs=[make_worklog(source_id, 1, seconds=HOUR), make_worklog(source_id, 2, seconds=HOUR)],
    )


def test_effort_by_project_names_the_project_and_prefers_worklogs(session: Session, source_id: int) -> None:
    _items(session, source_id)
    grants = read_grants(session, client_id=_scoped(session, source_id))
    visible = items_in_scope(session, grants, project_ids=grants.project_ids)

    (effort,) = list_effort_by_project(session, visible=visible)

    assert effort.name == "Acme web"
    assert (effort.estimate_seconds, effort.spent_seconds) == (8 * HOUR, 3 * HOUR)
    assert (effort.items_estimated, effort.items) == (2, 3)


def test_effort_by_milestone_prefers_worklogs(session: Session, source_id: int) -> None:
    _items(session, source_id)
    grants = read_grants(session, client_id=_scoped(session, source_id))
    visible = items_in_scope(session, grants, project_ids=grants.project_ids)

    (effort,) = list_effort_by_milestone(session, visible=visible)

    assert effort.key == session.scalars(select(MilestoneRow.id)).one()
    assert (effort.name, effort.spent_seconds) == ("1.0", 3 * HOUR)


def test_seconds_logged_count_worklogs_started_in_the_window_on_visible_items(
    session: Session, source_id: int
) -> None:
    upsert_work_items(session, source_id=source_id, items=[make_item(source_id, n) for n in (1, 2, 3)])
    since = datetime(2026, 10, 3, tzinfo=UTC)
    until = datetime(2026, 10, 31, tzinfo=UTC)
    worklogs = [
        replace(make_worklog(source_id, 1, seconds=HOUR), started_at=since),
        replace(make_worklog(source_id, 2, seconds=2 * HOUR), started_at=until - timedelta(microseconds=1)),
        replace(make_worklog(source_id, 3, seconds=4 * HOUR), started_at=since - timedelta(seconds=1)),
        replace(make_worklog(source_id, 4, seconds=8 * HOUR), started_at=until),
        replace(make_worklog(source_id, 5, item=3, seconds=16 * HOUR), started_at=since),
    ]
    save_worklogs(session, source_id=source_id, worklogs=worklogs)
    mark_items_visibility(
        session, source_id=source_id, external_ids=["20003"], visibility=Visibility.DELETED, at=NOW
    )
    grants = read_grants(session, client_id=_scoped(session, source_id))
    visible = items_in_scope(session, grants, project_ids=grants.project_ids)

    logged = count_seconds_logged(session, visible=visible, since=since, until=until)

    assert logged == 3 * HOUR


def test_kpis_burn_is_hours_logged_in_four_weeks_over_four_within_the_scope(
    session: Session, source_id: int
) -> None:
    _items(session, source_id)
    # Item 2 is outside a label scope; its 5 h logged yesterday never reach the client's burn.
    save_worklogs(
        session,
        source_id=source_id,
        worklogs=[
            replace(make_worklog(source_id, 3, seconds=6 * HOUR), started_at=NOW - timedelta(days=27)),
            replace(make_worklog(source_id, 4, item=2, seconds=5 * HOUR), started_at=NOW - timedelta(days=1)),
            replace(make_worklog(source_id, 5, seconds=7 * HOUR), started_at=NOW - timedelta(days=29)),
        ],
    )
    everything = read_grants(session, client_id=_scoped(session, source_id))
    labelled = read_grants(
        session, client_id=_scoped(session, source_id, rule=ScopeRule.LABEL, value="client-visible")
    )

    full = compute_kpis(session, everything, project_id=None, today=TODAY, weeks=4).cost
    scoped = compute_kpis(session, labelled, project_id=None, today=TODAY, weeks=4).cost

    # 2 h on item 1 from `_items`, 6 h on it 27 days ago, 5 h on item 2; 7 h 29 days ago is too old.
    assert full.burn_rate_hours_per_week == (2 + 6 + 5) / 4
    assert scoped.burn_rate_hours_per_week == (2 + 6) / 4
    assert [e.name for e in scoped.by_project] == ["Acme web"]
    assert scoped.spent_hours == 2 + 6 + 7
