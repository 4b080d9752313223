"""Closed vocabularies of the normalized model; their values are stored and served as-is."""

from __future__ import annotations

from enum import StrEnum


class SourceKind(StrEnum):
    JIRA_CLOUD = "jira_cloud"
    JIRA_DATA_CENTER = "jira_data_center"
    TRELLO = "trello"


class StatusCategory(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Priority(StrEnum):
    HIGHEST = "highest"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    LOWEST = "lowest"
    NONE = "none"


class ItemKind(StrEnum):
    EPIC = "epic"
    STORY = "story"
    TASK = "task"
    BUG = "bug"
    SUBTASK = "subtask"
    CARD = "card"


class Visibility(StrEnum):
    """Whether the provider still shows an item: deleted and merely invisible are told apart."""

    VISIBLE = "visible"
    DELETED = "deleted"
    HIDDEN = "hidden"  # permission lost or moved out of the synced scope; it may come back


class ActivityKind(StrEnum):
    """A sign of work on an item that changes none of its fields (field changes are `Change`s)."""

    COMMENT = "comment"  # a Jira comment or a Trello commentCard (created or edited)
    CHECKLIST = "checklist"  # a Trello checklist added or removed, an item added, ticked or edited
    MEMBERS = "members"  # a Trello member added to or removed from a card
    CREATED = "created"  # a Trello card created, copied, converted from a checklist item or emailed in
    ATTACHMENT = "attachment"  # a Trello attachment added or removed
    EDITED = "edited"  # another Trello card edit no field change records (description, custom fields)
    WORKLOG = "worklog"  # a Jira worklog, logged or edited (read from the worklogs, not stored twice)
    # The provider's own "last updated" stamp of an item stored before activity was kept (migration
    # 0016); new activity never has this kind.
    UPDATED = "updated"


class MilestoneKind(StrEnum):
    VERSION = "version"  # a Jira fixVersion
    SPRINT = "sprint"  # a Jira agile sprint
    CARD = "card"  # a Trello card marked as a milestone
    LIST = "list"  # a Trello list marked as a milestone


class CommitmentSubject(StrEnum):
    ITEM = "item"
    MILESTONE = "milestone"


class CommitmentOutcome(StrEnum):
    OPEN = "open"
    MET = "met"
    MISSED = "missed"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class FlagState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class FlagTriage(StrEnum):
    """What an operator said of a flag. Acknowledged: it is right (it stays open and counts);
    snoozed: not now (open, not pushed nor listed as open until `snoozed_until`); dismissed: it is
    wrong or not worth telling (for the evidence it had, named by `dismissed_fingerprint`)."""

    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    DISMISSED = "dismissed"


class DismissReason(StrEnum):
    FALSE_POSITIVE = "false_positive"
    KNOWN = "known"
    NOT_CLIENT_RELEVANT = "not_client_relevant"


class FlagListState(StrEnum):
    """What a flag listing filters on: the flag's state, and its triage while it is open
    (`open` leaves out the snoozed and the dismissed; the acknowledged are open)."""

    OPEN = "open"
    RESOLVED = "resolved"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    DISMISSED = "dismissed"


class FlagHistoryKind(StrEnum):
    RAISED = "raised"
    FINGERPRINT_CHANGED = "fingerprint_changed"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    DISMISSED = "dismissed"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"


class PushState(StrEnum):
    """Where a flag's comment stands: shown as the flag is now, queued to be posted or edited at
    the next drain, or waiting (`PushWait` says why)."""

    POSTED = "posted"
    QUEUED = "queued"
    WAITING = "waiting"


class PushWait(StrEnum):
    BUDGET = "budget"
    QUIET_HOURS = "quiet_hours"
    BELOW_MIN_SEVERITY = "below_min_severity"
    BELOW_MIN_PRECISION = "below_min_precision"
    SNOOZED = "snoozed"
    DISMISSED = "dismissed"
    RULE_NOT_PUSHED = "rule_not_pushed"
    PUSH_DISABLED = "push_disabled"


class FlagSubject(StrEnum):
    ITEM = "item"
    MILESTONE = "milestone"
    PROJECT = "project"


class ScopeRule(StrEnum):
    """Which items of a scoped project a client may see."""

    ALL = "all"
    LABEL = "label"
    PARENT = "parent"
    COMPONENT = "component"
    FILTER = "filter"


class FeedbackSubject(StrEnum):
    MILESTONE = "milestone"
    EVENT = "event"
    PERIOD = "period"


class FeedEventKind(StrEnum):
    ITEM_DONE = "item_done"
    # A correction: an item told done was reopened, so it is no longer done.
    ITEM_REOPENED = "item_reopened"
    MILESTONE_PROGRESS = "milestone_progress"
    COMMITMENT_MOVED = "commitment_moved"
    COMMITMENT_MET = "commitment_met"
    # A correction: a promise told met is open again, because its delivered item was reopened.
    COMMITMENT_REOPENED = "commitment_reopened"
    COMMITMENT_MISSED = "commitment_missed"
    RISK_RAISED = "risk_raised"
    # The operator took a published risk back: clients no longer see it.
    RISK_WITHDRAWN = "risk_withdrawn"
    RISK_RESOLVED = "risk_resolved"
    DIGEST = "digest"


class InboxStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    IGNORED = "ignored"
    DEAD = "dead"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class SyncRunKind(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"
    CENSUS = "census"
    WEBHOOK = "webhook"


class SyncRunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RuleRunKind(StrEnum):
    DRY_RUN = "dry_run"
    BACKTEST = "backtest"


class RuleRunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# How far back a client's digest looks.
class DigestPeriod(StrEnum):
    WEEK = "week"
    FORTNIGHT = "fortnight"
    MONTH = "month"

    @property
    def days(self) -> int:
        return {"week": 7, "fortnight": 14, "month": 30}[self.value]
