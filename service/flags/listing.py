"""The operator's flag listing (`GET /admin/flags`, `pmbridge flags list`): flags filtered by client,
project, rule, severity and state, each with its subject's key and where its comment stands.

`client` names a client: the flags on the projects its scopes grant (whatever items a scope
selects: this is the agency's view of that client's work). `project` is a project key, in any
source. An unknown client or project is `NotFoundError`, not an empty list, so a typo is not
taken for "no flags".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.domain.enums import FlagListState, Severity
from service.domain.signals import Flag
from service.errors import NotFoundError
from service.flags.push_queue import PushStatus, read_push_statuses
from service.store.db import Session
from service.store.flags import list_flags, list_subject_keys
from service.store.projects import list_project_ids_by_key
from service.store.tenancy import get_client_by_name, list_scopes


@dataclass(frozen=True, slots=True)
class FlagFilter:
    client: str | None = None
    project: str | None = None
    rule: str | None = None
    severity: Severity | None = None
    state: FlagListState | None = None
    published: bool | None = None


@dataclass(frozen=True, slots=True)
class ListedFlag:
    flag: Flag
    subject_key: str
    push: PushStatus


def list_flags_for_operator(
    session: Session, *, filters: FlagFilter, now: datetime, after_id: int = 0, limit: int | None = 100
) -> list[ListedFlag]:
    project_ids = _project_ids(session, filters)
    flags = list_flags(
        session,
        state=filters.state,
        published=filters.published,
        rule_id=filters.rule,
        severity=filters.severity,
        project_ids=project_ids,
        now=now,
        after_id=after_id,
        limit=limit,
    )
    keys = list_subject_keys(session, flags=flags)
    statuses = read_push_statuses(session, flags=flags, now=now)
    return [
        ListedFlag(flag=flag, subject_key=keys[flag.id], push=statuses[flag.id])
        for flag in flags
        if flag.id is not None
    ]


def _project_ids(session: Session, filters: FlagFilter) -> set[int] | None:
    project_ids: set[int] | None = None
    if filters.client is not None:
        client = get_client_by_name(session, name=filters.client)
        assert client.id is not None
        project_ids = {scope.project_id for scope in list_scopes(session, client_id=client.id)}
    if filters.project is not None:
        by_key = set(list_project_ids_by_key(session, key=filters.project))
        if not by_key:
            raise NotFoundError(
                f"no project with key {filters.project!r}", details={"project": filters.project}
            )
        project_ids = by_key if project_ids is None else project_ids & by_key
    return project_ids
