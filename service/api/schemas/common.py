"""Shapes every route shares: the error body, data freshness, and the documented error answers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from service.domain.enums import SourceKind


def contains_nul(value: object) -> bool:
    """Whether a NUL character (U+0000) is in this JSON value, its strings or its keys, at any depth."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v) for v in value)
    return False


class RequestBody(BaseModel):
    """Base of every request body: unknown fields are refused, so nothing is mass-assigned; text
    holding a NUL character is refused, since PostgreSQL cannot store one and SQLite would keep
    what PostgreSQL refuses."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, value: object) -> object:
        if contains_nul(value):
            raise PydanticCustomError("nul_character", "text may not contain a NUL character (U+0000)")
        return value


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    error: ErrorDetail


class SourceFreshnessOut(BaseModel):
    source_id: int
    name: str
    kind: SourceKind
    last_synced_at: datetime | None
    last_census_at: datetime | None
    census_complete: bool


class FreshnessOut(BaseModel):
    """How current the data behind a response is: each source's last successful sync and census."""

    sources: list[SourceFreshnessOut]
    census_complete: bool


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "The request is malformed (a bad cursor, an invalid filter).",
        401: "No valid bearer token.",
        403: "The token may not use this route.",
        404: "No such object within the caller's reach.",
        409: "The object exists already.",
        413: "The body is over 1 MiB.",
        422: "The body or a parameter is not valid.",
        429: "Too many requests for this token; see Retry-After.",
        503: "The database is unavailable.",
    }
    return {code: {"model": ErrorBody, "description": descriptions[code]} for code in codes}


NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Unchanged since the ETag given."}}
CLIENT_ERRORS = error_responses(401, 403, 422, 429, 503)
CLIENT_OBJECT_ERRORS = error_responses(401, 403, 404, 422, 429, 503)
ADMIN_ERRORS = error_responses(401, 403, 404, 409, 400, 413, 422, 429, 503)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: object) -> object:
    """JSON and query strings carry a date as "YYYY-MM-DD"; lax parsing would also take a number of
    seconds or a date-time, which a client never means."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("a date is written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
# The days a report may be asked about: periods are counted back and forward from the day given,
# and a day near either end of the calendar would overflow that arithmetic.
EARLIEST_REPORT_DAY = date(1970, 1, 1)
LATEST_REPORT_DAY = date(9998, 12, 31)


def _within_report_days(value: date) -> date:
    if not EARLIEST_REPORT_DAY <= value <= LATEST_REPORT_DAY:
        raise ValueError(f"a report day is between {EARLIEST_REPORT_DAY} and {LATEST_REPORT_DAY}")
    return value


ReportDay = Annotated[date, BeforeValidator(_iso_date_only), AfterValidator(_within_report_days)]
