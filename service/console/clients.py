"""The console's Clients page: clients with their scopes (add, remove), their tokens (create, the
secret shown once; revoke), and "view as client": the client's portal overview read-only, rendered
from the portal's own views and template for the client's grants, without any client session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from service.app_state import access_changed, store_of
from service.console.render import checked_operator, not_found, page, parse_id, router
from service.console.web import CONSOLE, HOME_PATH, Operator, current_operator
from service.domain.enums import ScopeRule
from service.domain.tenancy import ApiToken, Client, ClientScope
from service.domain.work import Project
from service.errors import ConflictError, InvalidInputError, NotFoundError
from service.flags.evaluate import backfill_client_feed
from service.store.client_views import read_grants
from service.store.db import reading, transaction
from service.store.projects import list_projects
from service.store.tenancy import (
    add_client,
    add_scope,
    delete_scope,
    find_client,
    get_token,
    issue_token,
    list_clients,
    list_scopes,
    list_tokens,
    revoke_token,
)
from service.store.tenancy import get_client as load_client
from service.web.client_pages import build_overview
from service.web.forms import FormFields, redirect, sign_in_redirect

MAX_NAME = 200
MAX_VALUE = 1000
CLIENT_LIMIT = 500
NOTICES = {
    "client": "Client added.",
    "scope": "Project shared; the client's feed holds its recent history now.",
    "unscoped": "Project no longer shared with the client.",
    "revoked": "Token revoked; its portal sessions ended with it.",
}
RULE_LABELS = {
    ScopeRule.ALL: "All items",
    ScopeRule.LABEL: "Items with a label",
    ScopeRule.PARENT: "Items under a parent",
    ScopeRule.COMPONENT: "Items in a component",
    ScopeRule.FILTER: "Items matching a filter",
}


@dataclass(frozen=True, slots=True)
class ClientRow:
    client: Client
    scopes: list[tuple[ClientScope, Project | None]]
    tokens: list[ApiToken]


@dataclass(frozen=True, slots=True)
class Issued:
    client_id: int
    name: str
    secret: str


def _clients_page(
    request: Request,
    operator: Operator,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    form_of: int | None = None,
    notice: str | None = None,
    issued: Issued | None = None,
) -> Response:
    with reading(store_of(request).sessions) as session:
        projects = {p.id: p for p in list_projects(session)}
        rows = [
            ClientRow(
                client=client,
                scopes=[
                    (s, projects.get(s.project_id)) for s in list_scopes(session, client_id=client.id or 0)
                ],
                tokens=list_tokens(session, client_id=client.id),
            )
            for client in list_clients(session, limit=CLIENT_LIMIT)
        ]
    return page(
        operator,
        "clients.html",
        active="clients",
        status_code=status_code,
        clients=rows,
        projects=list(projects.values()),
        rules=RULE_LABELS,
        errors=errors or {},
        typed=typed or {},
        form_of=form_of,
        notice=notice,
        issued=issued,
        now=datetime.now(UTC),
    )


@router.get("/clients")
def clients(request: Request, done: Annotated[str, Query(max_length=16)] = "") -> Response:
    operator = current_operator(request)
    if operator is None:
        return sign_in_redirect(request, CONSOLE)
    return _clients_page(request, operator, notice=NOTICES.get(done))


def _name_error(name: str) -> str | None:
    if not name:
        return "Enter a name."
    if len(name) > MAX_NAME:
        return f"Keep it under {MAX_NAME} characters."
    return None


@router.post("/clients")
def post_client(request: Request, form: FormFields) -> Response:
    operator = checked_operator(request, form)
    if isinstance(operator, Response):
        return operator
    name = " ".join(form.get("name", "").split())
    error = _name_error(name)
    if error is None:
        try:
            with transaction(store_of(request).sessions) as session:
                add_client(session, name=name, now=datetime.now(UTC))
        except ConflictError:
            error = f"A client is already named {name!r}."
    if error is not None:
        return _clients_page(request, operator, status_code=422, errors={"name": error}, typed={"name": name})
    return redirect(f"{HOME_PATH}/clients?done=client")


def _client_action(request: Request, client_id: str, form: dict[str, str]) -> tuple[Operator, int] | Response:
    operator = checked_operator(request, form)
    if isinstance(operator, Response):
        return operator
    parsed = parse_id(client_id)
    if parsed is None:
        return not_found(operator)
    with reading(store_of(request).sessions) as session:
        if find_client(session, client_id=parsed) is None:
            return not_found(operator)
    return operator, parsed


@router.post("/clients/{client_id}/scopes")
def post_scope(request: Request, client_id: str, form: FormFields) -> Response:
    action = _client_action(request, client_id, form)
    if isinstance(action, Response):
        return action
    operator, parsed = action
    typed = {name: form.get(name, "") for name in ("project", "rule", "value")}
    value = typed["value"].strip() or None
    errors: dict[str, str] = {}
    project_id = parse_id(typed["project"])
    if project_id is None:
        errors["project"] = "Choose a project."
    try:
        rule = ScopeRule(typed["rule"] or ScopeRule.ALL.value)
    except ValueError:
        errors["rule"] = "Choose which items the client sees."
        rule = ScopeRule.ALL
    if value is not None and len(value) > MAX_VALUE:
        errors["value"] = f"Keep it under {MAX_VALUE} characters."
    if not errors:
        assert project_id is not None
        try:
            with transaction(store_of(request).sessions) as session:
                add_scope(session, client_id=parsed, project_id=project_id, rule=rule, value=value)
        except NotFoundError:
            errors["project"] = "Choose a project from the list."
        except ConflictError:
            errors["project"] = "The client has this project already."
        except InvalidInputError as exc:
            errors["value"] = exc.message[:1].upper() + exc.message[1:] + "."
    if errors:
        return _clients_page(request, operator, status_code=422, errors=errors, typed=typed, form_of=parsed)
    access_changed(request, client_id=parsed)
    assert project_id is not None
    backfill_client_feed(store_of(request), client_id=parsed, project_id=project_id, now=datetime.now(UTC))
    return redirect(f"{HOME_PATH}/clients?done=scope#client-{parsed}")


@router.post("/clients/{client_id}/scopes/{scope_id}/remove")
def post_remove_scope(request: Request, client_id: str, scope_id: str, form: FormFields) -> Response:
    action = _client_action(request, client_id, form)
    if isinstance(action, Response):
        return action
    operator, parsed = action
    scope = parse_id(scope_id)
    if scope is None:
        return not_found(operator)
    try:
        with transaction(store_of(request).sessions) as session:
            delete_scope(session, client_id=parsed, scope_id=scope)
    except NotFoundError:
        return not_found(operator)
    access_changed(request, client_id=parsed)
    return redirect(f"{HOME_PATH}/clients?done=unscoped#client-{parsed}")


def _expiry(text: str, *, now: datetime) -> datetime | None:
    """A token's expiry: the start of a day (UTC) after today; `ValueError` otherwise."""
    day = date.fromisoformat(text)
    at = datetime.combine(day, time.min, tzinfo=UTC)
    if at <= now:
        raise ValueError(text)
    return at


@router.post("/clients/{client_id}/tokens")
def post_token(request: Request, client_id: str, form: FormFields) -> Response:
    """A new token for the client; the page shows its secret this once (only its hash is kept)."""
    action = _client_action(request, client_id, form)
    if isinstance(action, Response):
        return action
    operator, parsed = action
    typed = {"token_name": form.get("token_name", ""), "expires": form.get("expires", "").strip()}
    name = " ".join(typed["token_name"].split())
    now = datetime.now(UTC)
    errors: dict[str, str] = {}
    if (error := _name_error(name)) is not None:
        errors["token_name"] = error
    expires_at = None
    if typed["expires"]:
        try:
            expires_at = _expiry(typed["expires"], now=now)
        except ValueError:
            errors["expires"] = "Choose a date after today, or leave it empty for no expiry."
    if errors:
        return _clients_page(request, operator, status_code=422, errors=errors, typed=typed, form_of=parsed)
    with transaction(store_of(request).sessions) as session:
        issued = issue_token(
            session, client_id=parsed, is_admin=False, name=name, expires_at=expires_at, now=now
        )
    return _clients_page(request, operator, issued=Issued(client_id=parsed, name=name, secret=issued.secret))


@router.post("/tokens/{token_id}/revoke")
def post_revoke(request: Request, token_id: str, form: FormFields) -> Response:
    operator = checked_operator(request, form)
    if isinstance(operator, Response):
        return operator
    parsed = parse_id(token_id)
    if parsed is None:
        return not_found(operator)
    try:
        with transaction(store_of(request).sessions) as session:
            token = get_token(session, token_id=parsed)
            if token.client_id is None:
                raise NotFoundError("not a client's token")
            revoke_token(session, token_id=parsed, now=datetime.now(UTC))
    except NotFoundError:
        return not_found(operator)
    access_changed(request, client_id=token.client_id, tokens=True)
    return redirect(f"{HOME_PATH}/clients?done=revoked#client-{token.client_id}")


@router.get("/clients/{client_id}/view")
def view_as_client(request: Request, client_id: str) -> Response:
    """The client's portal overview as the client reads it, read-only."""
    operator = current_operator(request)
    if operator is None:
        return sign_in_redirect(request, CONSOLE)
    parsed = parse_id(client_id)
    if parsed is None:
        return not_found(operator)
    with reading(store_of(request).sessions) as session:
        try:
            client = load_client(session, client_id=parsed)
        except NotFoundError:
            return not_found(operator)
        overview = build_overview(session, read_grants(session, client_id=parsed), now=datetime.now(UTC))
    return page(operator, "view_as_client.html", active="clients", client=client, overview=overview)
