"""Admin routes for clients, their scopes and API tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from service.api.auth import Caller, authenticator_of, require_admin
from service.api.routers.context import MAX_ID, ObjectId, snapshots_of
from service.api.schemas.admin import (
    AdminTokenIn,
    ClientIn,
    ClientOut,
    ClientTokenIn,
    ScopeIn,
    ScopeOut,
    TokenCreated,
    TokenIn,
    TokenOut,
)
from service.api.schemas.common import ADMIN_ERRORS
from service.app_state import store_of
from service.domain.tenancy import ApiToken, Client, ClientScope
from service.flags.evaluate import backfill_client_feed
from service.store.db import reading, transaction
from service.store.tenancy import (
    add_client,
    add_scope,
    delete_client,
    delete_scope,
    get_client,
    issue_token,
    list_clients,
    list_scopes,
    list_tokens,
    revoke_token,
)

router = APIRouter(prefix="/admin", tags=["admin"], responses=ADMIN_ERRORS)
Admin = Annotated[Caller, Depends(require_admin)]
PageSize = Annotated[int, Query(ge=1, le=500)]
AfterId = Annotated[int, Query(ge=0, le=MAX_ID, description="Only ids after this one (paging).")]


def client_out(client: Client) -> ClientOut:
    assert client.id is not None
    return ClientOut(id=client.id, name=client.name, created_at=client.created_at)


def scope_out(scope: ClientScope) -> ScopeOut:
    assert scope.id is not None
    return ScopeOut(
        id=scope.id,
        client_id=scope.client_id,
        project_id=scope.project_id,
        rule=scope.rule,
        value=scope.value,
    )


def token_out(token: ApiToken) -> TokenOut:
    assert token.id is not None
    return TokenOut(
        id=token.id,
        name=token.name,
        client_id=token.client_id,
        admin=token.is_admin,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


@router.get("/clients", response_model=list[ClientOut], summary="List clients")
def get_clients(
    request: Request, _admin: Admin, after: AfterId = 0, limit: PageSize = 100
) -> list[ClientOut]:
    with reading(store_of(request).sessions) as session:
        return [client_out(c) for c in list_clients(session, after_id=after, limit=limit)]


@router.post("/clients", status_code=201, response_model=ClientOut, summary="Add a client")
def post_client(request: Request, _admin: Admin, body: ClientIn) -> ClientOut:
    with transaction(store_of(request).sessions) as session:
        return client_out(add_client(session, name=body.name, now=datetime.now(UTC)))


@router.get("/clients/{client_id}", response_model=ClientOut, summary="One client")
def get_one_client(request: Request, _admin: Admin, client_id: ObjectId) -> ClientOut:
    with reading(store_of(request).sessions) as session:
        return client_out(get_client(session, client_id=client_id))


@router.delete("/clients/{client_id}", status_code=204, response_class=Response, summary="Remove a client")
def remove_client(request: Request, _admin: Admin, client_id: ObjectId) -> Response:
    """Removes the client with its scopes, tokens, feedback and feed."""
    with transaction(store_of(request).sessions) as session:
        delete_client(session, client_id=client_id)
    authenticator_of(request).forget()
    snapshots_of(request).invalidate(client_id)
    return Response(status_code=204)


@router.get("/clients/{client_id}/scopes", response_model=list[ScopeOut], summary="A client's scope")
def get_scopes(request: Request, _admin: Admin, client_id: ObjectId) -> list[ScopeOut]:
    with reading(store_of(request).sessions) as session:
        get_client(session, client_id=client_id)
        return [scope_out(s) for s in list_scopes(session, client_id=client_id)]


@router.post(
    "/clients/{client_id}/scopes", status_code=201, response_model=ScopeOut, summary="Give a client a project"
)
def post_scope(request: Request, _admin: Admin, client_id: ObjectId, body: ScopeIn) -> ScopeOut:
    """All of the project's items, or those with a label, under a parent, in a component, or matching
    a filter (`label:a,b -kind:bug category:done`); an invalid filter answers 400.

    The client's feed holds the project's recent history (items done, promises moved, met or missed,
    milestone progress over the items it sees) by the time this answers: it need not wait for the
    next evaluation."""
    store = store_of(request)
    with transaction(store.sessions) as session:
        scope = add_scope(
            session, client_id=client_id, project_id=body.project_id, rule=body.rule, value=body.value
        )
    snapshots_of(request).invalidate(client_id)
    backfill_client_feed(store, client_id=client_id, project_id=body.project_id, now=datetime.now(UTC))
    return scope_out(scope)


@router.delete(
    "/clients/{client_id}/scopes/{scope_id}",
    status_code=204,
    response_class=Response,
    summary="Take a project from a client",
)
def remove_scope(request: Request, _admin: Admin, client_id: ObjectId, scope_id: ObjectId) -> Response:
    with transaction(store_of(request).sessions) as session:
        delete_scope(session, client_id=client_id, scope_id=scope_id)
    snapshots_of(request).invalidate(client_id)
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenOut], summary="List tokens (never their secrets)")
def get_tokens(
    request: Request,
    _admin: Admin,
    client_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: PageSize = 100,
) -> list[TokenOut]:
    with reading(store_of(request).sessions) as session:
        return [token_out(t) for t in list_tokens(session, client_id=client_id, limit=limit)]


@router.post("/tokens", status_code=201, response_model=TokenCreated, summary="Create a token")
def post_token(request: Request, _admin: Admin, body: TokenIn) -> TokenCreated:
    """The response carries the token once; only its hash is stored."""
    with transaction(store_of(request).sessions) as session:
        issued = issue_token(
            session,
            client_id=body.client_id if isinstance(body, ClientTokenIn) else None,
            is_admin=isinstance(body, AdminTokenIn),
            name=body.name,
            expires_at=body.expires_at,
            now=datetime.now(UTC),
        )
    return TokenCreated(**token_out(issued.token).model_dump(), token=issued.secret)


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut, summary="Revoke a token")
def post_revoke(request: Request, _admin: Admin, token_id: ObjectId) -> TokenOut:
    """Takes effect at once in this process, within seconds in others."""
    with transaction(store_of(request).sessions) as session:
        token = revoke_token(session, token_id=token_id, now=datetime.now(UTC))
    authenticator_of(request).forget()
    return token_out(token)
