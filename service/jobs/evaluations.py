"""Evaluations owed to webhook changes, coalesced: each changed project once, one pass at a time.

A delivery that changed items marks their projects; the job that marked them then runs the owed
evaluations unless another thread of this process already is, in which case that thread picks
them up before it stops. So a burst of deliveries to one project costs one or two evaluations,
not one per delivery, and the next change waits for at most one pass in progress.

The marks live in memory: a process that dies with marks pending leaves them to the periodic
evaluation (`PMBRIDGE_EVALUATE_INTERVAL_MINUTES`); the deliveries themselves are already applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection

from service.sync.deliveries import DeliveryResult

# source id -> the projects to evaluate, or None for all of the source's projects
EvaluateFn = Callable[[dict[int, Collection[int] | None]], None]


class OwedEvaluations:
    def __init__(self) -> None:
        self._owed: dict[int, set[int] | None] = {}
        self._lock = threading.Lock()
        self._running = threading.Lock()

    def mark(self, result: DeliveryResult) -> None:
        """Note what a processed delivery changed; an unchanged one owes nothing."""
        if result.source_id is None or result.project_ids == frozenset():
            return
        with self._lock:
            if result.project_ids is None:
                self._owed[result.source_id] = None
                return
            owed = self._owed.setdefault(result.source_id, set())
            if owed is not None:
                owed.update(result.project_ids)

    def run(self, evaluate: EvaluateFn) -> None:
        """Evaluate what is owed until nothing is; returns at once when another thread is at it."""
        while self._running.acquire(blocking=False):
            try:
                while True:
                    with self._lock:
                        owed, self._owed = self._owed, {}
                    if not owed:
                        break
                    try:
                        evaluate(dict(owed))
                    except Exception:
                        self._restore(owed)  # still owed: the job's retry or the next one runs it
                        raise
            finally:
                self._running.release()
            # A mark made between the last take and the release would otherwise wait for the next job.
            with self._lock:
                if not self._owed:
                    return

    def _restore(self, owed: dict[int, set[int] | None]) -> None:
        with self._lock:
            for source_id, projects in owed.items():
                current = self._owed.get(source_id, set())
                if projects is None or current is None:
                    self._owed[source_id] = None
                else:
                    self._owed[source_id] = current | projects
