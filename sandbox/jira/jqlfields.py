"""How JQL fields read an issue and how their operands resolve to values, with Jira's error wording."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from typing import Protocol

from sandbox.jira.jql import Function, JqlError, Literal, Operand
from sandbox.jira.model import (
    ISSUE_TYPE_BY_ID,
    ISSUE_TYPE_BY_NAME,
    PRIORITY_BY_ID,
    PRIORITY_BY_NAME,
    STATUS_BY_ID,
    STATUS_BY_NAME,
    STATUS_CATEGORIES,
    Issue,
)
from sandbox.jira.timefmt import parse_day, to_ms


class JqlSite(Protocol):
    """What the compiler needs to resolve values; the world implements it."""

    tz: tzinfo
    current_account_id: str

    def now_ms(self) -> int: ...
    def resolve_project(self, ref: str) -> int | None: ...
    def resolve_issue(self, ref: str) -> int | None: ...
    def resolve_user(self, ref: str) -> str | None: ...
    def resolve_versions(self, ref: str) -> set[int]: ...
    def versions_released(self, released: bool) -> set[int]: ...
    def resolve_sprints(self, ref: str) -> set[int]: ...
    def sprints_in_state(self, state: str) -> set[int]: ...


def field_error(name: str) -> JqlError:
    return JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")


def value_error(value: str, name: str) -> JqlError:
    return JqlError(f"The value '{value}' does not exist for the field '{name}'.")


def operator_error(operator: str, name: str) -> JqlError:
    return JqlError(f"The operator '{operator}' is not supported by the '{name}' field.")


def _literal(operand: Operand, name: str) -> str:
    if isinstance(operand, Literal):
        return operand.text
    if isinstance(operand, Function):
        raise JqlError(f"Unable to find JQL function '{operand.name}()'.")
    raise value_error("EMPTY", name)


def resolve_project_operand(site: JqlSite, operand: Operand, name: str) -> set[object]:
    text = _literal(operand, name)
    project_id = site.resolve_project(text)
    if project_id is None:
        raise value_error(text, name)
    return {project_id}


def _resolve_issue(site: JqlSite, operand: Operand, name: str) -> set[object]:
    text = _literal(operand, name)
    issue_id = site.resolve_issue(text)
    if issue_id is None:
        raise JqlError(f"An issue with key '{text}' does not exist for field '{name}'.")
    return {issue_id}


def _resolve_status(site: JqlSite, operand: Operand, name: str) -> set[object]:
    text = _literal(operand, name)
    status = STATUS_BY_ID.get(text) or STATUS_BY_NAME.get(text.lower())
    if status is None:
        raise value_error(text, name)
    return {status.id}


def _resolve_category(site: JqlSite, operand: Operand, name: str) -> set[object]:
    text = _literal(operand, name).lower()
    for category in STATUS_CATEGORIES:
        if text in (category.key, category.name.lower(), str(category.id)):
            return {category.key}
    raise value_error(_literal(operand, name), name)


def _resolve_type(site: JqlSite, operand: Operand, name: str) -> set[object]:
    if isinstance(operand, Function):
        fn = operand.name.lower()
        if fn in ("standardissuetypes", "subtaskissuetypes"):
            subtask = fn == "subtaskissuetypes"
            return {t for t, it in ISSUE_TYPE_BY_ID.items() if it.subtask == subtask}
    text = _literal(operand, name)
    issue_type = ISSUE_TYPE_BY_ID.get(text) or ISSUE_TYPE_BY_NAME.get(text.lower())
    if issue_type is None:
        raise value_error(text, name)
    return {issue_type.id}


def _resolve_priority(site: JqlSite, operand: Operand, name: str) -> set[object]:
    text = _literal(operand, name)
    priority = PRIORITY_BY_ID.get(text) or PRIORITY_BY_NAME.get(text.lower())
    if priority is None:
        raise value_error(text, name)
    return {priority.id}


def _resolve_user(site: JqlSite, operand: Operand, name: str) -> set[object]:
    if isinstance(operand, Function) and operand.name.lower() == "currentuser":
        return {site.current_account_id}
    text = _literal(operand, name)
    account_id = site.resolve_user(text)
    if account_id is None:
        raise value_error(text, name)
    return {account_id}


def _resolve_version(site: JqlSite, operand: Operand, name: str) -> set[object]:
    if isinstance(operand, Function):
        fn = operand.name.lower()
        if fn in ("releasedversions", "unreleasedversions"):
            return set(site.versions_released(fn == "releasedversions"))
    text = _literal(operand, name)
    found = site.resolve_versions(text)
    if not found:
        raise value_error(text, name)
    return set(found)


_SPRINT_FUNCTIONS = {"opensprints": "active", "closedsprints": "closed", "futuresprints": "future"}


def _resolve_sprint(site: JqlSite, operand: Operand, name: str) -> set[object]:
    if isinstance(operand, Function) and operand.name.lower() in _SPRINT_FUNCTIONS:
        return set(site.sprints_in_state(_SPRINT_FUNCTIONS[operand.name.lower()]))
    text = _literal(operand, name)
    found = site.resolve_sprints(text)
    if not found:
        raise value_error(text, name)
    return set(found)


def _resolve_label(site: JqlSite, operand: Operand, name: str) -> set[object]:
    return {_literal(operand, name)}


def _resolve_flag(site: JqlSite, operand: Operand, name: str) -> set[object]:
    text = _literal(operand, name)
    if text.lower() != "impediment":
        raise value_error(text, name)
    return {True}


def _one(value: object) -> tuple[object, ...]:
    return () if value is None else (value,)


Resolver = Callable[[JqlSite, Operand, str], set[object]]
SET_FIELDS: dict[str, tuple[Callable[[Issue], Iterable[object]], Resolver]] = {
    "project": (lambda i: (i.project_id,), resolve_project_operand),
    "key": (lambda i: (i.id,), _resolve_issue),
    "parent": (lambda i: _one(i.parent_id), _resolve_issue),
    "status": (lambda i: (i.status_id,), _resolve_status),
    "statuscategory": (lambda i: (i.status.category.key,), _resolve_category),
    "issuetype": (lambda i: (i.type_id,), _resolve_type),
    "priority": (lambda i: (i.priority_id,), _resolve_priority),
    "assignee": (lambda i: _one(i.assignee_id), _resolve_user),
    "reporter": (lambda i: (i.reporter_id,), _resolve_user),
    "fixversion": (lambda i: i.fix_version_ids, _resolve_version),
    "sprint": (lambda i: i.sprint_ids, _resolve_sprint),
    "labels": (lambda i: i.labels, _resolve_label),
    "flagged": (lambda i: (True,) if i.flagged else (), _resolve_flag),
}


def _day_ms(value: str | None, tz: tzinfo) -> int | None:
    if value is None:
        return None
    day = parse_day(value)
    if day is None:
        return None
    return to_ms(datetime(day.year, day.month, day.day, tzinfo=tz))


TIME_GETTERS: dict[str, Callable[[Issue, tzinfo], int | None]] = {
    "updated": lambda i, tz: i.updated_ms,
    "created": lambda i, tz: i.created_ms,
    "resolved": lambda i, tz: i.resolution_ms,
    "duedate": lambda i, tz: _day_ms(i.duedate, tz),
    "start date": lambda i, tz: _day_ms(i.start_date, tz),
}
