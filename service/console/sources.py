"""The console's Sources page: connect a Jira or Trello source (its connection tested before it is
stored), each source's health (last sync, errors, webhooks), sync now, and removal after a page
that counts what it deletes (`count_source_removal`, the same count `GET /admin/sources/{id}/removal`
answers)."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from service.app_state import access_changed, enqueuer_of, settings_of, store_of
from service.console.render import (
    checked_operator,
    checked_target,
    not_found,
    page,
    parse_id,
    router,
)
from service.console.views import list_source_health
from service.console.web import CONSOLE, HOME_PATH, Operator, current_operator
from service.domain.enums import SourceKind
from service.errors import InvalidInputError, NotFoundError, UnprocessableInputError
from service.flags.removal import remove_source
from service.providers import provider_for
from service.store.db import reading
from service.store.source_removal import SourceRemoval, count_source_removal
from service.store.sources import get_source, list_sources, source_has_webhook_secret
from service.sync.connection import (
    NewSource,
    check_connection,
    check_stored_connection,
    connect_source,
    prepare_source,
)
from service.sync.trello_settings import ESTIMATE_FIELD_KEY, SPENT_FIELD_KEY
from service.sync.webhook_setup import register_source_webhooks
from service.web.forms import FormFields, redirect, sign_in_redirect

KIND_LABELS = {
    SourceKind.JIRA_CLOUD: "Jira Cloud",
    SourceKind.JIRA_DATA_CENTER: "Jira Data Center",
    SourceKind.TRELLO: "Trello",
}
# The credentials each kind asks for, as (field, label, secret), in the shape its provider reads them.
CREDENTIALS = {
    SourceKind.JIRA_CLOUD: (("email", "Account email", False), ("api_token", "API token", True)),
    SourceKind.JIRA_DATA_CENTER: (("personal_access_token", "Personal access token", True),),
    SourceKind.TRELLO: (("api_key", "API key", False), ("token", "Token", True)),
}
STORED_AS = {"personal_access_token": "token"}
SECRET_FIELDS = {"api_token", "personal_access_token", "token", "webhook_secret"}
TEXT_FIELDS = (
    "kind",
    "name",
    "base_url",
    "project_keys",
    "email",
    "api_key",
    "spent_field",
    "estimate_field",
)
MAX_FIELD = 500
NOTICES = {
    "connected": "Connected. Its first sync is queued.",
    "sync": "A sync is queued; its run shows here when it is done.",
    "removed": "Removed, with everything synced from it.",
}


def _sources_page(
    request: Request,
    operator: Operator,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    notice: str | None = None,
    tested: tuple[int, str, bool] | None = None,
    hooks: tuple[int, str, bool] | None = None,
) -> Response:
    with reading(store_of(request).sessions) as session:
        health = list_source_health(session)
        secrets = {
            s.source.id for s in health if source_has_webhook_secret(session, source_id=s.source.id or 0)
        }
    registers = {s.source.id for s in health if provider_for(s.source.kind).webhook_registration is not None}
    return page(
        operator,
        "sources.html",
        active="sources",
        status_code=status_code,
        sources=health,
        kinds=KIND_LABELS,
        credentials=CREDENTIALS,
        errors=errors or {},
        typed=typed or {"kind": SourceKind.JIRA_CLOUD.value},
        notice=notice,
        tested=tested,
        hooks=hooks,
        registers=registers,
        secrets=secrets,
    )


@router.get("/sources")
def sources(request: Request, done: Annotated[str, Query(max_length=16)] = "") -> Response:
    operator = current_operator(request)
    if operator is None:
        return sign_in_redirect(request, CONSOLE)
    return _sources_page(request, operator, notice=NOTICES.get(done))


def _new_source(form: dict[str, str]) -> tuple[NewSource | None, dict[str, str]]:
    """The source the form describes, or the message of each field it lacks or gets wrong."""
    errors: dict[str, str] = {}
    try:
        kind = SourceKind(form.get("kind", ""))
    except ValueError:
        return None, {"kind": "Choose Jira Cloud, Jira Data Center or Trello."}
    values = {name: form.get(name, "").strip() for name in (*TEXT_FIELDS, *SECRET_FIELDS)}
    for name, value in values.items():
        if len(value) > MAX_FIELD:
            errors[name] = f"Keep it under {MAX_FIELD} characters."
    if not values["name"]:
        errors["name"] = "Name the source (the name is how the CLI and the API refer to it)."
    if not values["base_url"].startswith(("https://", "http://")):
        errors["base_url"] = "Enter the site's address, starting with https://."
    for name, label, _secret in CREDENTIALS[kind]:
        if not values[name]:
            errors[name] = f"Enter the {label.lower()}."
    keys = [k for k in values["project_keys"].replace(",", " ").split() if k]
    if any(len(k) > 64 for k in keys):
        errors["project_keys"] = "A project key is at most 64 characters."
    if errors:
        return None, errors
    provider_settings: dict[str, object] = {}
    if values["spent_field"]:
        provider_settings[SPENT_FIELD_KEY] = values["spent_field"]
    if values["estimate_field"]:
        provider_settings[ESTIMATE_FIELD_KEY] = values["estimate_field"]
    return (
        NewSource(
            kind=kind,
            name=values["name"],
            base_url=values["base_url"],
            credentials={STORED_AS.get(name, name): values[name] for name, _l, _s in CREDENTIALS[kind]},
            webhook_secret=values["webhook_secret"] or None,
            project_keys=keys,
            provider_settings=provider_settings,
        ),
        {},
    )


@router.post("/sources")
def post_source(request: Request, form: FormFields) -> Response:
    """Connect a source: its connection is tested first, and nothing is stored unless it answers."""
    operator = checked_operator(request, form)
    if isinstance(operator, Response):
        return operator
    typed = {name: form.get(name, "") for name in TEXT_FIELDS}

    def refuse(errors: dict[str, str]) -> Response:
        return _sources_page(request, operator, status_code=422, errors=errors, typed=typed)

    new, errors = _new_source(form)
    if new is None:
        return refuse(errors)
    allow_private = settings_of(request).allow_private_source_urls
    try:
        prepared = prepare_source(new, allow_private=allow_private)
    except InvalidInputError as exc:
        return refuse({"base_url": exc.message})
    with reading(store_of(request).sessions) as session:
        if any(s.name == new.name for s in list_sources(session)):
            return refuse({"name": f"A source is already named {new.name!r}."})
    result = check_connection(prepared, new.credentials, allow_private=allow_private)
    if not result.ok:
        return refuse({"connection": f"The connection test failed, so nothing was saved: {result.detail}"})
    source = connect_source(store_of(request), new, allow_private=allow_private, now=datetime.now(UTC))
    assert source.id is not None
    enqueuer_of(request).sync_source(source.id)
    return redirect(f"{HOME_PATH}/sources?done=connected")


def _source_action(request: Request, source_id: str, form: dict[str, str]) -> tuple[Operator, int] | Response:
    checked = checked_target(request, form, source_id)
    if isinstance(checked, Response):
        return checked
    operator, parsed = checked
    with reading(store_of(request).sessions) as session:
        try:
            get_source(session, source_id=parsed)
        except NotFoundError:
            return not_found(operator)
    return operator, parsed


@router.post("/sources/{source_id}/test")
def post_test(request: Request, source_id: str, form: FormFields) -> Response:
    action = _source_action(request, source_id, form)
    if isinstance(action, Response):
        return action
    operator, parsed = action
    result = check_stored_connection(
        store_of(request), source_id=parsed, allow_private=settings_of(request).allow_private_source_urls
    )
    return _sources_page(request, operator, tested=(parsed, result.detail, result.ok))


@router.post("/sources/{source_id}/sync")
def post_sync(request: Request, source_id: str, form: FormFields) -> Response:
    action = _source_action(request, source_id, form)
    if isinstance(action, Response):
        return action
    enqueuer_of(request).sync_source(action[1])
    return redirect(f"{HOME_PATH}/sources?done=sync")


REMOVAL_LABELS = {
    "projects": "projects",
    "items": "work items",
    "milestones": "milestones",
    "changes": "recorded changes",
    "worklogs": "worklogs",
    "activity": "activity records",
    "persons": "people",
    "commitments": "promises",
    "flags": "flags",
    "pushed_comments": "flag comments posted (edited to say they are no longer tracked)",
    "client_scopes": "client scopes granting its projects",
    "sync_runs": "sync runs",
    "webhook_deliveries": "webhook deliveries",
    "feed_events_withdrawn": "feed events withdrawn (their client no longer saw them)",
    "feed_events_kept": "feed events kept in the clients' feeds, detached from the project",
    "feedback_unlinked": "ratings that lose their subject (kept)",
}


def removal_lines(removal: SourceRemoval) -> list[tuple[str, int]]:
    counts = asdict(removal)
    return [(REMOVAL_LABELS[f.name], counts[f.name]) for f in fields(removal) if f.name in REMOVAL_LABELS]


@router.get("/sources/{source_id}/remove")
def removal(request: Request, source_id: str) -> Response:
    operator = current_operator(request)
    if operator is None:
        return sign_in_redirect(request, CONSOLE)
    parsed = parse_id(source_id)
    if parsed is None:
        return not_found(operator)
    try:
        with reading(store_of(request).sessions) as session:
            counted = count_source_removal(session, source_id=parsed)
    except NotFoundError:
        return not_found(operator)
    return page(
        operator, "remove_source.html", active="sources", removal=counted, lines=removal_lines(counted)
    )


@router.post("/sources/{source_id}/remove")
def post_remove(request: Request, source_id: str, form: FormFields) -> Response:
    action = _source_action(request, source_id, form)
    if isinstance(action, Response):
        return action
    try:
        remove_source(store_of(request), source_id=action[1])
    except NotFoundError:
        return not_found(action[0])
    access_changed(request)
    return redirect(f"{HOME_PATH}/sources?done=removed")


@router.post("/sources/{source_id}/webhooks")
def post_webhooks(request: Request, source_id: str, form: FormFields) -> Response:
    """Register (or confirm) the source's webhooks at the provider, as `POST
    /admin/sources/{id}/webhooks`: Trello's boards, at the callback under `PMBRIDGE_PUBLIC_URL`."""
    action = _source_action(request, source_id, form)
    if isinstance(action, Response):
        return action
    operator, parsed = action
    try:
        report = register_source_webhooks(
            store_of(request), source_id=parsed, public_url=settings_of(request).public_url
        )
    except (UnprocessableInputError, InvalidInputError) as exc:
        return _sources_page(request, operator, status_code=422, hooks=(parsed, exc.message, False))
    if report.callback_url is None:
        text = "Nothing registered: set PMBRIDGE_PUBLIC_URL to the address Trello can reach."
        return _sources_page(request, operator, status_code=422, hooks=(parsed, text, False))
    outcomes = ", ".join(f"{board}: {outcome}" for board, outcome in sorted(report.webhooks.items()))
    text = f"Webhooks at {report.callback_url}: {outcomes or 'no board to watch'}."
    return _sources_page(request, operator, hooks=(parsed, text, True))
