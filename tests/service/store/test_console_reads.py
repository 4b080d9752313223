"""What the operator's console reads across every client, on both databases: promises at risk,
open flags by project and severity, where each flag sits, and sync runs by status."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from service.domain.enums import DismissReason, FlagState, FlagSubject, Severity, SyncRunKind, SyncRunStatus
from service.store.flags import (
    count_open_flags_by_project,
    dismiss_flag,
    list_flag_subjects,
    list_flags,
    list_promises_at_risk,
)
from service.store.orm import CommitmentRow, ItemMilestoneRow, MilestoneRow
from service.store.sync_state import finish_sync_run, list_sync_runs, start_sync_run
from tests.support.flags import NOW, add_flag, add_item, add_project, add_source_row


def _promise(session: Session, *, subject: str, subject_id: int, delivered: bool = False) -> int:
    row = CommitmentRow(
        subject=subject,
        subject_id=subject_id,
        baseline_date=date(2026, 11, 20),
        current_date=date(2026, 11, 27),
        promised_at=NOW - timedelta(days=30),
        delivered_at=NOW if delivered else None,
    )
    session.add(row)
    session.flush()
    return row.id


def test_promises_at_risk_are_undelivered_with_flags_counted_open(session: Session) -> None:
    source_id = add_source_row(session)
    project_id = add_project(session, source_id=source_id)
    risky = add_item(session, source_id=source_id, project_id=project_id, key="ACM-1")
    delivered = add_item(session, source_id=source_id, project_id=project_id, key="ACM-2")
    dismissed = add_item(session, source_id=source_id, project_id=project_id, key="ACM-3")
    calm = add_item(session, source_id=source_id, project_id=project_id, key="ACM-4")
    at_risk = _promise(session, subject="item", subject_id=risky)
    _promise(session, subject="item", subject_id=delivered, delivered=True)
    _promise(session, subject="item", subject_id=dismissed)
    _promise(session, subject="item", subject_id=calm)
    flag = add_flag(session, subject_id=risky)
    add_flag(session, subject_id=risky, rule_id="stale_in_progress")
    add_flag(session, subject_id=delivered)
    gone = add_flag(session, subject_id=dismissed)
    dismiss_flag(session, flag_id=gone.id, reason=DismissReason.KNOWN, now=NOW)

    found = list_promises_at_risk(session, now=NOW)

    assert [(p.commitment_id, p.project_id, p.title) for p in found] == [
        (at_risk, project_id, "ACM-1 Item ACM-1")
    ]
    assert found[0].flag_ids[0] == flag.id
    assert len(found[0].flag_ids) == 2
    assert found[0].severity is Severity.CRITICAL
    assert (found[0].baseline, found[0].current) == (date(2026, 11, 20), date(2026, 11, 27))


def test_open_flags_are_counted_by_project_and_severity(session: Session) -> None:
    source_id = add_source_row(session)
    first = add_project(session, source_id=source_id, key="ONE")
    second = add_project(session, source_id=source_id, key="TWO")
    item = add_item(session, source_id=source_id, project_id=first, key="ONE-1")
    add_flag(session, subject_id=item)
    add_flag(session, subject_id=item, rule_id="other")
    add_flag(session, subject_id=second, subject=FlagSubject.PROJECT, rule_id="p")
    add_flag(session, subject_id=second, subject=FlagSubject.PROJECT, rule_id="r", state=FlagState.RESOLVED)

    assert count_open_flags_by_project(session, now=NOW) == {
        (first, Severity.CRITICAL): 2,
        (second, Severity.CRITICAL): 1,
    }


def test_flag_subjects_name_the_item_its_milestone_project_and_source(session: Session) -> None:
    source_id = add_source_row(session)
    project_id = add_project(session, source_id=source_id)
    item = add_item(session, source_id=source_id, project_id=project_id, key="ACM-1")
    milestone = MilestoneRow(
        source_id=source_id, project_id=project_id, external_id="m1", name="Release 1", kind="version"
    )
    session.add(milestone)
    session.flush()
    session.add(ItemMilestoneRow(item_id=item, milestone_id=milestone.id))
    session.flush()
    on_item = add_flag(session, subject_id=item)
    on_project = add_flag(session, subject_id=project_id, subject=FlagSubject.PROJECT, rule_id="p")
    on_nothing = add_flag(session, subject_id=10**9, rule_id="gone")
    flags = list_flags(session)

    subjects = list_flag_subjects(session, flags=flags)

    item_view = subjects[on_item.id]
    assert (item_view.key, item_view.title, item_view.project_id) == ("ACM-1", "Item ACM-1", project_id)
    assert (item_view.milestone_id, item_view.milestone_name) == (milestone.id, "Release 1")
    assert item_view.source_id == source_id
    assert subjects[on_project.id].milestone_name is None
    assert subjects[on_project.id].project_name == "Project ACM"
    assert subjects[on_nothing.id].key == f"item:{10**9}"


def test_sync_runs_list_by_status(session: Session) -> None:
    source_id = add_source_row(session)
    for status in (SyncRunStatus.SUCCEEDED, SyncRunStatus.FAILED):
        run_id = start_sync_run(session, source_id=source_id, kind=SyncRunKind.INCREMENTAL, now=NOW)
        finish_sync_run(
            session,
            run_id=run_id,
            status=status,
            now=NOW,
            items_seen=0,
            items_changed=0,
            changes_added=0,
            items_deleted=0,
            api_calls={},
            errors=["boom"] if status is SyncRunStatus.FAILED else [],
        )
    latest = list_sync_runs(session, source_id=source_id, limit=1)
    succeeded = list_sync_runs(session, source_id=source_id, status=SyncRunStatus.SUCCEEDED, limit=1)
    assert [r.status for r in latest] == [SyncRunStatus.FAILED]
    assert [r.status for r in succeeded] == [SyncRunStatus.SUCCEEDED]
