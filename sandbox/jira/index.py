"""The search side of the site: sorted per-project indexes, eventual consistency, and paged execution.

Jira search is eventually consistent (reference §2): with a lag, a changed issue keeps its old position and
old field values in search until the lag has passed; `reconcileIssues` ids are read from the live state.
The hot shape (`ORDER BY updated|created [, id]`) is served by bisecting per-project lists of
(timestamp, id) and merging them; any other order sorts the filtered set once and caches it.
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sandbox.jira.jqlcompile import FOREVER_MS, NEVER_MS, CompiledQuery
from sandbox.jira.model import PRIORITY_BY_ID, Issue

Position = tuple[int, ...]
_TS_FIELDS = ("updated", "created")


@dataclass(frozen=True, slots=True)
class SearchPage:
    issues: list[Issue]
    next_position: Position | None


def _sort_value(issue: Issue, field: str) -> tuple[bool, object]:
    value: object
    if field == "updated":
        value = issue.updated_ms
    elif field == "created":
        value = issue.created_ms
    elif field == "key":
        value = (issue.key.rsplit("-", 1)[0], issue.number)
    elif field == "id":
        value = issue.id
    elif field == "duedate":
        value = issue.duedate
    elif field == "priority":
        value = list(PRIORITY_BY_ID).index(issue.priority_id)
    elif field == "status":
        value = issue.status.name
    elif field == "resolved":
        value = issue.resolution_ms
    elif field == "rank":
        value = issue.rank
    else:
        value = issue.summary.lower()
    return (value is None, value if value is not None else 0)


class SearchIndex:
    def __init__(self) -> None:
        self._lists: dict[str, dict[int, list[tuple[int, int]]]] = {f: {} for f in _TS_FIELDS}
        self._keys: dict[int, tuple[int, int, int]] = {}  # id -> (project_id, updated_ms, created_ms)
        self.visible: dict[int, Issue] = {}
        self._pending: list[tuple[float, int]] = []
        self._frozen: set[int] = set()
        self.version = 0
        self._sorted_cache: OrderedDict[tuple[str, int], list[int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.visible)

    def add_sorted_bulk(self, issues: Iterable[Issue]) -> None:
        """Index many issues at once (scenario generation): append, then sort each list once."""
        for issue in issues:
            self._keys[issue.id] = (issue.project_id, issue.updated_ms, issue.created_ms)
            self.visible[issue.id] = issue
            self._lists["updated"].setdefault(issue.project_id, []).append((issue.updated_ms, issue.id))
            self._lists["created"].setdefault(issue.project_id, []).append((issue.created_ms, issue.id))
        for per_project in self._lists.values():
            for keys in per_project.values():
                keys.sort()
        self.version += 1

    def apply(self, issue_id: int, issue: Issue | None) -> None:
        """Make search see `issue` (None: gone) right now."""
        old = self._keys.pop(issue_id, None)
        if old is not None:
            project_id, updated_ms, created_ms = old
            for field, ts in (("updated", updated_ms), ("created", created_ms)):
                keys = self._lists[field][project_id]
                pos = bisect_left(keys, (ts, issue_id))
                if pos < len(keys) and keys[pos] == (ts, issue_id):
                    del keys[pos]
            self.visible.pop(issue_id, None)
        if issue is not None:
            self._keys[issue_id] = (issue.project_id, issue.updated_ms, issue.created_ms)
            self.visible[issue_id] = issue
            insort(self._lists["updated"].setdefault(issue.project_id, []), (issue.updated_ms, issue_id))
            insort(self._lists["created"].setdefault(issue.project_id, []), (issue.created_ms, issue_id))
        self._frozen.discard(issue_id)
        self.version += 1

    def freeze(self, issue: Issue) -> None:
        """Before a lagged change: search keeps a copy of the issue as it is now."""
        if issue.id in self._keys and issue.id not in self._frozen:
            self.visible[issue.id] = issue.snapshot()
            self._frozen.add(issue.id)

    def schedule(self, issue_id: int, due: float) -> None:
        heapq.heappush(self._pending, (due, issue_id))

    def catch_up(self, now: float, live: Callable[[int], Issue | None]) -> None:
        while self._pending and self._pending[0][0] <= now:
            _, issue_id = heapq.heappop(self._pending)
            if not any(pending_id == issue_id for _, pending_id in self._pending):
                self.apply(issue_id, live(issue_id))

    def search(
        self,
        query: CompiledQuery,
        *,
        fingerprint: str,
        after: Position | None,
        limit: int,
        reconciled: dict[int, Issue | None],
    ) -> SearchPage:
        """One page after `after`; `reconciled` maps reconcileIssues ids to their live state (None: gone)."""
        order = query.order or (("created", True),)
        if self._fits_index(order, query):
            return self._search_indexed(query, order[0], after, limit, reconciled)
        return self._search_sorted(query, order, fingerprint, after, limit, reconciled)

    @staticmethod
    def _fits_index(order: tuple[tuple[str, bool], ...], query: CompiledQuery) -> bool:
        first, descending = order[0]
        if first not in _TS_FIELDS:
            return False
        if len(order) == 1:
            return True
        if len(order) > 2 or order[1][1] != descending:
            return False
        # Within one project, ids grow with key numbers, so key order equals id order.
        single_project = query.project_ids is not None and len(query.project_ids) == 1
        return order[1][0] == "id" or (order[1][0] == "key" and single_project)

    def _search_indexed(
        self,
        query: CompiledQuery,
        order: tuple[str, bool],
        after: Position | None,
        limit: int,
        reconciled: dict[int, Issue | None],
    ) -> SearchPage:
        field, descending = order
        low, high = query.bounds.get(field, (NEVER_MS, FOREVER_MS))
        lists = self._lists[field]
        projects = query.project_ids if query.project_ids is not None else lists.keys()
        streams: list[Iterator[tuple[int, int]]] = []
        for project_id in projects:
            keys = lists.get(project_id)
            if keys:
                streams.append(self._scan(keys, low, high, after, descending))

        def live_key(issue: Issue) -> tuple[int, int]:
            return (issue.updated_ms if field == "updated" else issue.created_ms, issue.id)

        live = {issue_id: issue for issue_id, issue in reconciled.items() if issue is not None}
        extra = sorted((live_key(i) for i in live.values()), reverse=descending)
        extra = [k for k in extra if after is None or (k < after if descending else k > after)]
        streams.append(iter(extra))
        emitted: set[int] = set()
        merged = heapq.merge(*streams, reverse=descending)
        found: list[Issue] = []
        last: Position | None = None
        predicate = query.predicate
        visible = self.visible
        for key in merged:
            issue_id = key[1]
            if issue_id in reconciled:
                reconciled_issue = live.get(issue_id)
                if reconciled_issue is None or issue_id in emitted or key != live_key(reconciled_issue):
                    continue
                emitted.add(issue_id)
                issue = reconciled_issue
            else:
                issue = visible[issue_id]
            if predicate(issue):
                if len(found) == limit:
                    return SearchPage(found, last)
                found.append(issue)
                last = key
        return SearchPage(found, None)

    @staticmethod
    def _scan(
        keys: list[tuple[int, int]], low: int, high: int, after: Position | None, descending: bool
    ) -> Iterator[tuple[int, int]]:
        if descending:
            end = bisect_right(keys, (high, FOREVER_MS))
            if after is not None:
                end = min(end, bisect_left(keys, (after[0], after[1])))
            start = bisect_left(keys, (low, NEVER_MS))
            return (keys[i] for i in range(end - 1, start - 1, -1))
        start = bisect_left(keys, (low, NEVER_MS))
        if after is not None:
            start = max(start, bisect_right(keys, (after[0], after[1])))
        end = bisect_right(keys, (high, FOREVER_MS))
        return itertools.islice(keys, start, end)

    def _search_sorted(
        self,
        query: CompiledQuery,
        order: tuple[tuple[str, bool], ...],
        fingerprint: str,
        after: Position | None,
        limit: int,
        reconciled: dict[int, Issue | None],
    ) -> SearchPage:
        live = {issue_id: issue for issue_id, issue in reconciled.items() if issue is not None}
        cache_key = (fingerprint, self.version)
        ids = None if reconciled else self._sorted_cache.get(cache_key)
        if ids is None:
            candidates = [
                issue
                for issue in self.visible.values()
                if issue.id not in reconciled
                and (query.project_ids is None or issue.project_id in query.project_ids)
            ]
            candidates.extend(live.values())
            matching = [issue for issue in candidates if query.predicate(issue)]
            matching.sort(key=lambda issue: issue.id, reverse=order[0][1])
            for field, descending in reversed(order):
                matching.sort(key=lambda issue, f=field: _sort_value(issue, f), reverse=descending)  # type: ignore[misc]
            ids = [issue.id for issue in matching]
            if not reconciled:
                self._sorted_cache[cache_key] = ids
                while len(self._sorted_cache) > 32:
                    self._sorted_cache.popitem(last=False)
        # Positions here are (offset, last id): resume after the last id when it is still in place.
        start = 0
        if after is not None:
            offset, last_id = after
            start = offset
            if not (0 < offset <= len(ids) and ids[offset - 1] == last_id):
                start = ids.index(last_id) + 1 if last_id in ids else min(offset, len(ids))
        page_ids = ids[start : start + limit]
        issues = [live.get(i) or self.visible[i] for i in page_ids]
        end = start + len(page_ids)
        next_position = (end, page_ids[-1]) if end < len(ids) and page_ids else None
        return SearchPage(issues, next_position)
