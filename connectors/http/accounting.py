"""Counts of API calls by endpoint and status, recorded by a sync run."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TypedDict

TRANSPORT_FAILURE = "error"


class CallSnapshot(TypedDict):
    """`by_endpoint` maps "METHOD /route/{template}" to status (or "error") to count."""

    total: int
    by_endpoint: dict[str, dict[str, int]]
    by_status: dict[str, int]


class CallAccounting:
    """Thread-safe counters; endpoints are route templates so ids never explode the key space."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def record(self, *, method: str, route: str, status: int | None) -> None:
        endpoint = f"{method.upper()} {route}"
        outcome = TRANSPORT_FAILURE if status is None else str(status)
        with self._lock:
            self._counts[(endpoint, outcome)] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def snapshot(self) -> CallSnapshot:
        with self._lock:
            items = list(self._counts.items())
        by_endpoint: dict[str, dict[str, int]] = {}
        by_status: Counter[str] = Counter()
        for (endpoint, outcome), count in sorted(items):
            by_endpoint.setdefault(endpoint, {})[outcome] = count
            by_status[outcome] += count
        return CallSnapshot(
            total=sum(by_status.values()), by_endpoint=by_endpoint, by_status=dict(sorted(by_status.items()))
        )
