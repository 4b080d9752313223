"""Flags leave the store as domain flags: one get/find/list contract, subject keys, counts."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from service.domain.enums import FlagState, FlagSubject, Severity
from service.errors import NotFoundError
from service.store.flags import (
    FlagValues,
    count_flags_by_state_severity,
    count_pushed_flags,
    find_flag,
    get_flag,
    keep_flag_internal,
    list_flags,
    list_open_item_flags,
    list_subject_keys,
    publish_flag,
    reconcile_flags,
    record_pushed_comment,
)
from tests.support.flags import NOW, add_flag, add_item, add_project, add_source_row


def test_get_flag_raises_and_find_flag_returns_none_for_an_unknown_id(session: Session) -> None:
    with pytest.raises(NotFoundError):
        get_flag(session, flag_id=10**9)
    assert find_flag(session, flag_id=10**9) is None


def test_flags_come_back_as_domain_flags_with_their_pushed_comment(session: Session) -> None:
    source_id = add_source_row(session)
    project_id = add_project(session, source_id=source_id)
    item_id = add_item(session, source_id=source_id, project_id=project_id, key="ACM-1")
    row = add_flag(session, subject_id=item_id)

    record_pushed_comment(session, flag_id=row.id, comment_id="c-1", pushed_state="fp:open", now=NOW)
    session.expire_all()  # the record is a bulk UPDATE: the row this test holds does not see it
    flag = get_flag(session, flag_id=row.id)

    assert (flag.subject, flag.severity, flag.state) == (FlagSubject.ITEM, Severity.CRITICAL, FlagState.OPEN)
    assert (flag.pushed_comment_id, flag.pushed_fingerprint) == ("c-1", "fp:open")
    assert list_open_item_flags(session, project_id=project_id) == [flag]
    assert count_pushed_flags(session) == 1
    assert count_flags_by_state_severity(session) == {("open", "critical"): 1}


def test_list_flags_filters_and_pages_by_id(session: Session) -> None:
    source_id = add_source_row(session)
    project_id = add_project(session, source_id=source_id)
    item_id = add_item(session, source_id=source_id, project_id=project_id, key="ACM-1")
    first = add_flag(session, subject_id=item_id, rule_id="a")
    second = add_flag(session, subject_id=item_id, rule_id="b")
    resolved = add_flag(session, subject_id=item_id, rule_id="c", state=FlagState.RESOLVED)
    publish_flag(session, flag_id=second.id, client_text="Late", now=NOW)

    assert [f.id for f in list_flags(session)] == [first.id, second.id, resolved.id]
    assert [f.id for f in list_flags(session, state=FlagState.OPEN)] == [first.id, second.id]
    assert [f.id for f in list_flags(session, published=True)] == [second.id]
    assert [f.id for f in list_flags(session, after_id=first.id, limit=1)] == [second.id]
    assert keep_flag_internal(session, flag_id=second.id, now=NOW).published is False


def test_list_subject_keys_names_each_subject_or_falls_back_to_kind_and_id(session: Session) -> None:
    source_id = add_source_row(session)
    project_id = add_project(session, source_id=source_id, key="ACM")
    item_id = add_item(session, source_id=source_id, project_id=project_id, key="ACM-7")
    on_item = add_flag(session, subject_id=item_id)
    on_project = add_flag(session, subject_id=project_id, subject=FlagSubject.PROJECT)
    on_nothing = add_flag(session, subject_id=10**9, subject=FlagSubject.MILESTONE)

    keys = list_subject_keys(session, flags=list_flags(session))

    assert keys == {on_item.id: "ACM-7", on_project.id: "ACM", on_nothing.id: f"milestone:{10**9}"}


def test_reconcile_flags_reports_the_open_flags_as_they_were_before(session: Session) -> None:
    source_id = add_source_row(session)
    project_id = add_project(session, source_id=source_id)
    item_id = add_item(session, source_id=source_id, project_id=project_id, key="ACM-1")
    kept = add_flag(session, subject_id=item_id, rule_id="kept")
    gone = add_flag(session, subject_id=item_id, rule_id="gone")
    before = {f.id: f for f in list_flags(session)}
    finding = FlagValues(
        rule_id="kept",
        subject=FlagSubject.ITEM,
        subject_id=item_id,
        severity="warning",
        message="moved",
        evidence={"days_overdue": 9},
        fingerprint="new",
    )

    outcome = reconcile_flags(session, subjects=[(FlagSubject.ITEM, item_id)], findings=[finding], now=NOW)

    assert outcome.open_before == (before[kept.id], before[gone.id])
    assert [(f.id, f.state, f.fingerprint) for f in outcome.changed] == [
        (kept.id, FlagState.OPEN, "new"),
        (gone.id, FlagState.RESOLVED, gone.fingerprint),
    ]
    assert (outcome.opened, outcome.updated, outcome.resolved) == (0, 1, 1)
