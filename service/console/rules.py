"""The console's Rules page: the rules in force (built-in and of the rule files, enabled or not, with
their parameters and their precision in the latest backtest), their reload, a pasted rule file
checked, and dry runs and backtests queued as rule runs (their results shown when done), through the
use cases of `/admin/rules*` and `/admin/rule-runs`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query, Request
from starlette.responses import Response

from service.app_state import enqueuer_of, settings_of, store_of
from service.console.render import checked_operator, page, router
from service.console.web import CONSOLE, HOME_PATH, Operator, current_operator
from service.domain.enums import RuleRunKind
from service.errors import InvalidInputError, InvalidRuleFilesError, TooManyRunsError
from service.flags.backtest import backtest_params
from service.flags.dryrun import dry_run_params
from service.flags.rule_catalog import describe_rules, reload_rules
from service.flags.rulesets import load_rule_text, parse_duration
from service.store.db import reading, transaction
from service.store.rule_runs import RuleRun, add_rule_run, list_rule_runs
from service.web.forms import FormFields, redirect, sign_in_redirect

RECENT_RUNS = 10
MAX_WINDOW = timedelta(days=365)
SOURCE_NAME = "pasted rules"
NOTICES = {
    "queued": "Queued; its result shows below when it is done (reload the page).",
    "reloaded": "Every rule file loads; every project is queued for evaluation with the rules as they are.",
}


def _rules_page(
    request: Request,
    operator: Operator,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    checked: str | None = None,
    notice: str | None = None,
) -> Response:
    with reading(store_of(request).sessions) as session:
        report = describe_rules(session, rules_dir=settings_of(request).rules_dir)
        runs = list_rule_runs(session, limit=RECENT_RUNS)
    return page(
        operator,
        "rules.html",
        active="rules",
        status_code=status_code,
        report=report,
        runs=[RunLine.of(run) for run in runs],
        errors=errors or {},
        typed=typed or {},
        checked=checked,
        notice=notice,
    )


@dataclass(frozen=True, slots=True)
class RunLine:
    run: RuleRun
    summary: str
    scores: list[dict[str, Any]]

    @classmethod
    def of(cls, run: RuleRun) -> RunLine:
        result = run.result or {}
        scores: list[dict[str, Any]] = []
        summary = ""
        if run.kind is RuleRunKind.BACKTEST and isinstance(result.get("rules"), list):
            scores = [r for r in result["rules"] if isinstance(r, dict)]
            summary = f"{len(scores)} rules scored"
        elif isinstance(result.get("hits"), list):
            hits = len(result["hits"])
            summary = f"{hits} hit{'' if hits == 1 else 's'}"
        return cls(run=run, summary=summary, scores=scores)


@router.get("/rules")
def rules(request: Request, done: Annotated[str, Query(max_length=16)] = "") -> Response:
    operator = current_operator(request)
    if operator is None:
        return sign_in_redirect(request, CONSOLE)
    return _rules_page(request, operator, notice=NOTICES.get(done))


def _rule_text_error(text: str, *, required: bool) -> str | None:
    if not text.strip():
        return "Paste a rule file." if required else None
    try:
        load_rule_text(text, source_name=SOURCE_NAME)
    except InvalidInputError as exc:
        return exc.message
    return None


def _window(text: str, *, field: str, default: str) -> tuple[timedelta | None, str | None]:
    try:
        window = parse_duration(text.strip() or default)
    except ValueError as exc:
        return None, f"{str(exc)[:1].upper()}{str(exc)[1:]}."
    if window <= timedelta(0) or window > MAX_WINDOW:
        return None, f"Choose a {field} longer than zero and at most {MAX_WINDOW.days} days."
    return window, None


@router.post("/rules/check")
def post_check(request: Request, form: FormFields) -> Response:
    operator = checked_operator(request, form)
    if isinstance(operator, Response):
        return operator
    text = form.get("rules", "")
    error = _rule_text_error(text, required=True)
    if error is not None:
        return _rules_page(request, operator, status_code=422, errors={"rules": error}, typed={"rules": text})
    rule_set = load_rule_text(text, source_name=SOURCE_NAME)
    custom = [rule.id for rule in rule_set.custom_rules]
    overrides = sorted(rule_set.builtin_overrides)
    checked = (
        f"The file loads: {len(custom)} custom rule{'' if len(custom) == 1 else 's'}"
        f"{' (' + ', '.join(custom) + ')' if custom else ''}, "
        f"{len(overrides)} built-in rule{'' if len(overrides) == 1 else 's'} configured"
        f"{' (' + ', '.join(overrides) + ')' if overrides else ''}."
    )
    return _rules_page(request, operator, typed={"rules": text}, checked=checked)


@router.post("/rules/runs")
def post_run(request: Request, form: FormFields) -> Response:
    """Queue a dry run (`kind=dry_run`: the pasted file over the window) or a backtest (`kind=backtest`:
    the rules as shipped, or the pasted file over them, every `step` over the window)."""
    operator = checked_operator(request, form)
    if isinstance(operator, Response):
        return operator
    typed = {name: form.get(name, "") for name in ("rules", "kind", "since", "step")}
    errors: dict[str, str] = {}
    try:
        kind = RuleRunKind(typed["kind"])
    except ValueError:
        kind = None
        errors["kind"] = "Choose a dry run or a backtest."
    text = typed["rules"]
    if (error := _rule_text_error(text, required=kind is RuleRunKind.DRY_RUN)) is not None:
        errors["rules"] = error
    default = "90d" if kind is RuleRunKind.DRY_RUN else "180d"
    since, error = _window(typed["since"], field="window", default=default)
    if error is not None:
        errors["since"] = error
    step, error = _window(typed["step"], field="step", default="1d")
    if error is None and step is not None and (step < timedelta(hours=1) or (since and step > since)):
        error = "Choose a step of at least an hour, and shorter than the window."
    if error is not None and kind is RuleRunKind.BACKTEST:
        errors["step"] = error
    if errors or kind is None or since is None:
        return _rules_page(request, operator, status_code=422, errors=errors, typed=typed)
    now = datetime.now(UTC)
    if kind is RuleRunKind.DRY_RUN:
        params = dry_run_params(text, since=since, requested_at=now)
    else:
        assert step is not None
        params = backtest_params(text if text.strip() else None, since=since, step=step, until=now)
    try:
        with transaction(store_of(request).sessions) as session:
            run = add_rule_run(
                session, kind=kind, params=params, now=now, max_waiting=settings_of(request).rule_runs_waiting
            )
    except TooManyRunsError as exc:
        return _rules_page(request, operator, status_code=429, errors={"kind": exc.message}, typed=typed)
    enqueuer_of(request).run_rules(run.id)
    return redirect(f"{HOME_PATH}/rules?done=queued")


@router.post("/rules/reload")
def post_reload(request: Request, form: FormFields) -> Response:
    """Check every rule file; when all load, queue every project's evaluation (as `POST
    /admin/rules/reload`). A file that does not load is named with its line and reason, nothing queued."""
    operator = checked_operator(request, form)
    if isinstance(operator, Response):
        return operator
    try:
        with reading(store_of(request).sessions) as session:
            reload_rules(session, rules_dir=settings_of(request).rules_dir, enqueuer=enqueuer_of(request))
    except InvalidRuleFilesError as exc:
        return _rules_page(request, operator, status_code=422, errors={"reload": exc.message})
    return redirect(f"{HOME_PATH}/rules?done=reloaded")
