"""What the console's pages show, read from the store and the flags' use cases as plain data for
the templates: the operator's day across every client, and flags with where they stand."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from service.domain.enums import FlagListState, PushState, PushWait, Severity, SyncRunStatus
from service.domain.signals import Flag, FlagHistoryEntry
from service.domain.work import Project, Source
from service.flags.listing import FlagFilter, ListedFlag, list_flags_for_operator
from service.flags.push import pushed_flag_of
from service.flags.push_queue import PushStatus, read_push_statuses
from service.flags.push_text import push_state_of, render_comment_text
from service.providers import ProviderFamily, provider_for
from service.store.db import Session
from service.store.flags import (
    FlagSubjectView,
    PromiseAtRisk,
    count_open_flags_by_project,
    list_flag_history,
    list_flag_subjects,
    list_promises_at_risk,
    list_subject_keys,
)
from service.store.inbox_admin import WebhookDeliveryStatus, list_webhook_delivery_statuses
from service.store.projects import list_projects
from service.store.sources import list_sources
from service.store.sync_state import SyncRunRecord, list_sync_runs
from service.store.tenancy import list_clients, list_scopes

SEVERITIES = (Severity.CRITICAL, Severity.WARNING, Severity.INFO)
WAIT_TEXT = {
    PushWait.BUDGET: "the project's comments for today are spent",
    PushWait.QUIET_HOURS: "quiet hours",
    PushWait.BELOW_MIN_SEVERITY: "below the project's minimum severity",
    PushWait.BELOW_MIN_PRECISION: "its rule's backtested precision is below the project's minimum",
    PushWait.SNOOZED: "snoozed",
    PushWait.DISMISSED: "dismissed",
    PushWait.RULE_NOT_PUSHED: "its rule does not comment",
    PushWait.PUSH_DISABLED: "push-back is off for the project",
}
# How a comment is linked to, by provider: Jira focuses a comment of the issue, Trello's card page
# scrolls to the comment's anchor.
COMMENT_LINKS = {
    ProviderFamily.JIRA: "{url}?focusedCommentId={comment}",
    ProviderFamily.TRELLO: "{url}#comment-{comment}",
}
PROVIDER_NAMES = {ProviderFamily.JIRA: "Jira", ProviderFamily.TRELLO: "Trello"}
CLIENT_LIMIT = 500


def push_text(status: PushStatus) -> str:
    if status.state is PushState.WAITING and status.reason is not None:
        return f"waiting: {WAIT_TEXT[status.reason]}"
    return str(status.state.value)


@dataclass(frozen=True, slots=True)
class ProjectToday:
    project: Project
    promises: list[PromiseAtRisk]
    flags: dict[Severity, int]

    @property
    def open_flags(self) -> int:
        return sum(self.flags.values())


@dataclass(frozen=True, slots=True)
class ClientToday:
    name: str
    projects: list[ProjectToday]


@dataclass(frozen=True, slots=True)
class SourceToday:
    source: Source
    last_success: SyncRunRecord | None
    last_run: SyncRunRecord | None
    webhooks: WebhookDeliveryStatus | None

    @property
    def failing(self) -> bool:
        return self.last_run is not None and self.last_run.status is SyncRunStatus.FAILED


@dataclass(frozen=True, slots=True)
class QueuedPush:
    flag: Flag
    subject_key: str
    status: PushStatus

    @property
    def text(self) -> str:
        return push_text(self.status)


@dataclass(frozen=True, slots=True)
class TodayPage:
    clients: list[ClientToday]
    sources: list[SourceToday]
    push_queue: list[QueuedPush]
    at_risk: int
    open_flags: dict[Severity, int] = field(default_factory=dict)


def build_today(session: Session, *, now: datetime) -> TodayPage:
    projects = {p.id: p for p in list_projects(session) if p.id is not None}
    promises: dict[int, list[PromiseAtRisk]] = defaultdict(list)
    for promise in list_promises_at_risk(session, now=now):
        promises[promise.project_id].append(promise)
    flags: dict[int, dict[Severity, int]] = defaultdict(dict)
    totals: dict[Severity, int] = defaultdict(int)
    for (project_id, severity), count in count_open_flags_by_project(session, now=now).items():
        flags[project_id][severity] = count
        totals[severity] += count

    def today(project_id: int) -> ProjectToday:
        return ProjectToday(
            project=projects[project_id], promises=promises[project_id], flags=flags[project_id]
        )

    clients: list[ClientToday] = []
    shared: set[int] = set()
    for client in list_clients(session, limit=CLIENT_LIMIT):
        assert client.id is not None
        ids = sorted({s.project_id for s in list_scopes(session, client_id=client.id)} & projects.keys())
        shared.update(ids)
        clients.append(ClientToday(name=client.name, projects=[today(i) for i in ids]))
    unshared = sorted(projects.keys() - shared)
    if unshared:
        clients.append(ClientToday(name="Not shared with any client", projects=[today(i) for i in unshared]))
    return TodayPage(
        clients=clients,
        sources=list_source_health(session),
        push_queue=_push_queue(session, now=now),
        at_risk=sum(len(p) for p in promises.values()),
        open_flags=dict(totals),
    )


def list_source_health(session: Session) -> list[SourceToday]:
    sources = list_sources(session)
    webhooks = list_webhook_delivery_statuses(session, source_ids=[s.id for s in sources if s.id is not None])
    found: list[SourceToday] = []
    for source in sources:
        assert source.id is not None
        last = list_sync_runs(session, source_id=source.id, limit=1)
        success = list_sync_runs(session, source_id=source.id, status=SyncRunStatus.SUCCEEDED, limit=1)
        found.append(
            SourceToday(
                source=source,
                last_success=success[0] if success else None,
                last_run=last[0] if last else None,
                webhooks=webhooks.get(source.id),
            )
        )
    return found


def _push_queue(session: Session, *, now: datetime) -> list[QueuedPush]:
    """Open flags whose comment is not shown as they are: queued, or waiting (and why)."""
    listed = list_flags_for_operator(
        session, filters=FlagFilter(state=FlagListState.OPEN), now=now, limit=None
    )
    return [
        QueuedPush(flag=f.flag, subject_key=f.subject_key, status=f.push)
        for f in listed
        if f.push.state is not PushState.POSTED and f.push.reason is not PushWait.RULE_NOT_PUSHED
    ]


@dataclass(frozen=True, slots=True)
class FlagLine:
    listed: ListedFlag
    subject: FlagSubjectView

    @property
    def push_text(self) -> str:
        return push_text(self.listed.push)


@dataclass(frozen=True, slots=True)
class MilestoneGroup:
    title: str
    flags: list[FlagLine]


def group_by_milestone(session: Session, listed: Sequence[ListedFlag]) -> list[MilestoneGroup]:
    """The listing's flags grouped under their milestone (project-wide flags last in their project)."""
    subjects = list_flag_subjects(session, flags=[f.flag for f in listed])
    groups: dict[str, list[FlagLine]] = {}
    for entry in listed:
        assert entry.flag.id is not None
        subject = subjects[entry.flag.id]
        if subject.milestone_name is not None:
            title = f"{subject.project_name}: {subject.milestone_name}"
        elif subject.project_name:
            title = f"{subject.project_name}: no milestone"
        else:
            title = "Subject no longer tracked"
        groups.setdefault(title, []).append(FlagLine(listed=entry, subject=subject))
    return [MilestoneGroup(title=title, flags=rows) for title, rows in groups.items()]


@dataclass(frozen=True, slots=True)
class PostedComment:
    text: str
    comment_id: str | None
    link: str | None
    shows_flag_as_it_is: bool


@dataclass(frozen=True, slots=True)
class FlagPage:
    flag: Flag
    subject: FlagSubjectView
    subject_key: str
    push: PushStatus
    history: list[FlagHistoryEntry]
    comment: PostedComment

    @property
    def push_text(self) -> str:
        return push_text(self.push)

    @property
    def provider_name(self) -> str:
        kind = self.subject.source_kind
        return "Jira or Trello" if kind is None else PROVIDER_NAMES[provider_for(kind).family]


def build_flag_page(session: Session, flag: Flag, *, now: datetime) -> FlagPage:
    assert flag.id is not None
    subject = list_flag_subjects(session, flags=[flag])[flag.id]
    push = read_push_statuses(session, flags=[flag], now=now)[flag.id]
    link = None
    if flag.pushed_comment_id and subject.url and subject.source_kind is not None:
        template = COMMENT_LINKS[provider_for(subject.source_kind).family]
        link = template.format(url=subject.url, comment=flag.pushed_comment_id)
    return FlagPage(
        flag=flag,
        subject=subject,
        subject_key=list_subject_keys(session, flags=[flag])[flag.id],
        push=push,
        history=list_flag_history(session, flag_id=flag.id),
        comment=PostedComment(
            text=render_comment_text(pushed_flag_of(flag)),
            comment_id=flag.pushed_comment_id,
            link=link,
            shows_flag_as_it_is=flag.pushed_fingerprint
            == push_state_of(fingerprint=flag.fingerprint, state=flag.state.value),
        ),
    )
