"""What operators send and read under /admin. Secrets go in, never come out."""

from __future__ import annotations

from abc import abstractmethod
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, SecretStr

from service.api.schemas.common import RequestBody
from service.domain.enums import (
    DismissReason,
    FeedbackSubject,
    FlagHistoryKind,
    FlagState,
    FlagSubject,
    FlagTriage,
    PushState,
    PushWait,
    ScopeRule,
    Severity,
    SourceKind,
    SyncRunKind,
    SyncRunStatus,
)
from service.flags.publishing import MAX_CLIENT_TEXT
from service.sync.trello_settings import ESTIMATE_FIELD_KEY, SPENT_FIELD_KEY

Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")]
Id = Annotated[int, Field(ge=1, le=2**53 - 1)]


class ClientIn(RequestBody):
    name: Name


class ClientOut(BaseModel):
    id: int
    name: str
    created_at: datetime


class ScopeIn(RequestBody):
    project_id: Id
    rule: ScopeRule = ScopeRule.ALL
    value: str | None = Field(
        default=None,
        max_length=1000,
        description="A label, a parent key, a component, or a filter such as `label:a,b -kind:bug`.",
    )


class ScopeOut(BaseModel):
    id: int
    client_id: int
    project_id: int
    rule: ScopeRule
    value: str | None


class ClientTokenIn(RequestBody):
    name: Name
    client_id: Id = Field(description="The client the token reads as.")
    expires_at: AwareDatetime | None = None


class AdminTokenIn(RequestBody):
    name: Name
    admin: Literal[True]
    expires_at: AwareDatetime | None = None


# Unknown fields are refused by both, so a body is exactly one of them: a client's or an admin token.
TokenIn = ClientTokenIn | AdminTokenIn


class TokenOut(BaseModel):
    id: int
    name: str
    client_id: int | None
    admin: bool
    prefix: str = Field(description="The token's first characters, to tell tokens apart.")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The bearer token. Shown this once: only its hash is kept.")


class _SourceIn(RequestBody):
    name: Name
    base_url: str = Field(min_length=1, max_length=500, pattern=r"^https?://\S+$")
    webhook_secret: SecretStr | None = Field(default=None, max_length=500)
    project_keys: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=500
    )

    @abstractmethod
    def credentials(self) -> dict[str, str]:
        """The credentials to store (encrypted), in the shape the source's provider reads them."""

    def provider_settings(self) -> dict[str, object]:
        """Settings only this kind of source reads, as the sync reads them from the source."""
        return {}


class JiraCloudSourceIn(_SourceIn):
    kind: Literal[SourceKind.JIRA_CLOUD]
    email: str = Field(min_length=3, max_length=320)
    api_token: SecretStr = Field(min_length=1, max_length=500)

    def credentials(self) -> dict[str, str]:
        return {"email": self.email, "api_token": self.api_token.get_secret_value()}


class JiraDataCenterSourceIn(_SourceIn):
    kind: Literal[SourceKind.JIRA_DATA_CENTER]
    personal_access_token: SecretStr = Field(min_length=1, max_length=500)

    def credentials(self) -> dict[str, str]:
        return {"token": self.personal_access_token.get_secret_value()}


class TrelloSourceIn(_SourceIn):
    kind: Literal[SourceKind.TRELLO]
    api_key: str = Field(min_length=1, max_length=200)
    token: SecretStr = Field(min_length=1, max_length=500)
    spent_field: Name | None = Field(
        default=None, description="The board custom field (a number, in hours) holding a card's time spent."
    )
    estimate_field: Name | None = Field(
        default=None,
        description="The board custom field (a number, in hours) holding a card's estimate; by default "
        'a number field named like "Estimate (h)".',
    )

    def credentials(self) -> dict[str, str]:
        return {"api_key": self.api_key, "token": self.token.get_secret_value()}

    def provider_settings(self) -> dict[str, object]:
        fields = {SPENT_FIELD_KEY: self.spent_field, ESTIMATE_FIELD_KEY: self.estimate_field}
        return {key: value for key, value in fields.items() if value is not None}


SourceIn = Annotated[JiraCloudSourceIn | JiraDataCenterSourceIn | TrelloSourceIn, Field(discriminator="kind")]


class SourceOut(BaseModel):
    id: int
    kind: SourceKind
    name: str
    base_url: str
    project_keys: list[str]
    spent_field: str | None = Field(description="Trello: the custom field read as time spent.")
    estimate_field: str | None = Field(description="Trello: the custom field read as the estimate.")
    has_webhook_secret: bool
    last_synced_at: datetime | None


class ConnectionTestOut(BaseModel):
    ok: bool
    detail: str


class SourceRemovalOut(BaseModel):
    """What removing the source deletes, by kind, and what it does to the clients' feed history."""

    source_id: int
    name: str
    projects: int
    items: int
    milestones: int
    milestone_changes: int = Field(description="Milestones' date moves, as syncs observed them.")
    item_milestones: int = Field(description="Items' memberships of milestones.")
    changes: int = Field(description="Field changes of items (the changelog).")
    worklogs: int = Field(description="Time logged on items (Jira worklogs).")
    persons: int
    commitments: int = Field(description="Promise-ledger entries on the source's items and milestones.")
    commitment_moves: int
    flags: int = Field(description="Flags on the source's items, milestones and projects.")
    pushed_comments: int = Field(
        description="Flag comments posted to the source; removal edits them to say the item is no "
        "longer tracked, where the source still answers."
    )
    outbox: int = Field(description="Comment posts and edits still queued.")
    client_scopes: int = Field(description="Grants of the source's projects to clients.")
    sync_cursors: int
    sync_runs: int
    sync_leases: int
    webhook_deliveries: int
    activity: int = Field(
        description="Signs of work on the source's items that change no field (comments, card actions)."
    )
    feed_events_withdrawn: int = Field(
        description="Feed events of the source's projects that their client no longer sees (the "
        "project had left its scope): deleted."
    )
    feed_events_kept: int = Field(
        description="Feed events of the source's projects that their client still sees: kept as the "
        "record of what it was told, with project_id and the payload's ids set to null."
    )
    feedback_unlinked: int = Field(
        description="Client ratings of the source's milestones, or of withdrawn events: kept, "
        "without their subject id."
    )


class UntrackedCommentsOut(BaseModel):
    edited: int = Field(description="Comments edited to say the item is no longer tracked.")
    gone: int = Field(description="Comments whose comment, issue or card no longer exists.")
    not_edited: int = Field(description="Comments left as they were: the source did not answer.")
    error: str | None = Field(description="Why the first comment not edited was not.")


class SourceRemovedOut(BaseModel):
    removed: SourceRemovalOut
    comments: UntrackedCommentsOut


class ProjectAdminOut(BaseModel):
    id: int
    source_id: int
    key: str
    name: str


class FlagOut(BaseModel):
    id: int
    rule_id: str
    subject: FlagSubject
    subject_id: int
    severity: Severity
    state: FlagState
    message: str
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    published: bool
    client_text: str | None
    subject_key: str = Field(description="The item's key, the milestone's name or the project's key.")
    fingerprint: str = Field(description="Names the evidence: it changes when the situation does.")
    triage: FlagTriage | None = Field(
        description="What an operator said of it: acknowledged (right), snoozed (until "
        "`snoozed_until`, null once that passed), dismissed (for the evidence `dismissed_fingerprint`); "
        "null when nothing."
    )
    triage_reason: DismissReason | None = Field(description="Why it was dismissed.")
    triaged_by: str | None = Field(description="Who triaged it (`token:<id>` through this API), when known.")
    triaged_at: datetime | None
    snoozed_until: datetime | None
    dismissed_fingerprint: str | None
    push_state: PushState = Field(
        description="Its comment: `posted` (shows the flag as it is), `queued` (goes at the next "
        "drain), `waiting` (`push_waiting_reason` says why)."
    )
    push_waiting_reason: PushWait | None


class PublishIn(RequestBody):
    client_text: str = Field(min_length=1, max_length=MAX_CLIENT_TEXT, description="The wording clients see.")


class SnoozeIn(RequestBody):
    until: str = Field(
        min_length=10,
        max_length=64,
        pattern=r"^\d{4}-\d{2}-\d{2}([T ]\S+)?$",
        description="A date (`YYYY-MM-DD`, from its first instant UTC) or an ISO datetime (UTC when "
        "without offset), in the future.",
    )


class DismissIn(RequestBody):
    reason: DismissReason


class FlagHistoryOut(BaseModel):
    kind: FlagHistoryKind
    at: datetime
    by: str | None = Field(description="The operator, when known.")
    detail: dict[str, str | int | float | bool | None] = Field(
        description="What the step said: a fingerprint, a dismissal's reason, a snooze's end."
    )


class PushEnableIn(RequestBody):
    dry_run: bool = Field(default=False, description="Render comments without posting them.")
    max_per_day: int | None = Field(
        default=None, ge=0, le=10_000, description="New comments a day (default 5); unchanged when null."
    )
    quiet_hours: str | None = Field(
        default=None,
        max_length=16,
        pattern=r"^(none|([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)$",
        description="`HH:MM-HH:MM` local times when nothing new is posted, or `none`; unchanged when null.",
    )
    timezone: str | None = Field(
        default=None, max_length=64, description="IANA zone of the day and quiet hours (default UTC)."
    )
    min_severity: Severity | None = Field(
        default=None, description="Flags below it get no comment (default warning)."
    )
    min_precision: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Flags of a rule whose precision in the latest backtest is below it get no comment "
        "(default 0.8); unchanged when null.",
    )


class PushSettingsOut(BaseModel):
    project_id: int
    enabled: bool
    dry_run: bool
    max_per_day: int
    quiet_hours: str | None
    timezone: str
    min_severity: Severity
    min_precision: float
    queued: int = Field(description="Open flags queued by this change.")


class SyncRunOut(BaseModel):
    id: int
    source_id: int
    kind: SyncRunKind
    status: SyncRunStatus
    started_at: datetime
    finished_at: datetime | None
    items_seen: int
    items_changed: int
    changes_added: int
    items_deleted: int
    errors: list[str]


class SyncQueued(BaseModel):
    source_id: int
    status: Literal["queued"]


class DeadLetterOut(BaseModel):
    id: int
    source_id: int
    delivery_id: str
    event_type: str
    received_at: datetime
    attempts: int
    last_error: str | None


class RetryQueued(BaseModel):
    id: int
    status: Literal["queued"]


class FeedbackClientOut(BaseModel):
    id: int
    name: str


class FeedbackMilestoneOut(BaseModel):
    id: int
    name: str
    project_key: str


class FeedbackEventOut(BaseModel):
    id: int
    kind: str
    summary: str = Field(description="The event's text, as the client read it.")
    title: str | None = Field(description="The item title the event carried, when it carried one.")
    occurred_at: datetime
    item_key: str | None = Field(
        description="The item's key as the event named it to the client (not the key of an item moved since)."
    )
    item_title: str | None
    project_key: str | None = Field(description="Null once the event's project was removed.")


class FeedbackAdminOut(BaseModel):
    id: int
    client: FeedbackClientOut
    subject: FeedbackSubject
    subject_id: int | None = Field(description="The milestone's or feed event's id; null for a period.")
    rating: int = Field(ge=1, le=5)
    comment: str | None
    created_at: datetime
    period_start: date | None
    period_end: date | None
    handled: bool
    handled_at: datetime | None
    handled_by: str | None = Field(
        description="Who marked it handled: `token:<id>` through this API; null when it is not handled, "
        "or was marked with `pmbridge feedback handled`."
    )
    milestone: FeedbackMilestoneOut | None = Field(
        description="The milestone rated, when it is one and still exists."
    )
    event: FeedbackEventOut | None = Field(
        description="The feed event rated, when it is one and still exists."
    )


class FeedbackHandledIn(RequestBody):
    handled: bool = Field(default=True, description="False marks it not handled again.")


class WebhooksRegisteredOut(BaseModel):
    id: int = Field(description="The source's id.")
    webhooks: dict[str, str] = Field(
        description="Each watched board's webhook, by board id: `registered <webhook id>` (created, or "
        "found already registered at this callback) or `failed: <reason>` (Trello refused it)."
    )
    callback_url: str | None = Field(
        description="Where Trello delivers; null when `PMBRIDGE_PUBLIC_URL` is unset, and nothing was "
        "registered."
    )


class WebhookStatusOut(BaseModel):
    source_id: int
    last_received_at: datetime | None = Field(description="When the last delivery was received.")
    pending: int = Field(description="Deliveries received and not yet processed.")
    dead_letters: int = Field(description="Deliveries that failed for good (`/admin/dead-letters`).")
