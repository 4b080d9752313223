"""What operators send and read under /admin/rules: a rule file's text, its check, its dry run (a
rule run)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from service.api.schemas.common import RequestBody
from service.domain.enums import FlagSubject, RuleRunKind, RuleRunStatus
from service.flags.rulesets import parse_duration

MAX_DRY_RUN_WINDOW = timedelta(days=365)


def _window_in_bounds(text: str) -> str:
    window = parse_duration(text)
    if window <= timedelta(0):
        raise ValueError("the window must be longer than zero")
    if window > MAX_DRY_RUN_WINDOW:
        raise ValueError(f"the window is at most {MAX_DRY_RUN_WINDOW.days} days")
    return text


RuleText = Annotated[
    str, Field(description="A YAML rule file's text, as `pmbridge rules check` reads it from a file.")
]
Window = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,6}[dhw]$",
        description="How far back to replay: a number and a unit (`90d`, `12w`, `48h`), at most 365 days.",
    ),
    AfterValidator(_window_in_bounds),
]


class RuleFileIn(RequestBody):
    rules: RuleText


class DryRunIn(RequestBody):
    rules: RuleText
    since: Window = "90d"

    def window(self) -> timedelta:
        return parse_duration(self.since)


class RuleFileCheckOut(BaseModel):
    ok: Literal[True]
    custom_rules: list[str] = Field(description="The ids of the file's custom rules, in file order.")
    builtin_overrides: list[str] = Field(description="The built-in rules the file configures, sorted.")


class DryRunHitOut(BaseModel):
    rule: str
    subject: FlagSubject
    subject_key: str
    first_flagged_at: datetime
    resolved_at: datetime | None = Field(description="When it would have resolved; null if still flagged.")
    days_flagged: int = Field(description="How many replayed days it was flagged on.")
    message: str = Field(description="The message of its first finding.")


class DryRunOut(BaseModel):
    hits: list[DryRunHitOut]


class RuleRunOut(BaseModel):
    """A dry run asked through the API: queued, then run as a job, then its hits or its error."""

    id: int
    kind: RuleRunKind
    status: RuleRunStatus
    progress: float = Field(ge=0, le=1, description="The share of the window replayed so far.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = Field(description="Why the run failed; null unless `status` is `failed`.")
    result: DryRunOut | None = Field(description="The hits, once `status` is `succeeded`; null before.")
