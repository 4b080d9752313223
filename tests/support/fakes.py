"""Fakes of the service's own seams, injected where production code takes a dependency."""

from __future__ import annotations


class RecordingEnqueuer:
    """An `Enqueuer` that only records what it was asked to do."""

    def __init__(self) -> None:
        self.deliveries: list[int] = []
        self.syncs: list[int] = []

    def process_delivery(self, inbox_id: int) -> None:
        self.deliveries.append(inbox_id)

    def process_deliveries(self, inbox_ids: list[int]) -> None:
        self.deliveries.extend(inbox_ids)

    def sync_source(self, source_id: int) -> None:
        self.syncs.append(source_id)
