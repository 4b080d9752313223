"""Admin routes for rules: the rules in force and their reload, check a rule file, and dry-run or
backtest rules over stored history as a job (as `pmbridge rules`, which runs them at once)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from service.api.auth import Caller, require_admin
from service.api.routers.context import ObjectId, enqueuer_of
from service.api.schemas.common import ADMIN_ERRORS
from service.api.schemas.rules import (
    BacktestIn,
    BacktestOut,
    DryRunIn,
    DryRunOut,
    QueuedProjectOut,
    RuleFileCheckOut,
    RuleFileIn,
    RuleRunOut,
    RulesOut,
    RulesReloadOut,
)
from service.app_state import settings_of, store_of
from service.domain.enums import RuleRunKind
from service.errors import TooManyRunsError
from service.flags.backtest import backtest_params
from service.flags.dryrun import dry_run_params
from service.flags.rule_catalog import describe_rules, reload_rules, rules_report_json
from service.flags.rulesets import load_rule_text
from service.store.db import reading, transaction
from service.store.rule_runs import RuleRun, add_rule_run, get_rule_run, list_rule_runs

router = APIRouter(prefix="/admin", tags=["admin"], responses=ADMIN_ERRORS)
Admin = Annotated[Caller, Depends(require_admin)]
# Named in an invalid file's error: `rules:<line>: <reason>`, with the line and reason in its details.
_SOURCE = "rules"
# When a full queue of rule runs is likely to have room again: a run takes seconds to a minute.
RETRY_RULE_RUN_AFTER_S = 30


@router.get("/rules", response_model=RulesOut, summary="The rules in force")
def get_rules(request: Request, _admin: Admin) -> RulesOut:
    """Every built-in rule as shipped, then every rule of each rule file of `PMBRIDGE_RULES_DIR`
    (`default.yaml`, `client-<name>.yaml`, `project-<KEY>.yaml`), as `pmbridge rules list --json`
    prints them. A file that does not load is listed in `errors` with its line and reason."""
    with reading(store_of(request).sessions) as session:
        report = describe_rules(session, rules_dir=settings_of(request).rules_dir)
    return RulesOut.model_validate(rules_report_json(report))


@router.post(
    "/rules/reload",
    response_model=RulesReloadOut,
    status_code=202,
    summary="Check the rule files and re-evaluate every project",
)
def post_reload(request: Request, _admin: Admin) -> RulesReloadOut:
    """Rule files are read at every evaluation, so no restart is needed: this checks every file of
    the rules directory and, when all load, queues an evaluation of every project so its flags
    reflect the files now. A file that does not load answers 422 (`invalid_rule_file`) with
    `details.file`, `details.line` and `details.reason` (and `details.files`, every such file), and
    nothing is queued."""
    with reading(store_of(request).sessions) as session:
        reload = reload_rules(
            session, rules_dir=settings_of(request).rules_dir, enqueuer=enqueuer_of(request)
        )
    return RulesReloadOut(
        files=reload.files, projects=[QueuedProjectOut(id=p.id, key=p.key) for p in reload.projects]
    )


@router.post("/rules/validate", response_model=RuleFileCheckOut, summary="Check a rule file")
def post_validate(_admin: Admin, body: RuleFileIn) -> RuleFileCheckOut:
    """An invalid file answers 400 with `details.line` (null when the YAML gives none) and
    `details.reason`."""
    rule_set = load_rule_text(body.rules, source_name=_SOURCE)
    return RuleFileCheckOut(
        ok=True,
        custom_rules=[rule.id for rule in rule_set.custom_rules],
        builtin_overrides=sorted(rule_set.builtin_overrides),
    )


@router.post(
    "/rules/dry-run",
    response_model=RuleRunOut,
    status_code=202,
    summary="Replay stored history with a rule file, as a job",
)
def post_dry_run(request: Request, response: Response, _admin: Admin, body: DryRunIn) -> RuleRunOut:
    """Queue a dry run of the file's rules (all rules when it defines or configures none) over the
    window, replayed day by day up to now: per rule and subject, from when, until when. The run is
    a job (at most `PMBRIDGE_RULE_RUNS_AT_ONCE` run at once); poll `Location`
    (`/admin/rule-runs/{run_id}`) for its progress and hits. An invalid file answers 400 as for
    `/admin/rules/validate`; 429 with `Retry-After` when `PMBRIDGE_RULE_RUNS_WAITING` runs are
    queued or running already."""
    load_rule_text(body.rules, source_name=_SOURCE)
    now = datetime.now(UTC)
    try:
        with transaction(store_of(request).sessions) as session:
            run = add_rule_run(
                session,
                kind=RuleRunKind.DRY_RUN,
                params=dry_run_params(body.rules, since=body.window(), requested_at=now),
                now=now,
                max_waiting=settings_of(request).rule_runs_waiting,
            )
    except TooManyRunsError as exc:
        raise HTTPException(429, exc.message, headers={"Retry-After": str(RETRY_RULE_RUN_AFTER_S)}) from exc
    enqueuer_of(request).run_rules(run.id)
    response.headers["Location"] = f"/admin/rule-runs/{run.id}"
    return _run_out(run)


@router.post(
    "/rules/backtest",
    response_model=RuleRunOut,
    status_code=202,
    summary="Score the rules against stored history, as a job",
)
def post_backtest(request: Request, response: Response, _admin: Admin, body: BacktestIn) -> RuleRunOut:
    """Queue a backtest: the rules as shipped (or the file's over them) replayed every `step` over
    the window, each flag scored against what the history shows happened later. A job like a dry
    run; poll `Location` for its progress and scores. An invalid file answers 400 as for
    `/admin/rules/validate`; a window that ends in the future, or a step under an hour or longer
    than the window, 422; a window with no history fails the run with the reason in `error`."""
    if body.rules is not None:
        load_rule_text(body.rules, source_name=_SOURCE)
    now = datetime.now(UTC)
    until = body.ends(now)
    try:
        with transaction(store_of(request).sessions) as session:
            run = add_rule_run(
                session,
                kind=RuleRunKind.BACKTEST,
                params=backtest_params(body.rules, since=body.window(), step=body.every(), until=until),
                now=now,
                max_waiting=settings_of(request).rule_runs_waiting,
            )
    except TooManyRunsError as exc:
        raise HTTPException(429, exc.message, headers={"Retry-After": str(RETRY_RULE_RUN_AFTER_S)}) from exc
    enqueuer_of(request).run_rules(run.id)
    response.headers["Location"] = f"/admin/rule-runs/{run.id}"
    return _run_out(run)


@router.get("/rule-runs", response_model=list[RuleRunOut], summary="Rule runs, newest first")
def list_runs(
    request: Request, _admin: Admin, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[RuleRunOut]:
    with reading(store_of(request).sessions) as session:
        runs = list_rule_runs(session, limit=limit)
    return [_run_out(run) for run in runs]


@router.get("/rule-runs/{run_id}", response_model=RuleRunOut, summary="One rule run: progress, then its hits")
def get_run(request: Request, _admin: Admin, run_id: ObjectId) -> RuleRunOut:
    with reading(store_of(request).sessions) as session:
        run = get_rule_run(session, run_id=run_id)
    return _run_out(run)


def _run_out(run: RuleRun) -> RuleRunOut:
    return RuleRunOut(
        id=run.id,
        kind=run.kind,
        status=run.status,
        progress=run.progress,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        error=run.error,
        result=_result_out(run),
    )


def _result_out(run: RuleRun) -> DryRunOut | BacktestOut | None:
    if run.result is None:
        return None
    if run.kind is RuleRunKind.BACKTEST:
        return BacktestOut.model_validate(run.result)
    return DryRunOut.model_validate(run.result)
