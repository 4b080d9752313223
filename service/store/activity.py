"""Activity: signs of work on items that change none of their fields (comments, Trello card actions).

Rows are keyed by source and provider id, so a replay writes nothing twice. A comment's row follows
the comment: an edit moves its `updated_at` forward, `save_item_comments` makes an item's comments
exactly the complete set its provider listed (a deleted comment goes), and `delete_activity`
removes named rows. Activity of an item the store does not hold is skipped: it arrives again with
the item.

Reads leave out pmbridge's own flag comments (the `pushed_comment_id` of a flag on that item): they
show that pmbridge spoke, not that anyone worked. They are stored like any other comment and left
out when read, because which comment is pmbridge's may be recorded only after the comment was
synced. Reads add the items' worklogs (`worklogs`), each an activity of kind `worklog` dated when
it was logged or last edited: time logged is work, and it is kept once, in its own table.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, select, update
from sqlalchemy.orm import Session

from service.domain.enums import ActivityKind, FlagSubject
from service.domain.work import Activity
from service.store.dialect import upsert_insert
from service.store.orm import ActivityRow, FlagRow, WorkItemRow, WorklogRow

_CHUNK = 500


def save_activity(session: Session, *, source_id: int, activities: Sequence[Activity]) -> list[int]:
    """Add activity not stored yet, and move a stored comment's `updated_at` forward to a later edit.

    Returns the store ids of the items whose activity changed (new rows or later edits).
    """
    if not activities:
        return []
    latest: dict[str, Activity] = {}
    for activity in activities:
        known = latest.get(activity.external_id)
        if known is None or activity.last_at > known.last_at:
            latest[activity.external_id] = activity
    item_ids = _item_ids(
        session, source_id=source_id, external_ids={a.item_external_id for a in latest.values()}
    )
    wanted = {key: a for key, a in latest.items() if a.item_external_id in item_ids}
    stored = _stored(session, source_id=source_id, external_ids=wanted.keys())
    fresh: list[dict[str, object]] = []
    edits: list[dict[str, object]] = []
    changed: set[int] = set()
    for external_id, activity in wanted.items():
        item_id = item_ids[activity.item_external_id]
        found = stored.get(external_id)
        if found is None:
            fresh.append(_row(activity, source_id=source_id, item_id=item_id))
            changed.add(item_id)
        elif activity.last_at > found[1]:
            edits.append({"id": found[0], "updated_at": activity.last_at})
            changed.add(found[2])
    if fresh:
        # A sync's comment pass and a comment webhook may add the same comment at once: the one
        # that commits second finds it stored and adds nothing.
        session.execute(
            upsert_insert(session, ActivityRow).on_conflict_do_nothing(
                index_elements=["source_id", "external_id"]
            ),
            fresh,
        )
    if edits:
        # ORM bulk UPDATE by primary key: one prepared statement, executemany.
        session.execute(update(ActivityRow), edits)
    return sorted(changed)


def save_item_comments(
    session: Session, *, source_id: int, comments: Mapping[str, Sequence[Activity]]
) -> list[int]:
    """Make each listed item's stored comments the complete set given for it: new ones are added,
    edited ones move forward, and stored comments the set lacks (deleted at the provider) go.

    `comments` maps item external ids to every comment the provider lists for the item now. Returns
    the store ids of the items whose comments changed.
    """
    if not comments:
        return []
    item_ids = _item_ids(session, source_id=source_id, external_ids=comments.keys())
    listed = {a.external_id for items in comments.values() for a in items}
    gone: list[int] = []
    changed: set[int] = set()
    held = [item_ids[key] for key in comments if key in item_ids]
    for start in range(0, len(held), _CHUNK):
        rows = session.execute(
            select(ActivityRow.id, ActivityRow.item_id, ActivityRow.external_id).where(
                ActivityRow.item_id.in_(held[start : start + _CHUNK]),
                ActivityRow.kind == ActivityKind.COMMENT.value,
            )
        )
        for row_id, item_id, external_id in rows:
            if external_id not in listed:
                gone.append(row_id)
                changed.add(item_id)
    for start in range(0, len(gone), _CHUNK):
        session.execute(delete(ActivityRow).where(ActivityRow.id.in_(gone[start : start + _CHUNK])))
    written = save_activity(
        session, source_id=source_id, activities=[a for items in comments.values() for a in items]
    )
    return sorted(changed.union(written))


def delete_activity(session: Session, *, source_id: int, external_ids: Collection[str]) -> list[int]:
    """Remove the source's activity with these ids (a comment deleted); returns the store ids of the
    items that had it."""
    ids = sorted(set(external_ids))
    changed: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        where = and_(ActivityRow.source_id == source_id, ActivityRow.external_id.in_(chunk))
        changed.update(session.scalars(select(ActivityRow.item_id).where(where)))
        session.execute(delete(ActivityRow).where(where))
    return sorted(changed)


def list_latest_item_activity(session: Session, *, project_id: int) -> dict[str, Activity]:
    """The latest activity of each of the project's items that has any (worklogs included), by item
    external id, pmbridge's own comments left out: what an evaluation needs of activity now."""
    latest = (
        select(ActivityRow.item_id, func.max(ActivityRow.updated_at).label("at"))
        .join(WorkItemRow, WorkItemRow.id == ActivityRow.item_id)
        .where(WorkItemRow.project_id == project_id, _not_own())
        .group_by(ActivityRow.item_id)
        .subquery()
    )
    rows = session.execute(
        select(ActivityRow, WorkItemRow.external_id)
        .join(WorkItemRow, WorkItemRow.id == ActivityRow.item_id)
        .join(latest, and_(latest.c.item_id == ActivityRow.item_id, latest.c.at == ActivityRow.updated_at))
        .where(_not_own())
        .order_by(ActivityRow.id)
    )
    found = {external_id: _activity(row, external_id) for row, external_id in rows}
    latest_logged = (
        select(WorklogRow.item_id, func.max(WorklogRow.updated_at).label("at"))
        .join(WorkItemRow, WorkItemRow.id == WorklogRow.item_id)
        .where(WorkItemRow.project_id == project_id)
        .group_by(WorklogRow.item_id)
        .subquery()
    )
    logged = session.execute(
        select(WorklogRow, WorkItemRow.external_id)
        .join(WorkItemRow, WorkItemRow.id == WorklogRow.item_id)
        .join(
            latest_logged,
            and_(latest_logged.c.item_id == WorklogRow.item_id, latest_logged.c.at == WorklogRow.updated_at),
        )
        .order_by(WorklogRow.id)
    )
    for worklog, external_id in logged:
        known = found.get(external_id)
        if known is None or worklog.updated_at > known.last_at:
            found[external_id] = _logged(worklog, external_id)
    return found


def list_project_activity(session: Session, *, project_id: int) -> list[Activity]:
    """Every activity of the project's items (worklogs included), oldest first, pmbridge's own
    comments left out (the history a dry run replays)."""
    rows = session.execute(
        select(ActivityRow, WorkItemRow.external_id)
        .join(WorkItemRow, WorkItemRow.id == ActivityRow.item_id)
        .where(WorkItemRow.project_id == project_id, _not_own())
        .order_by(ActivityRow.created_at, ActivityRow.id)
    )
    found = [_activity(row, external_id) for row, external_id in rows]
    logged = session.execute(
        select(WorklogRow, WorkItemRow.external_id)
        .join(WorkItemRow, WorkItemRow.id == WorklogRow.item_id)
        .where(WorkItemRow.project_id == project_id)
        .order_by(WorklogRow.updated_at, WorklogRow.id)
    )
    found += [_logged(worklog, external_id) for worklog, external_id in logged]
    return sorted(found, key=lambda activity: activity.created_at)


def list_item_activity(session: Session, *, source_id: int, item_external_id: str) -> list[Activity]:
    """Every activity of one item, oldest first, pmbridge's own comments included (what is stored)."""
    rows = session.execute(
        select(ActivityRow, WorkItemRow.external_id)
        .join(WorkItemRow, WorkItemRow.id == ActivityRow.item_id)
        .where(WorkItemRow.source_id == source_id, WorkItemRow.external_id == item_external_id)
        .order_by(ActivityRow.created_at, ActivityRow.id)
    )
    return [_activity(row, external_id) for row, external_id in rows]


def count_activity(session: Session, *, source_id: int | None = None) -> int:
    query = select(func.count()).select_from(ActivityRow)
    if source_id is not None:
        query = query.where(ActivityRow.source_id == source_id)
    return int(session.scalar(query) or 0)


def _not_own() -> ColumnElement[bool]:
    own = (
        select(FlagRow.id)
        .where(
            FlagRow.subject == FlagSubject.ITEM.value,
            FlagRow.subject_id == ActivityRow.item_id,
            FlagRow.pushed_comment_id == ActivityRow.external_id,
        )
        .exists()
    )
    return ~own


def _item_ids(session: Session, *, source_id: int, external_ids: Iterable[str]) -> dict[str, int]:
    ids = sorted(set(external_ids))
    found: dict[str, int] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(WorkItemRow.external_id, WorkItemRow.id).where(
                WorkItemRow.source_id == source_id, WorkItemRow.external_id.in_(ids[start : start + _CHUNK])
            )
        )
        found.update((external_id, row_id) for external_id, row_id in rows)
    return found


def _stored(
    session: Session, *, source_id: int, external_ids: Iterable[str]
) -> dict[str, tuple[int, datetime, int]]:
    """(row id, updated_at, item id) of the stored activity with these ids."""
    ids = sorted(set(external_ids))
    found: dict[str, tuple[int, datetime, int]] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(
                ActivityRow.external_id, ActivityRow.id, ActivityRow.updated_at, ActivityRow.item_id
            ).where(
                ActivityRow.source_id == source_id, ActivityRow.external_id.in_(ids[start : start + _CHUNK])
            )
        )
        found.update((external_id, (row_id, at, item_id)) for external_id, row_id, at, item_id in rows)
    return found


def _row(activity: Activity, *, source_id: int, item_id: int) -> dict[str, object]:
    return {
        "source_id": source_id,
        "item_id": item_id,
        "external_id": activity.external_id,
        "kind": activity.kind.value,
        "author": activity.author[:200] if activity.author else None,
        "created_at": activity.created_at,
        "updated_at": activity.last_at,
    }


def _activity(row: ActivityRow, item_external_id: str) -> Activity:
    return Activity(
        id=row.id,
        source_id=row.source_id,
        item_external_id=item_external_id,
        external_id=row.external_id,
        kind=ActivityKind(row.kind),
        author=row.author,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _logged(worklog: WorklogRow, item_external_id: str) -> Activity:
    """A worklog as activity: when it was logged or last edited (the table keeps no creation time)."""
    return Activity(
        source_id=worklog.source_id,
        item_external_id=item_external_id,
        external_id=f"worklog:{worklog.external_id}",
        kind=ActivityKind.WORKLOG,
        created_at=worklog.updated_at,
        updated_at=worklog.updated_at,
    )
