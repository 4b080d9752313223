"""What operators send and read under /admin/rules: a rule file's text, its check, its dry run (a
rule run)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from service.api.schemas.common import RequestBody
from service.domain.enums import FlagSubject, RuleRunKind, RuleRunStatus, Severity
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


Step = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,6}[dhw]$",
        description="How often to evaluate within the window: `1d`, `12h`, at least one hour.",
    ),
]


class BacktestIn(RequestBody):
    rules: RuleText | None = Field(
        default=None, description="A rule file over the built-in rules; null: the rules as shipped."
    )
    since: Window = "180d"
    step: Step = "1d"
    until: datetime | None = Field(
        default=None,
        description="Where the window ends (UTC unless it says), not in the future; null: now.",
    )

    @field_validator("until", mode="before")
    @classmethod
    def _until_is_text(cls, value: object) -> object:
        # A number would read as seconds since 1970: an instant is written as ISO 8601 text.
        if value is not None and not isinstance(value, str):
            raise PydanticCustomError("until", "until is an ISO 8601 date-time string")
        return value

    @model_validator(mode="after")
    def _window_and_step_agree(self) -> BacktestIn:
        step = parse_duration(self.step)
        if step < timedelta(hours=1) or step > self.window():
            raise PydanticCustomError("step", "step must be at least 1h and at most the window (since)")
        if self.until is not None and self.ends(datetime.now(UTC)) > datetime.now(UTC):
            raise PydanticCustomError("until", "until is in the future: a backtest ends now at the latest")
        return self

    def window(self) -> timedelta:
        return parse_duration(self.since)

    def every(self) -> timedelta:
        return parse_duration(self.step)

    def ends(self, now: datetime) -> datetime:
        """Where the window ends: `until` (UTC unless it says) or now."""
        if self.until is None:
            return now
        return self.until if self.until.tzinfo is not None else self.until.replace(tzinfo=UTC)


class BacktestWindowOut(BaseModel):
    since: datetime
    until: datetime
    step: str


class BacktestRuleOut(BaseModel):
    rule: str
    flags: int = Field(description="Flags raised: episodes of the rule on one subject.")
    earned: int = Field(description="Flags whose promise was then missed, or that an operator acknowledged.")
    not_earned: int
    pending: int = Field(description="Flags whose promise was still undecided at the window's end.")
    without_promise: int = Field(description="Item flags on items of no promise: counted apart.")
    precision: float | None = Field(description="earned / (earned + not_earned); null with none decided.")
    recall: float | None = Field(description="Of the promises missed, the share flagged in time.")
    median_lead_days: float | None = Field(description="Median days from first flag to promised date.")
    median_lead_working_days: float | None
    comments: int = Field(description="Comments push-back would have posted.")
    open_flags_per_100_items: float
    baseline: str | None = Field(description="The naive baseline the rule is measured against.")
    beats_baseline: bool | None = Field(description="Whether the rule is more precise than its baseline.")


class BacktestOverallOut(BaseModel):
    precision: float | None
    recall: float | None
    median_lead_days: float | None
    median_lead_working_days: float | None
    open_flags_per_100_items: float
    comments_per_100_items_per_week: float
    promises_missed: int
    promises_flagged_in_time: int
    flags: int
    comments: int
    instants: int
    mean_active_items: float


class BacktestLevelOut(BaseModel):
    precision: float | None
    recall: float | None
    median_lead_days: float | None
    median_lead_working_days: float | None
    flags: int
    promises_flagged_in_time: int


class BacktestBaselineOut(BaseModel):
    name: str
    description: str
    precision: float | None
    recall: float | None
    open_flags_per_100_items: float
    flags: int
    median_lead_days: float | None


class BacktestOut(BaseModel):
    """Scores per rule and overall (docs/BACKTEST.md defines each), beside naive baselines."""

    window: BacktestWindowOut
    rules: list[BacktestRuleOut]
    overall: BacktestOverallOut
    promise_level: BacktestLevelOut = Field(description="The flags about a promise itself, scored alone.")
    baselines: list[BacktestBaselineOut]


class RuleRunOut(BaseModel):
    """A dry run or backtest asked through the API: queued, then run as a job, then its result or
    its error."""

    id: int
    kind: RuleRunKind
    status: RuleRunStatus
    progress: float = Field(ge=0, le=1, description="The share of the window replayed so far.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = Field(description="Why the run failed; null unless `status` is `failed`.")
    result: DryRunOut | BacktestOut | None = Field(
        description="The dry run's hits or the backtest's scores, once `status` is `succeeded`; null before."
    )


class ActiveRuleOut(BaseModel):
    name: str
    kind: Literal["builtin", "override", "custom"] = Field(
        description="A built-in rule as shipped, a rule file's settings of one, or a file's custom rule."
    )
    origin: str = Field(description="`builtin`, or the rule file's path.")
    scope_kind: Literal["default", "client", "project"]
    scope: str = Field(description="`default`, the client's name or the project's key.")
    enabled: bool
    severity: Severity
    push_to_jira: bool
    parameters: dict[str, Any] = Field(
        description="A built-in rule's thresholds (a file's over the defaults); a custom rule's subject, "
        "condition, message and client visibility."
    )
    precision: float | None = Field(
        description="In the latest backtest of the rules as shipped; null for a file's rules or when "
        "undecided."
    )
    recall: float | None
    beats_baseline: bool | None


class RuleFileErrorOut(BaseModel):
    file: str
    line: int | None
    reason: str


class RulesOut(BaseModel):
    rules_dir: str | None = Field(description="`PMBRIDGE_RULES_DIR`; null when unset.")
    rules: list[ActiveRuleOut]
    errors: list[RuleFileErrorOut] = Field(description="Rule files that do not load, and why.")


class QueuedProjectOut(BaseModel):
    id: int
    key: str


class RulesReloadOut(BaseModel):
    files: list[str] = Field(description="The rule files checked, all of which load.")
    projects: list[QueuedProjectOut] = Field(description="The projects whose evaluation was queued.")
