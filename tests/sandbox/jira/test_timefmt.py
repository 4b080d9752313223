"""Jira's time formats, built by hand for speed, read exactly as `strftime` writes them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, tzinfo

import pytest

from sandbox.jira.timefmt import format_jira, format_utc_z, zone


def _strftime_jira(ms: int, tz: tzinfo) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}" + moment.strftime("%z")


@pytest.mark.parametrize(
    "name",
    ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "America/St_Johns"],
)
def test_format_jira_matches_strftime(name: str) -> None:
    tz = zone(name)
    rng = random.Random(name)
    instants = [0, -1, 999, 1_000, 1_711_846_799_999, 1_711_846_800_000] + [
        rng.randint(-(10**12), 4 * 10**12) for _ in range(5_000)
    ]
    for ms in instants:
        assert format_jira(ms, tz) == _strftime_jira(ms, tz)


def test_format_jira_examples() -> None:
    assert format_jira(1_726_168_892_992, UTC) == "2024-09-12T19:21:32.992+0000"
    assert format_jira(1_726_168_892_992, zone("Asia/Kolkata")) == "2024-09-13T00:51:32.992+0530"
    assert format_utc_z(1_726_168_892_992) == "2024-09-12T19:21:32.992Z"


def test_format_utc_z_matches_strftime() -> None:
    rng = random.Random(3)
    for ms in [0, -1, 59_999] + [rng.randint(-(10**12), 4 * 10**12) for _ in range(5_000)]:
        moment = datetime.fromtimestamp(ms / 1000, UTC)
        assert format_utc_z(ms) == moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
