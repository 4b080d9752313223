"""Trello ids are MongoDB ObjectIds: 24 hex digits whose first 8 are the creation time in epoch seconds.

That is why `since` and `before` accept an id as well as a date (TOAS, board actions parameters).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
_TIME_DIGITS = 8
_COUNTER_DIGITS = 16


def is_trello_id(value: str) -> bool:
    return _OBJECT_ID.fullmatch(value) is not None


def created_at_from_id(trello_id: str) -> datetime:
    """The creation instant (whole seconds, UTC) embedded in an id; `ValueError` if it is not an id."""
    if not is_trello_id(trello_id):
        raise ValueError("not a Trello id (24 hex digits expected)")
    return datetime.fromtimestamp(int(trello_id[:_TIME_DIGITS], 16), tz=UTC)


def boundary_id_at(moment: datetime) -> str:
    """The smallest id created in `moment`'s second, usable as a `since`/`before` bound."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return f"{int(moment.timestamp()):0{_TIME_DIGITS}x}" + "0" * _COUNTER_DIGITS
