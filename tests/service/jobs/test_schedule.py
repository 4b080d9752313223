from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.domain.enums import SourceKind
from service.domain.work import Source
from service.jobs.schedule import census_due, evaluation_due, sources_due_for_sync

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def source(source_id: int, last: datetime | None) -> Source:
    return Source(
        id=source_id,
        kind=SourceKind.JIRA_CLOUD,
        name=f"s{source_id}",
        base_url="https://x",
        last_synced_at=last,
    )


def test_sources_due_for_sync_never_synced_or_stale_only() -> None:
    sources = [
        source(1, None),
        source(2, NOW - timedelta(minutes=11)),
        source(3, NOW - timedelta(minutes=3)),
        source(4, NOW - timedelta(minutes=10)),
    ]

    assert sources_due_for_sync(sources, now=NOW, interval=timedelta(minutes=10)) == [1, 2, 4]


@pytest.mark.parametrize(
    ("now", "expected"),
    [(NOW, True), (NOW + timedelta(minutes=1), False), (NOW + timedelta(hours=1), False)],
    ids=["on-the-hour", "a-minute-later", "next-hour"],
)
def test_census_due_once_a_day_at_the_configured_hour(now: datetime, expected: bool) -> None:
    assert census_due(now, hour_utc=3) is expected


@pytest.mark.parametrize(
    ("minute_of_day", "every", "expected"),
    [(0, 60, True), (60, 60, True), (61, 60, False), (90, 30, True), (95, 30, False)],
    ids=["midnight", "on-the-hour", "past-the-hour", "half-hour-beat", "off-beat"],
)
def test_evaluation_due_on_its_beat(minute_of_day: int, every: int, expected: bool) -> None:
    now = NOW.replace(hour=minute_of_day // 60, minute=minute_of_day % 60)

    assert evaluation_due(now, every_minutes=every) is expected
