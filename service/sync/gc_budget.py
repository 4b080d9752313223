"""Fewer garbage collections while a bulk sync allocates.

A full sync decodes hundreds of thousands of short-lived JSON containers. With the default young
generation threshold (700) CPython collects the young and middle generations every few hundred of
them, and promotes enough survivors (a batch awaiting its write) to trigger full collections of the
whole heap: about a third of the syncing process's CPU for 10,000 issues. Almost all of these
containers are acyclic and freed by reference counting, so a larger young generation while the
sync runs costs little memory and saves most of that time. Large objects must not hang on
reference cycles meanwhile: `HttpSession` frees each response body with its last reference.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# A batch of 1,000 issues in flight (decoded pages, mapped items, changelogs) holds tens of thousands
# of containers; a young generation several batches large keeps collections rare (300,000 measured
# a quarter of the young collection time of 100,000), and acyclic garbage is freed at once anyway.
BULK_YOUNG_THRESHOLD = 300_000


class _YoungThreshold:
    """Shared by nested and concurrent syncs: the last one out restores the previous thresholds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._saved: tuple[int, int, int] | None = None

    def raise_(self) -> None:
        with self._lock:
            if self._holders == 0:
                young, middle, old = gc.get_threshold()
                self._saved = (young, middle, old)
                if young:  # a disabled collector stays disabled
                    gc.set_threshold(max(young, BULK_YOUNG_THRESHOLD), middle, old)
            self._holders += 1

    def restore(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0 and self._saved is not None:
                gc.set_threshold(*self._saved)
                self._saved = None


_THRESHOLD = _YoungThreshold()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """A larger young generation for the block (see the module docstring)."""
    _THRESHOLD.raise_()
    try:
        yield
    finally:
        _THRESHOLD.restore()
