"""Queueing flag comments: only item flags of opted-in projects, once per flag state."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.enums import FlagState, FlagSubject
from service.errors import NotFoundError
from service.flags.push_queue import PUSH_KIND, enable_push, queue_flag_push
from service.store.orm import OutboxRow, ProjectRow
from tests.support.flags import (
    NOW,
    add_flag,
    add_item,
    add_project,
    add_source_row,
    as_flag,
    change_flag,
    resolve,
)

ENABLED = {"enabled": True, "dry_run": False}


def _item(session: Session, *, push: dict[str, bool] | None = ENABLED, key: str = "ACM-1") -> int:
    source_id = add_source_row(session)
    project_id = add_project(session, source_id=source_id, push=push)
    return add_item(session, source_id=source_id, project_id=project_id, key=key)


def _rows(session: Session) -> list[OutboxRow]:
    return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def test_queue_flag_push_enabled_project_queues_one_row_for_the_item(session: Session) -> None:
    flag = add_flag(session, subject_id=_item(session))

    assert queue_flag_push(session, flag=as_flag(session, flag), now=NOW) is True

    [row] = _rows(session)
    assert (row.kind, row.target, row.status) == (PUSH_KIND, "ACM-1", "pending")
    assert row.idempotency_key == f"flag:{flag.id}:{flag.fingerprint}:open"
    assert row.payload["flag_id"] == flag.id


@pytest.mark.parametrize(
    "push",
    [None, {"enabled": False, "dry_run": False}],
    ids=["never-enabled", "disabled"],
)
def test_queue_flag_push_project_not_opted_in_queues_nothing(
    session: Session, push: dict[str, bool] | None
) -> None:
    flag = add_flag(session, subject_id=_item(session, push=push))

    assert queue_flag_push(session, flag=as_flag(session, flag), now=NOW) is False
    assert _rows(session) == []


def test_queue_flag_push_milestone_flag_queues_nothing(session: Session) -> None:
    flag = add_flag(session, subject_id=_item(session), subject=FlagSubject.MILESTONE)

    assert queue_flag_push(session, flag=as_flag(session, flag), now=NOW) is False


def test_queue_flag_push_rule_without_push_to_jira_queues_nothing(session: Session) -> None:
    flag = add_flag(session, subject_id=_item(session), push_to_jira=False)

    assert queue_flag_push(session, flag=as_flag(session, flag), now=NOW) is False


def test_queue_flag_push_same_state_twice_queues_once(session: Session) -> None:
    flag = add_flag(session, subject_id=_item(session))
    queue_flag_push(session, flag=as_flag(session, flag), now=NOW)

    assert queue_flag_push(session, flag=as_flag(session, flag), now=NOW) is False
    assert len(_rows(session)) == 1


def test_queue_flag_push_state_already_pushed_queues_nothing(session: Session) -> None:
    flag = add_flag(session, subject_id=_item(session))
    flag.pushed_fingerprint = f"{flag.fingerprint}:open"

    assert queue_flag_push(session, flag=as_flag(session, flag), now=NOW) is False


def test_queue_flag_push_change_and_resolve_queue_a_row_each(session: Session) -> None:
    flag = add_flag(session, subject_id=_item(session))
    queue_flag_push(session, flag=as_flag(session, flag), now=NOW)
    change_flag(session, flag, days_overdue=5)
    queue_flag_push(session, flag=as_flag(session, flag), now=NOW)
    resolve(session, flag)

    assert queue_flag_push(session, flag=as_flag(session, flag), now=NOW) is True
    assert [row.idempotency_key.rsplit(":", 1)[1] for row in _rows(session)] == ["open", "open", "resolved"]


def test_queue_flag_push_state_seen_before_rearms_its_finished_row(session: Session) -> None:
    flag = add_flag(session, subject_id=_item(session))
    queue_flag_push(session, flag=as_flag(session, flag), now=NOW)
    [first] = _rows(session)
    first.status, first.external_ref, first.attempts = "done", "dry-run", 1
    flag.pushed_fingerprint = "something-else:open"

    assert queue_flag_push(session, flag=as_flag(session, flag), now=NOW) is True
    [row] = _rows(session)
    assert (row.status, row.attempts, row.external_ref) == ("pending", 0, None)


def test_enable_push_queues_open_item_flags_of_the_project_only(session: Session) -> None:
    source_id = add_source_row(session)
    project_id = add_project(session, source_id=source_id)
    other_project = add_project(session, source_id=source_id, key="BOR", push=ENABLED)
    item = add_item(session, source_id=source_id, project_id=project_id, key="ACM-1")
    other_item = add_item(session, source_id=source_id, project_id=other_project, key="BOR-1")
    wanted = add_flag(session, subject_id=item)
    add_flag(session, subject_id=item, rule_id="stale_in_progress", state=FlagState.RESOLVED)
    add_flag(session, subject_id=item, rule_id="blocked_too_long", subject=FlagSubject.MILESTONE)
    add_flag(session, subject_id=other_item)

    queued = enable_push(session, project_id=project_id, dry_run=True, now=NOW)

    assert queued == 1
    assert [row.payload["flag_id"] for row in _rows(session)] == [wanted.id]
    project = session.get(ProjectRow, project_id)
    assert project is not None
    assert project.settings["push"] == {
        "enabled": True,
        "dry_run": True,
        "max_per_day": 5,
        "quiet_hours": None,
        "timezone": "UTC",
        "min_severity": "warning",
        "min_precision": 0.8,
    }


def test_enable_push_unknown_project_raises_not_found(session: Session) -> None:
    with pytest.raises(NotFoundError):
        enable_push(session, project_id=987654, dry_run=False, now=NOW)
