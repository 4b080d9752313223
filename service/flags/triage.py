"""An operator's triage of a flag: acknowledge it (right), snooze it until a date (not now), dismiss
it with a reason (wrong, or not worth telling, for the evidence it has).

The flag keeps its triage (`service.store.flags`), and its history the step. Acknowledging or
dismissing replaces a snooze; an acknowledgement lifts a dismissal, and the flag's comment is queued
again if it does not show the flag as it is. A snooze's end is a date (midnight UTC starting it) or
an ISO instant (UTC when it names no offset), and must be in the future.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from service.domain.enums import DismissReason, FlagListState
from service.domain.signals import Flag
from service.errors import UnprocessableInputError
from service.flags.push_queue import queue_flag_push
from service.store.db import Session
from service.store.flags import acknowledge_flag, dismiss_flag, get_flag, snooze_flag


def acknowledge(session: Session, *, flag_id: int, now: datetime, by: str | None = None) -> Flag:
    flag = acknowledge_flag(session, flag_id=flag_id, now=now, by=by)
    queue_flag_push(session, flag=flag, now=now)
    return flag


def snooze(session: Session, *, flag_id: int, until: str, now: datetime, by: str | None = None) -> Flag:
    """`until`: `YYYY-MM-DD` or an ISO datetime, after `now` (`UnprocessableInputError` else); an
    unknown flag is `NotFoundError` whatever `until` says."""
    get_flag(session, flag_id=flag_id)
    return snooze_flag(session, flag_id=flag_id, until=parse_snooze_end(until, now=now), now=now, by=by)


def dismiss(session: Session, *, flag_id: int, reason: str, now: datetime, by: str | None = None) -> Flag:
    get_flag(session, flag_id=flag_id)
    return dismiss_flag(session, flag_id=flag_id, reason=parse_dismiss_reason(reason), now=now, by=by)


def parse_dismiss_reason(text: str) -> DismissReason:
    try:
        return DismissReason(text)
    except ValueError as exc:
        raise UnprocessableInputError(
            f"reason must be one of {', '.join(r.value for r in DismissReason)}",
            details={"field": "reason", "value": text},
        ) from exc


def parse_list_state(text: str) -> FlagListState:
    try:
        return FlagListState(text)
    except ValueError as exc:
        raise UnprocessableInputError(
            f"state must be one of {', '.join(s.value for s in FlagListState)}",
            details={"field": "state", "value": text},
        ) from exc


def parse_snooze_end(text: str, *, now: datetime) -> datetime:
    """The instant a snooze ends: a date's first instant (UTC) or an ISO datetime, after `now`."""
    value = text.strip()
    until: datetime
    try:
        if len(value) == len("YYYY-MM-DD"):
            until = datetime.combine(date.fromisoformat(value), time.min, tzinfo=UTC)
        else:
            until = datetime.fromisoformat(value)
            if until.tzinfo is None:
                until = until.replace(tzinfo=UTC)
    except ValueError as exc:
        raise UnprocessableInputError(
            "until must be a date (YYYY-MM-DD) or an ISO datetime",
            details={"field": "until", "value": text},
        ) from exc
    if until <= now:
        raise UnprocessableInputError(
            "a snooze must end in the future",
            details={"field": "until", "value": text, "now": now.isoformat()},
        )
    return until.astimezone(UTC)
