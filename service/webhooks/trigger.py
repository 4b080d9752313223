"""Triggering the jobs of stored deliveries off the request path, coalesced into batches.

An acknowledgement waits for the delivery's row, never for the job queue: enqueueing costs a
write of its own (huey's SQLite storage commits and syncs for every job), which on the event loop
would cap intake at a few hundred deliveries a second. Accepted ids go into an in-memory queue; one
thread enqueues them as `process_deliveries` jobs, each carrying every id that arrived while the
previous job was being enqueued. At a trickle that is one job per delivery, within milliseconds;
under a storm, one job per few hundred.

Nothing is lost when the process dies with ids still queued here: the rows are stored and pending,
and the periodic sweep re-triggers deliveries left pending (`service.jobs.schedule.SWEEP_AFTER`).
"""

from __future__ import annotations

import queue
import threading
import time

from service.logging import get_logger
from service.queue import Enqueuer

log = get_logger(__name__)

# A job carries at most this many ids, so one batch never holds a worker for long.
MAX_BATCH = 200
# After the first id of a batch, wait this long for more: a burst becomes one job, not one per id.
LINGER_S = 0.005
_STOP = object()


class DeliveryTrigger:
    def __init__(self, enqueuer: Enqueuer, *, max_batch: int = MAX_BATCH, linger_s: float = LINGER_S) -> None:
        self._enqueuer = enqueuer
        self._max_batch = max_batch
        self._linger_s = linger_s
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="delivery-trigger", daemon=True)
        self._thread.start()

    def submit(self, inbox_id: int) -> None:
        """Trigger the job of a stored delivery; returns at once."""
        self._queue.put(inbox_id)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every id submitted before this call was handed to the enqueuer."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Hand over what is queued, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            # Sleep rather than wait on the queue: ids arriving meanwhile wake nobody, so a burst
            # costs the request path one wake-up per batch, not one per id.
            time.sleep(self._linger_s)
            items = [first]
            while len(items) < self._max_batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            batch = [item for item in items if isinstance(item, int)]
            self._enqueue(batch)
            for item in items:
                if isinstance(item, threading.Event):
                    item.set()
            if any(item is _STOP for item in items):
                return

    def _enqueue(self, batch: list[int]) -> None:
        if not batch:
            return
        try:
            self._enqueuer.process_deliveries(batch)
        except Exception as exc:  # the rows are stored: the sweep re-triggers them
            log.warning("webhook.job.enqueue_failed", deliveries=len(batch), error=type(exc).__name__)
