"""Projects, milestones, work items and their changes: bulk upserts on the sync path, lookups elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.domain.enums import Visibility
from service.domain.work import Change, Milestone, Project, WorkItem
from service.errors import NotFoundError
from service.store.dialect import analyze_if_outgrown, upsert_insert
from service.store.item_statements import ItemStatements, item_row, item_statements
from service.store.orm import (
    ChangeRow,
    ItemMilestoneRow,
    MilestoneRow,
    ProjectRow,
    WorkItemRow,
)


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What a bulk upsert wrote: ids of items whose stored state changed, and new change rows."""

    changed_item_ids: tuple[int, ...]
    changes_added: int


def upsert_projects(session: Session, *, projects: Sequence[Project]) -> dict[str, int]:
    """Insert or refresh projects; returns their ids by external id."""
    if not projects:
        return {}
    stmt = upsert_insert(session, ProjectRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source_id", "external_id"],
        set_={"key": stmt.excluded.key, "name": stmt.excluded.name, "url": stmt.excluded.url},
    )
    session.execute(
        stmt,
        [
            {
                "source_id": p.source_id,
                "external_id": p.external_id,
                "key": p.key,
                "name": p.name,
                "url": p.url,
                "settings": {},
            }
            for p in projects
        ],
    )
    source_ids = {p.source_id for p in projects}
    rows = session.execute(
        select(ProjectRow.external_id, ProjectRow.id).where(ProjectRow.source_id.in_(source_ids))
    )
    return {external_id: row_id for external_id, row_id in rows}


def upsert_milestones(session: Session, *, source_id: int, milestones: Sequence[Milestone]) -> None:
    if not milestones:
        return
    project_ids = _project_ids(session, source_id=source_id)
    stmt = upsert_insert(session, MilestoneRow)
    refreshed = ("name", "kind", "start_date", "due_date", "released", "completed_at", "project_id")
    stmt = stmt.on_conflict_do_update(
        index_elements=["source_id", "external_id"],
        set_={name: stmt.excluded[name] for name in refreshed},
    )
    session.execute(
        stmt,
        [
            {
                "source_id": source_id,
                "project_id": _require_project(project_ids, m.project_external_id),
                "external_id": m.external_id,
                "name": m.name,
                "kind": m.kind.value,
                "start_date": m.start_date,
                "due_date": m.due_date,
                "released": m.released,
                "completed_at": m.completed_at,
            }
            for m in milestones
        ],
    )


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
    to_write = _select_newer(session, source_id=source_id, newest=newest, authoritative=authoritative)
    if to_write:
        _upsert_persons(session, source_id=source_id, items=to_write)
        _write_items(session, source_id=source_id, items=to_write, authoritative=authoritative)
    item_ids = _item_ids(
        session, source_id=source_id, external_ids={*newest, *(c.item_external_id for c in changes)}
    )
    changed_ids = tuple(item_ids[item.external_id] for item in to_write)
    if to_write:
        _link_milestones(session, source_id=source_id, items=to_write, item_ids=item_ids)
    added = _insert_changes(session, source_id=source_id, changes=changes, item_ids=item_ids)
    if len(to_write) >= BULK_WRITE_ITEMS:
        analyze_if_outgrown(session, WorkItemRow)
    return UpsertResult(changed_item_ids=changed_ids, changes_added=added)


def select_items_to_write(
    session: Session, *, source_id: int, items: Sequence[WorkItem], authoritative: bool = True
) -> list[WorkItem]:
    """The items `upsert_work_items` would write (see there).

    Lets a sync fetch changelogs only for what changed, before it opens its write transaction.
    """
    return _select_newer(
        session, source_id=source_id, newest=_newest_per_external_id(items), authoritative=authoritative
    )


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


def _select_newer(
    session: Session, *, source_id: int, newest: dict[str, WorkItem], authoritative: bool
) -> list[WorkItem]:
    if not newest:
        return []
    stored = {
        external_id: (updated_at, visibility, changed_at)
        for external_id, updated_at, visibility, changed_at in session.execute(
            select(
                WorkItemRow.external_id,
                WorkItemRow.updated_at,
                WorkItemRow.visibility,
                WorkItemRow.visibility_changed_at,
            ).where(WorkItemRow.source_id == source_id, WorkItemRow.external_id.in_(list(newest)))
        )
    }

    def wanted(item: WorkItem) -> bool:
        if item.external_id not in stored:
            return True
        updated_at, visibility, changed_at = stored[item.external_id]
        if visibility == Visibility.VISIBLE.value:
            return updated_at < item.updated_at
        if authoritative:
            return True
        return updated_at < item.updated_at and (changed_at is None or changed_at < item.updated_at)

    return [item for item in newest.values() if wanted(item)]


def _project_ids(session: Session, *, source_id: int) -> dict[str, int]:
    rows = session.execute(
        select(ProjectRow.external_id, ProjectRow.id).where(ProjectRow.source_id == source_id)
    )
    return {external_id: row_id for external_id, row_id in rows}


def _require_project(project_ids: dict[str, int], external_id: str) -> int:
    try:
        return project_ids[external_id]
    except KeyError:
        raise NotFoundError(
            f"project {external_id} is not stored; upsert projects first", details={"project": external_id}
        ) from None


def _item_ids(session: Session, *, source_id: int, external_ids: set[str]) -> dict[str, int]:
    if not external_ids:
        return {}
    rows = session.execute(
        select(WorkItemRow.external_id, WorkItemRow.id).where(
            WorkItemRow.source_id == source_id, WorkItemRow.external_id.in_(list(external_ids))
        )
    )
    return {external_id: row_id for external_id, row_id in rows}


def _upsert_persons(session: Session, *, source_id: int, items: Sequence[WorkItem]) -> None:
    persons = {item.assignee.external_id: item.assignee for item in items if item.assignee is not None}
    if not persons:
        return
    _statements(session).persons.run(
        session, [(source_id, p.external_id, p.display_name, p.email) for p in persons.values()]
    )


def _statements(session: Session) -> ItemStatements:
    return item_statements(session.get_bind().dialect.name)


def _write_items(session: Session, *, source_id: int, items: Sequence[WorkItem], authoritative: bool) -> None:
    project_ids = _project_ids(session, source_id=source_id)
    statements = _statements(session)
    values = statements.values
    rows = [item_row(item, _require_project(project_ids, item.project_external_id), values) for item in items]
    # One prepared statement run with the driver's executemany: the fast path (DESIGN §3).
    (statements.listed_items if authoritative else statements.pushed_items).run(session, rows)


def _link_milestones(
    session: Session, *, source_id: int, items: Sequence[WorkItem], item_ids: dict[str, int]
) -> None:
    ids = [item_ids[item.external_id] for item in items]
    session.execute(delete(ItemMilestoneRow).where(ItemMilestoneRow.item_id.in_(ids)))
    wanted = {m for item in items for m in item.milestone_external_ids}
    if not wanted:
        return
    milestone_ids = {
        external_id: row_id
        for external_id, row_id in session.execute(
            select(MilestoneRow.external_id, MilestoneRow.id).where(
                MilestoneRow.source_id == source_id, MilestoneRow.external_id.in_(list(wanted))
            )
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
    session: Session, *, source_id: int, changes: Sequence[Change], item_ids: dict[str, int]
) -> int:
    missing = {c.item_external_id for c in changes} - item_ids.keys()
    if missing:
        # A change of an item the store has never seen would be lost silently: refuse the page instead.
        raise NotFoundError(
            "changes refer to items that are not stored", details={"items": sorted(missing)[:20]}
        )
    if not changes:
        return 0
    # Only changes not stored yet are inserted, through one prepared statement with a parameter
    # list; ON CONFLICT still guards a concurrent writer. Counting is done here because executemany
    # row counts are not portable.
    stored = set(
        session.scalars(
            select(ChangeRow.external_id).where(
                ChangeRow.source_id == source_id,
                ChangeRow.item_id.in_({item_ids[c.item_external_id] for c in changes}),
            )
        )
    )
    fresh = {c.external_id: c for c in changes if c.external_id not in stored}
    if not fresh:
        return 0
    statements = _statements(session)
    moment = statements.values.datetime
    statements.changes.run(
        session,
        [
            (
                source_id,
                item_ids[c.item_external_id],
                c.external_id,
                c.field,
                c.from_value,
                c.to_value,
                c.from_display,
                c.to_display,
                c.author,
                moment(c.changed_at),
            )
            for c in fresh.values()
        ],
    )
    return len(fresh)
