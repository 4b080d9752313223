"""Work items, their milestones and changes: bulk upserts on the sync path, lookups as domain objects.

The sync path writes through the driver-level statements of `item_statements`; the evaluator's
bulk reads run on the driver's cursor in `work_scan`, and the functions here that list a project's
items, milestones or changes hand over to it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from service.domain.enums import StatusCategory, Visibility
from service.domain.ledger import MILESTONE_PROMISE_FIELD
from service.domain.work import Change, Milestone, WorkItem
from service.errors import NotFoundError
from service.store.dialect import analyze_if_outgrown, upsert_insert
from service.store.driver_sql import driver_values, fetch_rows
from service.store.item_statements import ItemStatements, item_statements
from service.store.mapping import work_item_from_row
from service.store.orm import (
    ChangeRow,
    ItemMilestoneRow,
    MilestoneChangeRow,
    MilestoneRow,
    ProjectRow,
    WorkItemRow,
)
from service.store.projects import list_project_ids_by_external_id
from service.store.work_scan import read_item_changes, read_project_items, read_project_milestones


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What a bulk upsert wrote: ids of items whose stored state changed, and new change rows."""

    changed_item_ids: tuple[int, ...]
    changes_added: int


def upsert_milestones(
    session: Session,
    *,
    source_id: int,
    milestones: Sequence[Milestone],
    observed_at: datetime | None = None,
) -> None:
    """Write milestones; a stored milestone whose due date differs from the incoming one gets an
    observed change at `observed_at` (the write's time, now when not given).

    Providers keep no history of a milestone's dates, so a move is seen only here: a new
    milestone's first date is its baseline, not a move, and a move undone between two writes is
    not seen. The same write replayed adds nothing (its dates are stored already).
    """
    if not milestones:
        return
    project_ids = list_project_ids_by_external_id(session, source_id=source_id)
    incoming = {m.external_id: m for m in milestones}
    stored = {
        external_id: (milestone_id, due_date)
        for milestone_id, external_id, due_date in session.execute(
            select(MilestoneRow.id, MilestoneRow.external_id, MilestoneRow.due_date).where(
                MilestoneRow.source_id == source_id, MilestoneRow.external_id.in_(list(incoming))
            )
        )
    }
    statements = _statements(session)
    statements.milestones.run(
        session,
        [
            statements.milestone_row(m, _require_project(project_ids, m.project_external_id))
            for m in milestones
        ],
    )
    at = observed_at or datetime.now(UTC)
    moves = [
        {
            "milestone_id": milestone_id,
            "field": MILESTONE_PROMISE_FIELD,
            "from_value": _iso(due_date),
            "to_value": _iso(incoming[external_id].due_date),
            "observed_at": at,
        }
        for external_id, (milestone_id, due_date) in stored.items()
        if incoming[external_id].due_date != due_date
    ]
    if moves:
        stmt = upsert_insert(session, MilestoneChangeRow).on_conflict_do_nothing(
            index_elements=["milestone_id", "observed_at", "to_value"]
        )
        session.execute(stmt, moves)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def list_milestone_changes(session: Session, *, milestone_ids: Collection[int]) -> list[Change]:
    """The observed due-date changes of milestones as `Change` values of the milestone's external
    id, under `MILESTONE_PROMISE_FIELD`, oldest first."""
    if not milestone_ids:
        return []
    rows = session.execute(
        select(MilestoneChangeRow, MilestoneRow.source_id, MilestoneRow.external_id)
        .join(MilestoneRow, MilestoneRow.id == MilestoneChangeRow.milestone_id)
        .where(MilestoneChangeRow.milestone_id.in_(list(milestone_ids)))
        .order_by(MilestoneChangeRow.observed_at, MilestoneChangeRow.id)
    )
    return [
        Change(
            source_id=source_id,
            item_external_id=external_id,
            # Named by when it was seen, not by the row's id: it reaches feed events' dedupe keys.
            external_id=f"observed:{row.observed_at.isoformat()}",
            field=row.field,
            from_value=row.from_value,
            to_value=row.to_value,
            changed_at=row.observed_at,
        )
        for row, source_id, external_id in rows
    ]


# A write this large is a sync's batch, after which the table's statistics are checked.
BULK_WRITE_ITEMS = 100


def upsert_work_items(
    session: Session,
    *,
    source_id: int,
    items: Sequence[WorkItem],
    changes: Sequence[Change] = (),
    authoritative: bool = True,
) -> UpsertResult:
    """Apply a page of provider items and their changes, idempotently.

    An item is written only when its payload is newer than the stored one (`updated_at`). A listing
    (`authoritative`: the provider shows the item now) also restores an item marked deleted or
    hidden; a pushed payload (a webhook) restores one only when it is newer than the deletion, so a
    late delivery never resurrects a deleted item. Re-applying a page, or applying an older page
    after a newer one, changes nothing. Changes are keyed by their provider id, so replays add none
    twice.
    """
    if not items and not changes:
        return UpsertResult(changed_item_ids=(), changes_added=0)
    newest = _newest_per_external_id(items)
    # One lookup for what the write decides on: the stored state of the page's items and the ids of
    # the items its changes belong to.
    stored = _stored_items(
        session, source_id=source_id, external_ids={*newest, *(c.item_external_id for c in changes)}
    )
    to_write = _newer(newest, stored, authoritative=authoritative)
    if to_write:
        _upsert_persons(session, source_id=source_id, items=to_write)
        _write_items(session, source_id=source_id, items=to_write, authoritative=authoritative)
    item_ids = {external_id: found.id for external_id, found in stored.items()}
    # Items stored by this write have no milestone links and no changes yet.
    inserted = [external_id for external_id in newest if external_id not in stored]
    item_ids.update(list_item_ids_by_external_id(session, source_id=source_id, external_ids=inserted))
    changed_ids = tuple(item_ids[item.external_id] for item in to_write)
    if to_write:
        replaced = [item_ids[item.external_id] for item in to_write if item.external_id in stored]
        _link_milestones(session, source_id=source_id, items=to_write, item_ids=item_ids, replaced=replaced)
    added = _insert_changes(
        session, source_id=source_id, changes=changes, item_ids=item_ids, stored_items=stored.keys()
    )
    if len(to_write) >= BULK_WRITE_ITEMS:
        analyze_if_outgrown(session, WorkItemRow)
    return UpsertResult(changed_item_ids=changed_ids, changes_added=added)


def list_items_to_write(
    session: Session, *, source_id: int, items: Sequence[WorkItem], authoritative: bool = True
) -> list[WorkItem]:
    """The items `upsert_work_items` would write (see there).

    Lets a sync fetch changelogs only for what changed, before it opens its write transaction.
    """
    newest = _newest_per_external_id(items)
    stored = _stored_items(session, source_id=source_id, external_ids=newest.keys())
    return _newer(newest, stored, authoritative=authoritative)


def mark_items_visibility(
    session: Session, *, source_id: int, external_ids: Iterable[str], visibility: Visibility, at: datetime
) -> int:
    """Mark items deleted or hidden (or visible again); returns how many rows changed state."""
    ids = list(external_ids)
    if not ids:
        return 0
    result = session.execute(
        update(WorkItemRow)
        .where(
            WorkItemRow.source_id == source_id,
            WorkItemRow.external_id.in_(ids),
            WorkItemRow.visibility != visibility.value,
        )
        .values(visibility=visibility.value, visibility_changed_at=at)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _newest_per_external_id(items: Sequence[WorkItem]) -> dict[str, WorkItem]:
    newest: dict[str, WorkItem] = {}
    for item in items:
        current = newest.get(item.external_id)
        if current is None or current.updated_at < item.updated_at:
            newest[item.external_id] = item
    return newest


@dataclass(frozen=True, slots=True)
class _StoredItem:
    id: int
    updated_at: datetime
    visibility: str
    visibility_changed_at: datetime | None


def _stored_items(
    session: Session, *, source_id: int, external_ids: Collection[str]
) -> dict[str, _StoredItem]:
    if not external_ids:
        return {}
    values = _statements(session).values
    rows = fetch_rows(
        session,
        "SELECT external_id, id, updated_at, visibility, visibility_changed_at FROM work_items "  # noqa: S608
        f"WHERE source_id = {values.mark} AND {values.member_of('external_id')}",
        (source_id, values.members(external_ids)),
    )
    read = values.read_datetime
    stored: dict[str, _StoredItem] = {}
    for external_id, row_id, updated_at, visibility, changed_at in rows:
        updated = read(updated_at)
        if updated is None:
            raise ValueError(f"work item {row_id} has no updated_at")
        stored[external_id] = _StoredItem(row_id, updated, visibility, read(changed_at))
    return stored


def _newer(
    newest: dict[str, WorkItem], stored: dict[str, _StoredItem], *, authoritative: bool
) -> list[WorkItem]:
    return [item for item in newest.values() if _wanted(item, stored.get(item.external_id), authoritative)]


def _wanted(item: WorkItem, stored: _StoredItem | None, authoritative: bool) -> bool:
    """Whether `item` is newer than what is stored (see `upsert_work_items`)."""
    if stored is None:
        return True
    if stored.visibility == Visibility.VISIBLE.value:
        return stored.updated_at < item.updated_at
    if authoritative:
        return True
    changed_at = stored.visibility_changed_at
    return stored.updated_at < item.updated_at and (changed_at is None or changed_at < item.updated_at)


def _require_project(project_ids: dict[str, int], external_id: str) -> int:
    try:
        return project_ids[external_id]
    except KeyError:
        raise NotFoundError(
            f"project {external_id} is not stored; upsert projects first", details={"project": external_id}
        ) from None


def list_item_ids_by_external_id(
    session: Session, *, source_id: int, external_ids: Collection[str]
) -> dict[str, int]:
    """Store ids of the source's items with these external ids, whatever their visibility."""
    if not external_ids:
        return {}
    values = _statements(session).values
    rows = fetch_rows(
        session,
        f"SELECT external_id, id FROM work_items WHERE source_id = {values.mark} "  # noqa: S608
        f"AND {values.member_of('external_id')}",
        (source_id, values.members(external_ids)),
    )
    return {external_id: row_id for external_id, row_id in rows}


def _upsert_persons(session: Session, *, source_id: int, items: Sequence[WorkItem]) -> None:
    persons = {item.assignee.external_id: item.assignee for item in items if item.assignee is not None}
    if not persons:
        return
    statements = _statements(session)
    statements.persons.run(session, [statements.person_row(p, source_id) for p in persons.values()])


def _statements(session: Session) -> ItemStatements:
    return item_statements(session.get_bind().dialect.name)


def _write_items(session: Session, *, source_id: int, items: Sequence[WorkItem], authoritative: bool) -> None:
    project_ids = list_project_ids_by_external_id(session, source_id=source_id)
    statements = _statements(session)
    item_row = statements.item_row
    rows = [item_row(item, _require_project(project_ids, item.project_external_id)) for item in items]
    # One prepared statement run with the driver's executemany: the fast path
    # (docs/ARCHITECTURE.md, hot paths).
    (statements.listed_items if authoritative else statements.pushed_items).run(session, rows)


def _link_milestones(
    session: Session,
    *,
    source_id: int,
    items: Sequence[WorkItem],
    item_ids: dict[str, int],
    replaced: Sequence[int],
) -> None:
    """Link written items to their milestones; `replaced` are the ids of items that had links before."""
    if replaced:
        session.execute(delete(ItemMilestoneRow).where(ItemMilestoneRow.item_id.in_(replaced)))
    wanted = {m for item in items for m in item.milestone_external_ids}
    if not wanted:
        return
    values = _statements(session).values
    milestone_ids = {
        external_id: row_id
        for external_id, row_id in fetch_rows(
            session,
            f"SELECT external_id, id FROM milestones WHERE source_id = {values.mark} "  # noqa: S608
            f"AND {values.member_of('external_id')}",
            (source_id, values.members(wanted)),
        )
    }
    links = [
        (item_ids[item.external_id], milestone_ids[m])
        for item in items
        for m in dict.fromkeys(item.milestone_external_ids)
        if m in milestone_ids
    ]
    _statements(session).links.run(session, links)


def _insert_changes(
    session: Session,
    *,
    source_id: int,
    changes: Sequence[Change],
    item_ids: dict[str, int],
    stored_items: Collection[str],
) -> int:
    """Insert the changes not stored yet; only items in `stored_items` (stored before this write)
    can have stored changes."""
    missing = {c.item_external_id for c in changes} - item_ids.keys()
    if missing:
        # A change of an item the store has never seen would be lost silently: refuse the page instead.
        raise NotFoundError(
            "changes refer to items that are not stored", details={"items": sorted(missing)[:20]}
        )
    if not changes:
        return 0
    statements = _statements(session)
    values = statements.values
    # Only changes not stored yet are inserted, through one prepared statement with a parameter
    # list; ON CONFLICT still guards a concurrent writer. Counting is done here because executemany
    # row counts are not portable.
    earlier = {item_ids[c.item_external_id] for c in changes if c.item_external_id in stored_items}
    stored: set[str] = set()
    if earlier:
        stored = {
            external_id
            for (external_id,) in fetch_rows(
                session,
                f"SELECT external_id FROM changes WHERE source_id = {values.mark} "  # noqa: S608
                f"AND {values.member_of('item_id')}",
                (source_id, values.members(earlier)),
            )
        }
    fresh = {c.external_id: c for c in changes if c.external_id not in stored}
    if not fresh:
        return 0
    change_row = statements.change_row
    statements.changes.run(
        session, [change_row(c, source_id, item_ids[c.item_external_id]) for c in fresh.values()]
    )
    return len(fresh)


def find_work_item(session: Session, *, source_id: int, external_id: str) -> WorkItem | None:
    row = session.scalars(
        select(WorkItemRow).where(WorkItemRow.source_id == source_id, WorkItemRow.external_id == external_id)
    ).one_or_none()
    if row is None:
        return None
    project_external_id = session.scalars(
        select(ProjectRow.external_id).where(ProjectRow.id == row.project_id)
    ).one()
    return work_item_from_row(row, project_external_id=project_external_id)


def get_work_item(session: Session, *, source_id: int, external_id: str) -> WorkItem:
    item = find_work_item(session, source_id=source_id, external_id=external_id)
    if item is None:
        raise NotFoundError(f"work item {external_id} not found", details={"external_id": external_id})
    return item


def list_item_external_ids(session: Session, *, source_id: int, project_id: int | None = None) -> set[str]:
    """External ids of items the store holds as visible (for the delete census).

    Read on the driver's cursor: a census reads every id of a source, and ORM rows cost several
    times the query.
    """
    mark = driver_values(session.get_bind().dialect.name).mark
    sql = f"SELECT external_id FROM work_items WHERE source_id = {mark} AND visibility = {mark}"  # noqa: S608
    params: tuple[object, ...] = (source_id, Visibility.VISIBLE.value)
    if project_id is not None:
        sql += f" AND project_id = {mark}"
        params += (project_id,)
    return {external_id for (external_id,) in fetch_rows(session, sql, params)}


def list_item_keys_by_external_id(
    session: Session, *, source_id: int, external_ids: Iterable[str]
) -> dict[str, str]:
    ids = list(external_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(WorkItemRow.external_id, WorkItemRow.key).where(
            WorkItemRow.source_id == source_id, WorkItemRow.external_id.in_(ids)
        )
    )
    return {external_id: key for external_id, key in rows}


def list_project_items(session: Session, *, project_id: int, visible_only: bool = True) -> list[WorkItem]:
    """The project's items as domain objects (with their store ids)."""
    return read_project_items(session, project_id=project_id, visible_only=visible_only)


def list_item_changes(session: Session, *, item_ids: Iterable[int]) -> list[Change]:
    """Every change of the given items as domain objects, oldest first."""
    return read_item_changes(session, item_ids=list(item_ids))


def list_project_milestones(session: Session, *, project_id: int) -> list[Milestone]:
    return read_project_milestones(session, project_id=project_id)


def list_item_updated_at(
    session: Session, *, source_id: int, external_ids: Iterable[str]
) -> dict[str, datetime]:
    """When the stored payload of each item was last updated at the provider (absent: not stored)."""
    ids = list(external_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(WorkItemRow.external_id, WorkItemRow.updated_at).where(
            WorkItemRow.source_id == source_id, WorkItemRow.external_id.in_(ids)
        )
    )
    return {external_id: updated_at for external_id, updated_at in rows}


def refresh_board_derived_fields(session: Session, *, source_id: int, items: Sequence[WorkItem]) -> list[int]:
    """Rewrite status, status category and blocked where only those differ; returns the item ids.

    A Trello card's status name, category and blocked flag also depend on its board (a list renamed,
    a list mapped to another category, the blocked labels reconfigured) while the card's
    `dateLastActivity`, which is its `updated_at`, stays the same; `upsert_work_items` rightly skips
    such a card. This refreshes exactly those fields, and only where the stored row holds the very
    same payload version, so it never regresses a row a newer write has touched.
    """
    if not items:
        return []
    by_id = {item.external_id: item for item in items}
    rows = session.execute(
        select(
            WorkItemRow.id,
            WorkItemRow.external_id,
            WorkItemRow.updated_at,
            WorkItemRow.status,
            WorkItemRow.status_category,
            WorkItemRow.blocked,
        ).where(
            WorkItemRow.source_id == source_id,
            WorkItemRow.external_id.in_(list(by_id)),
            WorkItemRow.visibility == Visibility.VISIBLE.value,
        )
    )
    stale: list[dict[str, object]] = []
    ids: list[int] = []
    for row_id, external_id, updated_at, status, category, blocked in rows:
        item = by_id[external_id]
        if updated_at != item.updated_at:
            continue
        if (status, category, blocked) != (item.status, item.status_category.value, item.blocked):
            ids.append(row_id)
            stale.append(
                {
                    "id": row_id,
                    "status": item.status,
                    "status_category": item.status_category.value,
                    "blocked": item.blocked,
                }
            )
    if stale:
        # ORM bulk UPDATE by primary key: one prepared statement, executemany.
        session.execute(update(WorkItemRow), stale)
    return ids


def stamp_done_times(session: Session, *, source_id: int, external_ids: Collection[str]) -> int:
    """Give each done item among `external_ids` that has no resolution time one; returns how many.

    A Trello card is done by being in a done list: the provider records no resolution time, so the
    views that read `resolved_at` (throughput, cycle time, the digest's done items, the burn-up)
    would leave it out while the feed tells it done. Its done time is when it last changed status
    (the move that put it where it is now), else its last update: the time the rules' facts give
    it too. Run after the batch's changes are written; idempotent.
    """
    if not external_ids:
        return 0
    last_move = (
        select(func.max(ChangeRow.changed_at))
        .where(ChangeRow.item_id == WorkItemRow.id, ChangeRow.field == "status")
        .scalar_subquery()
    )
    rows = session.execute(
        select(WorkItemRow.id, func.coalesce(last_move, WorkItemRow.updated_at)).where(
            WorkItemRow.source_id == source_id,
            WorkItemRow.external_id.in_(list(external_ids)),
            WorkItemRow.status_category == StatusCategory.DONE.value,
            WorkItemRow.resolved_at.is_(None),
        )
    ).all()
    if rows:
        session.execute(update(WorkItemRow), [{"id": row_id, "resolved_at": done} for row_id, done in rows])
    return len(rows)


def count_work_items(session: Session) -> int:
    """Every stored item, deleted and hidden ones included."""
    return int(session.scalar(select(func.count()).select_from(WorkItemRow)) or 0)


def milestone_exists(session: Session, *, milestone_id: int) -> bool:
    return session.get(MilestoneRow, milestone_id) is not None
