"""Writing client feed events: each client is told only what its scope covers, and at most one event
per (client, dedupe key), so producers may repeat.

An event names the item or milestone it is about (`item_id`, `milestone_id`). When a client no
longer sees an item (its labels changed, it was hidden, or the client's scope changed), or no
longer sees any member of a milestone, the client's events about it are withdrawn: its feed, Atom
and subscriptions hold only what it may see now. What was already pushed to a subscriber stays
with the subscriber.

Writers take `lock_feed_writes` first, so events become visible in id order (the feed's order).
The feed's reads are in `feed_queries`; `count_feed_events` only sums up what was written."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, text
from sqlalchemy.orm import Session

from service.domain.enums import FeedEventKind
from service.domain.signals import EventDraft
from service.store.client_views import read_grants, visible_items
from service.store.dialect import upsert_insert
from service.store.orm import ClientRow, ClientScopeRow, FeedEventRow, ItemMilestoneRow, WorkItemRow


def list_client_ids_of_project(session: Session, *, project_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ClientScopeRow.client_id).where(ClientScopeRow.project_id == project_id).distinct()
        )
    )


@dataclass(frozen=True, slots=True)
class _Told:
    """The last progress count a client was told of a milestone."""

    event_id: int
    done: int
    total: int


def publish_events(
    session: Session,
    *,
    drafts: Sequence[EventDraft],
    now: datetime,
    projects: Collection[int] = (),
    client_id: int | None = None,
) -> int:
    """Fan drafts out to the clients of their projects (only `client_id` when given); returns how
    many rows were new.

    For each client of each project of the drafts and of `projects`, whose scope covers it:
    - its events about what it no longer sees are withdrawn first (see the module docstring), so
      `projects` names the projects evaluated even when they gave no draft;
    - an item's event reaches it when it sees the item; a milestone's (a risk on it) when it sees
      one of its members; a project's, always;
    - a milestone's progress is counted over the members it sees and told when that count differs
      from the last one it was told of the milestone (a count that goes back down is news too);
      when it sees no member, it is told nothing.
    """
    by_project: dict[int, list[EventDraft]] = {project_id: [] for project_id in projects}
    for draft in drafts:
        by_project.setdefault(draft.project_id, []).append(draft)
    rows: list[dict[str, Any]] = []
    for project_id, project_drafts in by_project.items():
        clients = (
            [client_id]
            if client_id is not None
            else list_client_ids_of_project(session, project_id=project_id)
        )
        for each in clients:
            grants = read_grants(session, client_id=each)
            if project_id not in grants.project_ids:
                continue
            visible = visible_items(session, grants)
            _withdraw_unseen(session, each, visible, project_id=project_id)
            seen = _visible_item_ids(session, visible, project_id=project_id)
            seen_milestones = (
                _milestone_ids_of(session, seen) if any(d.milestone_id for d in project_drafts) else set()
            )
            rows += [
                _row(each, draft, now=now)
                for draft in project_drafts
                if draft.milestone is None
                and (draft.item_id is None or draft.item_id in seen)
                and (draft.milestone_id is None or draft.milestone_id in seen_milestones)
            ]
            rows += _progress_rows(session, each, project_drafts, seen=seen, now=now)
    if not rows:
        return 0
    stmt = (
        upsert_insert(session, FeedEventRow)
        .on_conflict_do_nothing(index_elements=["client_id", "dedupe_key"])
        .returning(FeedEventRow.id)
    )
    return len(session.execute(stmt, rows).all())


def _row(client_id: int, draft: EventDraft, *, now: datetime, **told: Any) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "project_id": draft.project_id,
        "kind": draft.kind.value,
        "dedupe_key": draft.dedupe_key,
        "summary": draft.summary,
        "payload": draft.payload,
        "occurred_at": draft.occurred_at,
        "created_at": now,
        "item_id": draft.item_id,
        "milestone_id": draft.milestone.milestone_id if draft.milestone is not None else draft.milestone_id,
        **told,
    }


def _progress_rows(
    session: Session, client_id: int, drafts: Sequence[EventDraft], *, seen: set[int], now: datetime
) -> list[dict[str, Any]]:
    counted = []
    for draft in drafts:
        if draft.milestone is None:
            continue
        count = draft.milestone.seen_by(seen)
        if count is not None:
            counted.append((draft, draft.milestone, count))
    if not counted:
        return []
    told = _last_told(
        session, client_id=client_id, milestone_ids=[tally.milestone_id for _d, tally, _c in counted]
    )
    rows = []
    for draft, tally, (done, total) in counted:
        last = told.get(tally.milestone_id)
        if last is not None and (last.done, last.total) == (done, total):
            continue
        rows.append(
            _row(
                client_id,
                draft,
                now=now,
                dedupe_key=tally.dedupe_key(done, total, after=last.event_id if last else 0),
                summary=tally.summary(done, total),
                payload=tally.payload(done, total),
            )
        )
    return rows


def _last_told(session: Session, *, client_id: int, milestone_ids: Collection[int]) -> dict[int, _Told]:
    last_ids = (
        select(func.max(FeedEventRow.id))
        .where(
            FeedEventRow.client_id == client_id,
            FeedEventRow.kind == FeedEventKind.MILESTONE_PROGRESS.value,
            FeedEventRow.milestone_id.in_(list(milestone_ids)),
        )
        .group_by(FeedEventRow.milestone_id)
    )
    rows = session.execute(
        select(FeedEventRow.id, FeedEventRow.milestone_id, FeedEventRow.payload).where(
            FeedEventRow.id.in_(last_ids)
        )
    )
    return {
        milestone_id: _Told(event_id=event_id, done=int(payload["done"]), total=int(payload["total"]))
        for event_id, milestone_id, payload in rows
        if milestone_id is not None
    }


def _visible_item_ids(session: Session, visible: ColumnElement[bool], *, project_id: int) -> set[int]:
    return set(session.scalars(select(WorkItemRow.id).where(WorkItemRow.project_id == project_id, visible)))


def _milestone_ids_of(session: Session, item_ids: Collection[int]) -> set[int]:
    """The milestones with a member among `item_ids`."""
    if not item_ids:
        return set()
    return set(
        session.scalars(
            select(ItemMilestoneRow.milestone_id)
            .where(ItemMilestoneRow.item_id.in_(list(item_ids)))
            .distinct()
        )
    )


def _withdraw_unseen(
    session: Session, client_id: int, visible: ColumnElement[bool], *, project_id: int
) -> int:
    """Delete the client's events of the project about an item it does not see (`visible`: the
    items it sees), or a milestone none of whose members it sees; returns how many went."""
    seen = (WorkItemRow.project_id == project_id, visible)
    seen_items = select(WorkItemRow.id).where(*seen)
    seen_milestones = (
        select(ItemMilestoneRow.milestone_id)
        .join(WorkItemRow, WorkItemRow.id == ItemMilestoneRow.item_id)
        .where(*seen)
    )
    result = session.execute(
        delete(FeedEventRow).where(
            FeedEventRow.client_id == client_id,
            FeedEventRow.project_id == project_id,
            or_(
                and_(FeedEventRow.item_id.is_not(None), FeedEventRow.item_id.not_in(seen_items)),
                and_(
                    FeedEventRow.milestone_id.is_not(None), FeedEventRow.milestone_id.not_in(seen_milestones)
                ),
            ),
        ),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def delete_progress_events(session: Session, *, client_id: int, project_id: int) -> int:
    """Forget the milestone progress a client was told of a project: counted over its scope as it
    was, they are no longer its counts once the scope changes. Returns how many went."""
    result = session.execute(
        delete(FeedEventRow).where(
            FeedEventRow.client_id == client_id,
            FeedEventRow.project_id == project_id,
            FeedEventRow.kind == FeedEventKind.MILESTONE_PROGRESS.value,
        ),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def list_client_names_of_project(session: Session, *, project_id: int) -> list[str]:
    return list(
        session.scalars(
            select(ClientRow.name)
            .join(ClientScopeRow, ClientScopeRow.client_id == ClientRow.id)
            .where(ClientScopeRow.project_id == project_id)
            .order_by(ClientRow.name)
        )
    )


def count_feed_events(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(FeedEventRow)) or 0)


# Any constant of pmbridge's own, so writers of feed events queue behind each other on PostgreSQL.
_FEED_WRITE_LOCK_KEY = 0x706D62_66656564  # "pmb" "feed"


def lock_feed_writes(session: Session) -> None:
    """Take, until the transaction ends, the lock every writer of feed events holds while it writes.

    The feed is read by id (the cursor: `/v1/feed?after=`, subscriptions), so an event must never
    become visible after a reader has passed its id. PostgreSQL draws ids from a sequence as rows
    are inserted, and concurrent transactions commit in any order: without this lock an evaluation
    that drew id 10 could commit after one that drew id 11 was read, and id 10 would never be seen.
    SQLite lets one transaction write at a time, so its ids already commit in order.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FEED_WRITE_LOCK_KEY})
