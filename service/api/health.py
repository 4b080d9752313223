"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.store.runtime import Store
from service.store.schema import find_current_revision, get_head_revision

router = APIRouter(tags=["ops"])


class Health(BaseModel):
    status: Literal["ok"]


class ReadinessCheck(BaseModel):
    name: str
    ok: bool
    detail: str


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: list[ReadinessCheck]


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up. Says nothing of its dependencies: that is /readyz."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(request: Request) -> Readiness | JSONResponse:
    """Ready to serve: the database answers and its schema is the one this version needs."""
    store: Store = request.app.state.store
    checks = [_check_database(store)]
    ready = all(check.ok for check in checks)
    body = Readiness(status="ready" if ready else "unavailable", checks=checks)
    if ready:
        return body
    return JSONResponse(body.model_dump(), status_code=503)


def _check_database(store: Store) -> ReadinessCheck:
    try:
        with store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = find_current_revision(store.engine)
    except SQLAlchemyError as exc:
        return ReadinessCheck(name="database", ok=False, detail=f"unreachable: {type(exc).__name__}")
    head = get_head_revision(store.engine)
    if current != head:
        return ReadinessCheck(name="database", ok=False, detail=f"schema at {current}, needs {head}")
    return ReadinessCheck(name="database", ok=True, detail=f"schema {current}")
