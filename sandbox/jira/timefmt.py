"""Jira's time formats: ISO with millis and a colon-less offset, and the date forms JQL accepts."""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

_JQL_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_RELATIVE = re.compile(r"^([+-]?)\s*((?:\d+\s*[wdhm]\s*)+)$")
_RELATIVE_PART = re.compile(r"(\d+)\s*([wdhm])")
_UNIT_MS = {"w": 604_800_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000}


def zone(name: str) -> tzinfo:
    return UTC if name == "UTC" else ZoneInfo(name)


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def format_jira(ms: int, tz: tzinfo) -> str:
    """`2024-09-12T19:21:32.992+0000`: millis, offset without a colon (reference §3).

    Built from `isoformat` (C) rather than two `strftime` calls: formatting instants was the largest
    cost of rendering a search page.
    """
    seconds, millis = divmod(ms, 1000)
    if tz is UTC:
        days, rest = divmod(seconds, 86_400)
        hours, rest = divmod(rest, 3_600)
        minutes, secs = divmod(rest, 60)
        return f"{_utc_day(days)}T{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}+0000"
    text = datetime.fromtimestamp(seconds, tz).isoformat()
    return f"{text[:19]}.{millis:03d}{text[19:].replace(':', '')}"


_EPOCH_DAY = date(1970, 1, 1)


@functools.lru_cache(maxsize=4096)
def _utc_day(days: int) -> str:
    """`YYYY-MM-DD` of a day counted from the epoch (a site's instants fall on few distinct days)."""
    return (_EPOCH_DAY + timedelta(days=days)).isoformat()


def format_offset(ms: int, tz: tzinfo) -> str:
    """`2015-04-11T15:22:00.000+10:00`: millis, offset with a colon, as the agile API dates sprints
    (reference §5a)."""
    text = format_jira(ms, tz)
    return f"{text[:-2]}:{text[-2:]}"


def format_utc_z(ms: int) -> str:
    """Sprint dates use UTC with `Z` (reference §3, Sprint custom field)."""
    return format_jira(ms, UTC)[:-5] + "Z"


def parse_jql_time(text: str, *, tz: tzinfo, now_ms: int) -> int | None:
    """Epoch millis for a JQL date operand, or None when it is not one.

    JQL takes epoch millis, `yyyy-MM-dd`, `yyyy/MM/dd`, either with ` HH:mm`, in the user's time zone,
    and relative offsets such as `-1d` or `-2w 3d`.
    """
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    match = _JQL_DATE.match(stripped)
    if match:
        year, month, day, hour, minute = match.groups()
        try:
            moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=tz)
        except ValueError:
            return None
        return to_ms(moment)
    relative = _RELATIVE.match(stripped)
    if relative:
        sign = -1 if relative.group(1) == "-" else 1
        total = sum(int(n) * _UNIT_MS[unit] for n, unit in _RELATIVE_PART.findall(relative.group(2)))
        return now_ms + sign * total
    return None


def start_of_day_ms(now_ms: int, tz: tzinfo, *, days: int = 0) -> int:
    local = datetime.fromtimestamp(now_ms / 1000, tz).date() + timedelta(days=days)
    return to_ms(datetime(local.year, local.month, local.day, tzinfo=tz))


def parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
