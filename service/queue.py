"""The seam between what produces work (API, CLI) and the job runner that does it.

Entrypoints receive an `Enqueuer`; the job runner implements it. Only ids cross: the rows hold the
data, so a lost trigger loses nothing (the sweep re-triggers what is left behind).
"""

from __future__ import annotations

from typing import Protocol


class Enqueuer(Protocol):
    def process_delivery(self, inbox_id: int) -> None:
        """Process one stored webhook delivery."""

    def process_deliveries(self, inbox_ids: list[int]) -> None:
        """Process stored webhook deliveries in order, as one job."""

    def sync_source(self, source_id: int) -> None:
        """Run an incremental sync of one source."""

    def run_rules(self, run_id: int) -> None:
        """Do one queued rule run (a dry run asked through the admin API)."""

    def evaluate_all(self) -> None:
        """Evaluate every project of every source over what is stored (then drain the push-back)."""
