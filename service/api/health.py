"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal

import redis
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from service.app_state import settings_of, store_of
from service.domain.enums import FlagState, InboxStatus, OutboxStatus, Severity
from service.metrics import METRICS_CONTENT_TYPE, StoreGauges, bearer_matches, render_metrics
from service.store.db import SQLAlchemyError, ping, probe_writes
from service.store.flags import count_flags_by_state_severity
from service.store.inbox_admin import count_inbox_by_status
from service.store.outbox import count_outbox_by_status
from service.store.runtime import Store
from service.store.schema import SCHEMA_HEAD, find_current_revision

router = APIRouter(tags=["ops"])

# A readiness probe must answer within the orchestrator's timeout even when Redis hangs.
REDIS_TIMEOUT_S = 1.0
# A writer may hold SQLite's lock for a moment; longer than this, writes (intake) would wait.
WRITE_PROBE_TIMEOUT_S = 1.0


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
    """Ready to serve: the database answers, takes a write within a second (a probe rolled back),
    and its schema is the one this version needs; when jobs go through Redis
    (`PMBRIDGE_REDIS_URL`), Redis answers too."""
    store = store_of(request)
    settings = settings_of(request)
    checks = [_check_database(store)]
    if settings.redis_url:
        checks.append(_check_redis(settings.redis_url))
    ready = all(check.ok for check in checks)
    body = Readiness(status="ready" if ready else "unavailable", checks=checks)
    if ready:
        return body
    return JSONResponse(body.model_dump(), status_code=503)


def _check_database(store: Store) -> ReadinessCheck:
    try:
        ping(store.engine)
        current = find_current_revision(store.engine)
    except SQLAlchemyError as exc:
        return ReadinessCheck(name="database", ok=False, detail=f"unreachable: {type(exc).__name__}")
    if current != SCHEMA_HEAD:
        return ReadinessCheck(name="database", ok=False, detail=f"schema at {current}, needs {SCHEMA_HEAD}")
    refusal = probe_writes(store.engine, timeout_s=WRITE_PROBE_TIMEOUT_S)
    if refusal is not None:
        return ReadinessCheck(name="database", ok=False, detail=f"cannot take writes: {refusal}")
    return ReadinessCheck(name="database", ok=True, detail=f"schema {current}, takes writes")


def _check_redis(url: str) -> ReadinessCheck:
    client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S)
    try:
        client.ping()
    except redis.RedisError as exc:
        return ReadinessCheck(name="redis", ok=False, detail=f"unreachable: {type(exc).__name__}")
    finally:
        client.close()
    return ReadinessCheck(name="redis", ok=True, detail="ping answered")


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {METRICS_CONTENT_TYPE: {}}, "description": "Prometheus text format."}},
)
def metrics(request: Request) -> Response:
    """This process's counters (requests, webhook intake, jobs, syncs, evaluations) and the
    database's inbox, outbox and flag counts, in the Prometheus text format. With
    `PMBRIDGE_METRICS_TOKEN` set, only for `Authorization: Bearer <that token>` (else 401)."""
    token = settings_of(request).metrics_token
    if token is not None and not bearer_matches(
        request.headers.get("authorization"), token.get_secret_value()
    ):
        return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
    store = store_of(request)
    return Response(render_metrics(_read_store_gauges(store)), media_type=METRICS_CONTENT_TYPE)


def _read_store_gauges(store: Store) -> StoreGauges | None:
    try:
        with store.sessions() as session:
            inbox = count_inbox_by_status(session)
            outbox = count_outbox_by_status(session)
            flags = count_flags_by_state_severity(session)
            # Every known label set is reported, at zero when no row has it, so dashboards see 0
            # rather than a missing series.
            return StoreGauges(
                inbox_by_status={s.value: 0 for s in InboxStatus} | inbox,
                outbox_by_status={s.value: 0 for s in OutboxStatus} | outbox,
                flags_by_state_severity={(st.value, sv.value): 0 for st in FlagState for sv in Severity}
                | flags,
            )
    except SQLAlchemyError:
        # The process's own counters still answer; /readyz reports the database.
        return None
