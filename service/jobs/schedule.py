"""What the periodic tick decides: which sources are due a sync or a census, which deliveries to retry."""

from __future__ import annotations

from datetime import datetime, timedelta

from service.domain.work import Source

# A delivery still pending this long after it arrived lost its job (a crash, a full queue): re-trigger it.
SWEEP_AFTER = timedelta(minutes=2)


def sources_due_for_sync(sources: list[Source], *, now: datetime, interval: timedelta) -> list[int]:
    """Sources never synced, or last synced longer ago than the interval."""
    return [
        s.id
        for s in sources
        if s.id is not None and (s.last_synced_at is None or now - s.last_synced_at >= interval)
    ]


def census_due(now: datetime, *, hour_utc: int) -> bool:
    """The census runs once a day, on the tick at the start of the configured hour."""
    return now.hour == hour_utc and now.minute == 0


def evaluation_due(now: datetime, *, every_minutes: int) -> bool:
    """Time alone makes promises overdue and work stale: all projects are re-evaluated on this beat."""
    minute_of_day = now.hour * 60 + now.minute
    return minute_of_day % every_minutes == 0
