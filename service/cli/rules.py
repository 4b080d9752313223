"""`pmbridge rules`: list the rules in force, check a rule file, and dry-run or backtest rules over
stored history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from service.cli.context import fail_on_service_error, opened_store

rules_app = typer.Typer(
    help="Rules: list those in force, validate and dry-run rule files.", no_args_is_help=True
)


def _window(text: str, *, option: str = "--since") -> timedelta:
    from service.flags.rulesets import parse_duration

    try:
        window = parse_duration(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None
    if window <= timedelta(0):
        raise typer.BadParameter("must be longer than zero", param_hint=option)
    return window


def _until(text: str | None) -> datetime:
    """`--until`: a date (its midnight, UTC) or a datetime (UTC unless it says), never in the future."""
    now = datetime.now(UTC)
    if text is None:
        return now
    try:
        until = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("expected a date (2026-06-30) or a datetime", param_hint="--until") from None
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    if until > now:
        raise typer.BadParameter(
            "is in the future: a replay ends at the present at the latest", param_hint="--until"
        )
    return until


def _score(value: object) -> str:
    return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


@rules_app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"rules_dir", "rules": [...], "errors": [...]}.')
    ] = False,
) -> None:
    """List the rules in force: every built-in rule, then each rule of each file of PMBRIDGE_RULES_DIR
    (default.yaml, client-<name>.yaml, project-<KEY>.yaml), with its scope, settings and, for a
    built-in rule, its precision and recall in the latest backtest of the rules as shipped. A file
    that does not load is reported with its line and reason."""
    from service.cli.context import settings_from
    from service.flags.rule_catalog import describe_rules, rules_report_json

    settings = settings_from(ctx)
    with fail_on_service_error(), opened_store(ctx) as store, store.sessions() as session:
        report = rules_report_json(describe_rules(session, rules_dir=settings.rules_dir))
    if as_json:
        typer.echo(json.dumps(report))
        return
    typer.echo("name\tkind\torigin\tscope\tenabled\tseverity\tpush\tprecision\trecall\tbeats_baseline")
    for rule in report["rules"]:
        scope = rule["scope"] if rule["scope_kind"] == "default" else f"{rule['scope_kind']}:{rule['scope']}"
        typer.echo(
            f"{rule['name']}\t{rule['kind']}\t{rule['origin']}\t{scope}\t"
            f"{'on' if rule['enabled'] else 'off'}\t{rule['severity']}\t"
            f"{'yes' if rule['push_to_jira'] else 'no'}\t{_score(rule['precision'])}\t"
            f"{_score(rule['recall'])}\t{_score(rule['beats_baseline'])}"
        )
    for error in report["errors"]:
        where = error["file"] if error["line"] is None else f"{error['file']}:{error['line']}"
        typer.echo(f"error: {where}: {error['reason']} (its rules are not listed)", err=True)


@rules_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="A YAML rule file.", exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Validate a rule file; an invalid rule is refused with its line and the reason."""
    from service.flags.rulesets import load_rule_file

    with fail_on_service_error():
        rule_set = load_rule_file(file)
    custom = [rule.id for rule in rule_set.custom_rules]
    overridden = sorted(rule_set.builtin_overrides)
    if as_json:
        typer.echo(json.dumps({"ok": True, "custom_rules": custom, "builtin_overrides": overridden}))
        return
    typer.echo(f"{file}: ok — {len(custom)} custom rule(s), {len(overridden)} built-in override(s)")
    for rule_id in custom:
        typer.echo(f"  custom   {rule_id}")
    for rule_id in overridden:
        typer.echo(f"  override {rule_id}")


@rules_app.command("dry-run")
def dry_run(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A YAML rule file.", exists=True, dir_okay=False)],
    since: Annotated[str, typer.Option(help="How far back to replay: 90d, 12w, 48h.")] = "90d",
    until: Annotated[
        str | None, typer.Option(help="Where the replay ends: a date or datetime (default: now).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of hits.")] = False,
) -> None:
    """Replay stored history day by day: what the file's rules would have flagged, where and when."""
    from service.flags.dryrun import dry_run_stored
    from service.flags.rulesets import load_rule_file
    from service.rules import default_rule_set

    window = _window(since)
    end = _until(until)
    with fail_on_service_error():
        layer = load_rule_file(file)
        rule_ids = frozenset([r.id for r in layer.custom_rules] + list(layer.builtin_overrides)) or None
        with opened_store(ctx) as store:
            hits = dry_run_stored(
                store,
                rule_set=default_rule_set().override(layer),
                rule_ids=rule_ids,
                since=window,
                now=end,
            )
    rows = [
        {
            "rule": hit.rule_id,
            "subject": hit.subject.kind.value,
            "subject_key": hit.subject.key,
            "first_flagged_at": hit.first_flagged_at.isoformat(),
            "resolved_at": hit.resolved_at.isoformat() if hit.resolved_at else None,
            "days_flagged": hit.instants_flagged,
            "message": hit.first_finding.message,
        }
        for hit in hits
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    typer.echo(f"{len(hits)} subject(s) would have been flagged in the last {since}")
    for hit in hits:
        until = f"until {hit.resolved_at.date()}" if hit.resolved_at else "still open"
        typer.echo(
            f"  {hit.rule_id:28s} {hit.subject.key:14s} from {hit.first_flagged_at.date()} {until}: "
            f"{hit.first_finding.message}"
        )


@rules_app.command("backtest")
def backtest(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(
            help="A YAML rule file over the built-in rules (default: the rules as shipped).", dir_okay=False
        ),
    ] = None,
    since: Annotated[str, typer.Option(help="How far back to replay: 180d, 26w.")] = "180d",
    step: Annotated[str, typer.Option(help="How often to evaluate in the window: 1d, 12h.")] = "1d",
    until: Annotated[
        str | None, typer.Option(help="Where the window ends: a date or datetime (default: now).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Replay stored history and score each rule against what happened later: flags raised and
    earned, precision, recall, lead time, open flags and comments, beside naive baselines."""
    from service.flags.backtest import backtest_stored, record_backtest
    from service.flags.rulesets import load_rule_file

    window = _window(since)
    every = _window(step, option="--step")
    end = _until(until)
    if file is not None and not file.is_file():
        raise typer.BadParameter(f"{file} is not a file", param_hint="FILE")
    with fail_on_service_error():
        text = None
        if file is not None:
            load_rule_file(file)  # refused with the file's name and line before anything runs
            text = file.read_text(encoding="utf-8")
        with opened_store(ctx) as store:
            report = backtest_stored(store, rules=text, since=window, until=end, step=every)
            run_id = record_backtest(
                store, report, rules=text, since=window, step=every, until=end, now=datetime.now(UTC)
            )
    result = report.to_json()
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(_backtest_text(result))
    kept = (
        "push-back holds rules to these precisions"
        if text is None
        else "a rule file's: not used by push-back"
    )
    typer.echo(f"recorded as rule run {run_id} ({kept})")


def _ratio(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float | int) else "-"


def _backtest_text(result: dict[str, Any]) -> str:
    window = result["window"]
    overall = result["overall"]
    lines = [
        f"Backtest {window['since'][:10]} to {window['until'][:10]} every {window['step']}: "
        f"{overall['promises_missed']} promise(s) missed, "
        f"{overall['promises_flagged_in_time']} flagged in time",
        f"{'rule':28s} {'flags':>6s} {'earned':>6s} {'prec':>5s} {'recall':>6s} {'lead d':>6s} "
        f"{'open/100':>8s} {'comments':>8s}",
    ]
    for row in result["rules"]:
        lines.append(
            f"{row['rule']:28s} {row['flags']:6d} {row['earned']:6d} {_ratio(row['precision']):>5s} "
            f"{_ratio(row['recall']):>6s} {_ratio(row['median_lead_days']):>6s} "
            f"{row['open_flags_per_100_items']:8.2f} {row['comments']:8d}"
        )
    lines.append(
        f"{'overall':28s} {overall['flags']:6d} {'':6s} {_ratio(overall['precision']):>5s} "
        f"{_ratio(overall['recall']):>6s} {_ratio(overall['median_lead_days']):>6s} "
        f"{overall['open_flags_per_100_items']:8.2f} {overall['comments']:8d}"
    )
    promise = result["promise_level"]
    lines.append(
        f"{'promise-level flags':28s} {promise['flags']:6d} {'':6s} {_ratio(promise['precision']):>5s} "
        f"{_ratio(promise['recall']):>6s} {_ratio(promise['median_lead_days']):>6s}"
    )
    lines.append(f"comments per 100 active items a week: {overall['comments_per_100_items_per_week']:.2f}")
    lines.append("baselines:")
    for row in result["baselines"]:
        lines.append(
            f"  {row['name']:26s} {row['flags']:6d} {'':6s} {_ratio(row['precision']):>5s} "
            f"{_ratio(row['recall']):>6s} {'':6s} {row['open_flags_per_100_items']:8.2f}"
        )
    return "\n".join(lines)
