"""A project's push-back settings: whether it pushes, and its budget of new comments.

Stored in the project's settings under `PUSH_SETTINGS_KEY`:
- `enabled`, `dry_run`: the opt-in (off unless switched on);
- `max_per_day` (default 5): new comments a day, counted over the project's local day;
- `quiet_hours` (default none): `"HH:MM-HH:MM"`, local times between which nothing new is posted
  (it may span midnight: `"22:00-07:00"`);
- `timezone` (default `UTC`): the IANA zone of the day and the quiet hours;
- `min_severity` (default `warning`): flags below it get no comment;
- `min_precision` (default 0.8): flags of a rule whose precision in the latest backtest of the
  rules as shipped is below it get no comment (a rule with no decided precision on record is
  let through; see docs/BACKTEST.md).

The budget governs new comments only: edits of a posted comment (new evidence, resolved) are not
budgeted. Settings read back from the store that no longer parse fall back to their defaults, so a
bad stored value never stops the push-back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service.domain.enums import Severity
from service.errors import UnprocessableInputError

DEFAULT_MAX_PER_DAY = 5
DEFAULT_TIMEZONE = "UTC"
DEFAULT_MIN_SEVERITY = Severity.WARNING
# Precision a rule must have shown in the latest backtest for its flags to get a comment.
DEFAULT_MIN_PRECISION = 0.8
# The most a project may ask for: past this a budget is no budget.
MAX_PER_DAY_LIMIT = 10_000
_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def severity_rank(severity: Severity) -> int:
    """Higher is more severe."""
    return _RANK[severity]


@dataclass(frozen=True, slots=True)
class PushPolicy:
    enabled: bool = False
    dry_run: bool = False
    max_per_day: int = DEFAULT_MAX_PER_DAY
    quiet_hours: tuple[time, time] | None = None
    timezone: str = DEFAULT_TIMEZONE
    min_severity: Severity = DEFAULT_MIN_SEVERITY
    min_precision: float = DEFAULT_MIN_PRECISION

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> PushPolicy:
        """The policy stored settings describe; a value that does not parse is its default."""
        policy = cls(
            enabled=bool(settings.get("enabled", False)), dry_run=bool(settings.get("dry_run", False))
        )
        for key in ("max_per_day", "quiet_hours", "timezone", "min_severity", "min_precision"):
            if settings.get(key) is None:
                continue
            try:
                policy = policy.with_changes(**{key: settings[key]})
            except UnprocessableInputError:
                continue
        return policy

    def with_changes(
        self,
        *,
        enabled: bool | None = None,
        dry_run: bool | None = None,
        max_per_day: int | None = None,
        quiet_hours: str | None = None,
        timezone: str | None = None,
        min_severity: str | None = None,
        min_precision: float | None = None,
    ) -> PushPolicy:
        """This policy with the given settings changed, each checked (`UnprocessableInputError`);
        `quiet_hours` `"none"` (or empty) clears them."""
        changed = self
        if enabled is not None:
            changed = replace(changed, enabled=enabled)
        if dry_run is not None:
            changed = replace(changed, dry_run=dry_run)
        if max_per_day is not None:
            changed = replace(changed, max_per_day=parse_max_per_day(max_per_day))
        if quiet_hours is not None:
            changed = replace(changed, quiet_hours=parse_quiet_hours(quiet_hours))
        if timezone is not None:
            changed = replace(changed, timezone=parse_timezone(timezone))
        if min_severity is not None:
            changed = replace(changed, min_severity=parse_severity(min_severity))
        if min_precision is not None:
            changed = replace(changed, min_precision=parse_min_precision(min_precision))
        return changed

    def to_settings(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "dry_run": self.dry_run,
            "max_per_day": self.max_per_day,
            "quiet_hours": self.quiet_hours_text,
            "timezone": self.timezone,
            "min_severity": self.min_severity.value,
            "min_precision": self.min_precision,
        }

    @property
    def quiet_hours_text(self) -> str | None:
        if self.quiet_hours is None:
            return None
        start, end = self.quiet_hours
        return f"{start:%H:%M}-{end:%H:%M}"

    def admits(self, severity: Severity) -> bool:
        """Whether a flag of this severity may get a comment."""
        return severity_rank(severity) >= severity_rank(self.min_severity)

    def trusts(self, precision: float | None) -> bool:
        """Whether a rule of this backtested precision (None: none on record) may comment."""
        return precision is None or precision >= self.min_precision

    def day_of(self, at: datetime) -> tuple[datetime, datetime]:
        """The local day `at` falls in, as [start, end) instants."""
        zone = ZoneInfo(self.timezone)
        day = at.astimezone(zone).date()
        start = datetime.combine(day, time.min, tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        return start, end

    def quiet_until(self, at: datetime) -> datetime | None:
        """When the quiet hours `at` falls in end; None outside them."""
        if self.quiet_hours is None:
            return None
        start, end = self.quiet_hours
        zone = ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        now = local.time().replace(tzinfo=None)
        day = local.date()
        if start < end:
            inside, end_day = start <= now < end, day
        else:
            inside = now >= start or now < end
            end_day = day + timedelta(days=1) if now >= start else day
        return datetime.combine(end_day, end, tzinfo=zone) if inside else None


def parse_max_per_day(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PER_DAY_LIMIT:
        raise UnprocessableInputError(
            f"max_per_day must be a whole number from 0 to {MAX_PER_DAY_LIMIT}",
            details={"field": "max_per_day", "value": str(value)},
        )
    return value


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """`"HH:MM-HH:MM"` local times (24-hour); `"none"` or empty for none."""
    if text.strip().lower() in ("", "none"):
        return None
    match = _QUIET.match(text.strip())
    if match is None:
        raise UnprocessableInputError(
            "quiet hours must be HH:MM-HH:MM (24-hour local times), or none",
            details={"field": "quiet_hours", "value": text},
        )
    start = time(int(match[1]), int(match[2]))
    end = time(int(match[3]), int(match[4]))
    if start == end:
        raise UnprocessableInputError(
            "quiet hours must start and end at different times",
            details={"field": "quiet_hours", "value": text},
        )
    return start, end


def parse_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnprocessableInputError(
            f"unknown time zone {name!r} (an IANA name, such as Europe/Paris)",
            details={"field": "timezone", "value": name},
        ) from exc
    return name


def parse_severity(value: str, *, field: str = "min_severity") -> Severity:
    try:
        return Severity(value)
    except ValueError as exc:
        raise UnprocessableInputError(
            f"{field} must be one of {', '.join(s.value for s in Severity)}",
            details={"field": field, "value": value},
        ) from exc


def parse_min_precision(value: object) -> float:
    """A precision between 0 and 1; 0 lets every rule comment."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise UnprocessableInputError(
            "min_precision must be a number from 0 to 1", details={"field": "min_precision", "value": value}
        )
    return float(value)
