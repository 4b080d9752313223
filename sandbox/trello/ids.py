"""Trello ids, short links and dates: the small formats every other module of the fake shares."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
_SHORT_LINK = re.compile(r"^[0-9A-Za-z]{8}$")
_SHORT_LINK_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$")


class ObjectIdFactory:
    """Mongo-style ObjectIds: 4 bytes of creation time in seconds, 5 fixed bytes, a 3-byte counter.

    Trello ids are such ObjectIds, which is why `since`/`before` accept an id where a date is expected.
    """

    def __init__(self, *, seed: str) -> None:
        self._machine = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()[:10]
        self._counter = 0

    def new(self, at: datetime) -> str:
        self._counter = (self._counter + 1) % 0x1000000
        return f"{int(at.timestamp()):08x}{self._machine}{self._counter:06x}"


def is_object_id(value: str) -> bool:
    return bool(_OBJECT_ID.match(value))


def is_short_link(value: str) -> bool:
    return bool(_SHORT_LINK.match(value))


def make_short_link(seed: int) -> str:
    chars = []
    for _ in range(8):
        seed, rest = divmod(seed, len(_SHORT_LINK_ALPHABET))
        chars.append(_SHORT_LINK_ALPHABET[rest])
    return "".join(chars)


def id_time(object_id: str) -> datetime:
    return datetime.fromtimestamp(int(object_id[:8], 16), tz=UTC)


def parse_boundary(value: str) -> str | None:
    """An id, or the smallest id of the given second, to compare ids against for `since`/`before`.

    Trello compares ObjectIds: a date becomes the id of its second with zeroed low bytes, so `since=<date>`
    includes that second and `before=<date>` excludes it. `None` when the value is neither form.
    """
    if is_object_id(value):
        return value.lower()
    parsed = parse_date(value)
    if parsed is None:
        return None
    return f"{int(parsed.timestamp()):08x}" + "0" * 16


def parse_date(value: str) -> datetime | None:
    if not _ISO_DATE.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso(moment: datetime | None) -> str | None:
    """Trello's date format: UTC with milliseconds and a `Z`, e.g. `2022-02-04T14:51:12.990Z`."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
