"""Triage in the store, on both databases: a dismissal holds for its fingerprint, snoozes end, the
listing's states and filters, the labels a backtest reads, and each flag's history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from service.domain.enums import (
    DismissReason,
    FlagHistoryKind,
    FlagListState,
    FlagState,
    FlagSubject,
    FlagTriage,
)
from service.store.flags import (
    FlagValues,
    Reconciliation,
    acknowledge_flag,
    count_new_comments,
    dismiss_flag,
    keep_flag_internal,
    list_flag_history,
    list_flag_labels,
    list_flags,
    publish_flag,
    reconcile_flags,
    record_pushed_comment,
    reserve_new_comment,
    snooze_flag,
)
from service.store.orm import MilestoneRow, WorkItemRow
from tests.support.flags import NOW, add_flag, add_item, add_project, add_source_row


def _finding(item_id: int, *, fingerprint: str = "fp-1", rule_id: str = "overdue_commitment") -> FlagValues:
    return FlagValues(
        rule_id=rule_id,
        subject=FlagSubject.ITEM,
        subject_id=item_id,
        severity="warning",
        message="late",
        evidence={"days": 1},
        fingerprint=fingerprint,
    )


def _item(session: Session, key: str = "ACM-1", project: str = "ACM") -> int:
    source_id = add_source_row(session, name=f"s-{key}")
    project_id = add_project(session, source_id=source_id, key=project)
    return add_item(session, source_id=source_id, project_id=project_id, key=key)


def _reconcile(session: Session, item_id: int, *findings: FlagValues, later: int = 0) -> Reconciliation:
    return reconcile_flags(
        session,
        subjects=[(FlagSubject.ITEM, item_id)],
        findings=list(findings),
        now=NOW + timedelta(hours=later),
    )


def test_reconcile_flags_dismissed_open_flag_same_fingerprint_stays_dismissed_and_unchanged(
    session: Session,
) -> None:
    item_id = _item(session)
    [flag] = _reconcile(session, item_id, _finding(item_id)).changed
    assert flag.id is not None
    dismiss_flag(session, flag_id=flag.id, reason=DismissReason.FALSE_POSITIVE, now=NOW)

    again = _reconcile(session, item_id, _finding(item_id), later=1)

    assert (again.opened, again.updated, again.changed) == (0, 0, ())
    [stored] = list_flags(session)
    assert (stored.triage, stored.triage_reason, stored.dismissed_fingerprint) == (
        FlagTriage.DISMISSED,
        DismissReason.FALSE_POSITIVE,
        "fp-1",
    )


def test_reconcile_flags_dismissed_open_flag_new_fingerprint_is_reopened(session: Session) -> None:
    item_id = _item(session)
    [flag] = _reconcile(session, item_id, _finding(item_id)).changed
    assert flag.id is not None
    dismiss_flag(session, flag_id=flag.id, reason=DismissReason.KNOWN, now=NOW)

    moved = _reconcile(session, item_id, _finding(item_id, fingerprint="fp-2"), later=1)

    [changed] = moved.changed
    assert (changed.id, changed.triage, changed.fingerprint) == (flag.id, None, "fp-2")
    kinds = [e.kind for e in list_flag_history(session, flag_id=flag.id)]
    assert kinds == [
        FlagHistoryKind.RAISED,
        FlagHistoryKind.DISMISSED,
        FlagHistoryKind.FINGERPRINT_CHANGED,
        FlagHistoryKind.REOPENED,
    ]


def test_reconcile_flags_resolved_dismissed_flag_same_evidence_raises_nothing_new_evidence_raises(
    session: Session,
) -> None:
    item_id = _item(session)
    [flag] = _reconcile(session, item_id, _finding(item_id)).changed
    assert flag.id is not None
    dismiss_flag(session, flag_id=flag.id, reason=DismissReason.NOT_CLIENT_RELEVANT, now=NOW)
    assert _reconcile(session, item_id, later=1).resolved == 1

    same = _reconcile(session, item_id, _finding(item_id), later=2)
    other_rule = _reconcile(session, item_id, _finding(item_id, rule_id="stale_in_progress"), later=3)
    changed = _reconcile(
        session,
        item_id,
        _finding(item_id, rule_id="stale_in_progress"),
        _finding(item_id, fingerprint="fp-9"),
        later=4,
    )

    assert (same.opened, same.suppressed, same.changed) == (0, 1, ())
    assert other_rule.opened == 1  # a dismissal is of one rule's finding
    assert (changed.opened, changed.suppressed) == (1, 0)
    assert [f.id != flag.id for f in changed.changed] == [True]


def test_list_flags_states_follow_triage_and_a_snooze_ends_at_its_date(session: Session) -> None:
    item_id = _item(session)
    plain = add_flag(session, subject_id=item_id, rule_id="a")
    acked = add_flag(session, subject_id=item_id, rule_id="b")
    snoozed = add_flag(session, subject_id=item_id, rule_id="c")
    dismissed = add_flag(session, subject_id=item_id, rule_id="d")
    resolved = add_flag(session, subject_id=item_id, rule_id="e", state=FlagState.RESOLVED)
    acknowledge_flag(session, flag_id=acked.id, now=NOW, by="token:1")
    snooze_flag(session, flag_id=snoozed.id, until=NOW + timedelta(days=2), now=NOW)
    dismiss_flag(session, flag_id=dismissed.id, reason=DismissReason.KNOWN, now=NOW)

    def ids(state: FlagListState, days: int = 0) -> list[int | None]:
        return [f.id for f in list_flags(session, state=state, now=NOW + timedelta(days=days))]

    assert ids(FlagListState.OPEN) == [plain.id, acked.id]
    assert ids(FlagListState.ACKNOWLEDGED) == [acked.id]
    assert ids(FlagListState.SNOOZED) == [snoozed.id]
    assert ids(FlagListState.DISMISSED) == [dismissed.id]
    assert ids(FlagListState.RESOLVED) == [resolved.id]
    assert ids(FlagListState.OPEN, days=2) == [plain.id, acked.id, snoozed.id]
    assert ids(FlagListState.SNOOZED, days=2) == []
    assert list_flags(session, state=FlagState.OPEN, now=NOW)[1].triaged_by == "token:1"


def test_list_flags_filters_by_project_rule_and_severity_over_every_kind_of_subject(session: Session) -> None:
    source_id = add_source_row(session)
    mine = add_project(session, source_id=source_id, key="ACM")
    other = add_project(session, source_id=source_id, key="OTH")
    item = add_item(session, source_id=source_id, project_id=mine, key="ACM-1")
    foreign = add_item(session, source_id=source_id, project_id=other, key="OTH-1")
    milestone = MilestoneRow(
        source_id=source_id, project_id=mine, external_id="v1", name="1.0", kind="version"
    )
    session.add(milestone)
    session.flush()
    on_item = add_flag(session, subject_id=item, rule_id="a")
    on_milestone = add_flag(session, subject_id=milestone.id, rule_id="b", subject=FlagSubject.MILESTONE)
    on_project = add_flag(session, subject_id=mine, rule_id="a", subject=FlagSubject.PROJECT)
    add_flag(session, subject_id=foreign, rule_id="a")

    assert [f.id for f in list_flags(session, project_ids=[mine])] == [
        on_item.id,
        on_milestone.id,
        on_project.id,
    ]
    assert [f.id for f in list_flags(session, project_ids=[mine], rule_id="a")] == [on_item.id, on_project.id]
    assert list_flags(session, project_ids=[]) == []
    assert [f.severity.value for f in list_flags(session, project_ids=[mine])] == ["critical"] * 3


def test_list_flag_labels_gives_every_flag_with_its_triage_and_reason(session: Session) -> None:
    item_id = _item(session)
    right = add_flag(session, subject_id=item_id, rule_id="a")
    wrong = add_flag(session, subject_id=item_id, rule_id="b")
    unsaid = add_flag(session, subject_id=item_id, rule_id="c", state=FlagState.RESOLVED)
    acknowledge_flag(session, flag_id=right.id, now=NOW)
    dismiss_flag(session, flag_id=wrong.id, reason=DismissReason.FALSE_POSITIVE, now=NOW)

    labels = list_flag_labels(session)

    assert [(lb.flag_id, lb.rule_id, lb.triage, lb.reason, lb.state) for lb in labels] == [
        (right.id, "a", FlagTriage.ACKNOWLEDGED, None, FlagState.OPEN),
        (wrong.id, "b", FlagTriage.DISMISSED, DismissReason.FALSE_POSITIVE, FlagState.OPEN),
        (unsaid.id, "c", None, None, FlagState.RESOLVED),
    ]
    assert {(lb.subject, lb.subject_id, lb.first_seen_at) for lb in labels} == {
        (FlagSubject.ITEM, item_id, NOW)
    }


def test_flag_history_keeps_every_step_in_order_with_who_and_what(session: Session) -> None:
    item_id = _item(session)
    [flag] = _reconcile(session, item_id, _finding(item_id)).changed
    assert flag.id is not None
    _reconcile(session, item_id, _finding(item_id, fingerprint="fp-2"), later=1)
    acknowledge_flag(session, flag_id=flag.id, now=NOW, by="token:7")
    snooze_flag(session, flag_id=flag.id, until=NOW + timedelta(days=1), now=NOW, by="token:7")
    publish_flag(session, flag_id=flag.id, client_text="Late", now=NOW, by="token:7")
    keep_flag_internal(session, flag_id=flag.id, now=NOW)
    _reconcile(session, item_id, later=2)

    history = list_flag_history(session, flag_id=flag.id)

    assert [e.kind for e in history] == [
        FlagHistoryKind.RAISED,
        FlagHistoryKind.FINGERPRINT_CHANGED,
        FlagHistoryKind.ACKNOWLEDGED,
        FlagHistoryKind.SNOOZED,
        FlagHistoryKind.PUBLISHED,
        FlagHistoryKind.UNPUBLISHED,
        FlagHistoryKind.RESOLVED,
    ]
    assert history[1].detail == {"from": "fp-1", "to": "fp-2"}
    assert history[2].by == "token:7"
    assert history[3].detail == {"until": (NOW + timedelta(days=1)).isoformat()}


def test_count_new_comments_counts_first_posts_of_the_project_in_the_window_once(session: Session) -> None:
    item_id = _item(session)
    other_item = _item(session, key="OTH-1", project="OTH")
    first = add_flag(session, subject_id=item_id, rule_id="a")
    second = add_flag(session, subject_id=item_id, rule_id="b")
    elsewhere = add_flag(session, subject_id=other_item, rule_id="a")
    reserve_new_comment(session, flag_id=first.id, now=NOW)
    reserve_new_comment(session, flag_id=first.id, now=NOW + timedelta(days=1))  # taken once
    record_pushed_comment(
        session, flag_id=first.id, comment_id="c1", pushed_state="x", now=NOW + timedelta(hours=1)
    )
    record_pushed_comment(session, flag_id=second.id, comment_id="c2", pushed_state="x", now=NOW)
    record_pushed_comment(session, flag_id=elsewhere.id, comment_id="c3", pushed_state="x", now=NOW)

    def count(since_days: int, until_days: int) -> int:
        return count_new_comments(
            session,
            project_id=_project_of(session, item_id),
            since=NOW + timedelta(days=since_days),
            until=NOW + timedelta(days=until_days),
        )

    assert count(0, 1) == 2
    assert count(1, 2) == 0


def _project_of(session: Session, item_id: int) -> int:
    item = session.get(WorkItemRow, item_id)
    assert item is not None
    return item.project_id
