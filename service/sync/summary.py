"""What a sync run reports: to the sync_runs row, the CLI and the metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class SyncSummary:
    source_id: int
    kind: str
    run_id: int | None = None
    status: str = "running"
    items_seen: int = 0
    items_changed: int = 0
    changes_added: int = 0
    items_deleted: int = 0
    items_hidden: int = 0
    worklogs_written: int = 0
    worklogs_deleted: int = 0
    # Items whose activity (comments, Trello card actions) changed.
    activity_changed: int = 0
    api_calls: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    changed_item_ids: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("changed_item_ids")
        data["duration_s"] = round(self.duration_s, 3)
        return data
