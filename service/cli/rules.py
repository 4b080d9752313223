"""`pmbridge rules`: check a rule file, and dry-run it over stored history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from service.cli.context import fail_on_service_error, opened_store

rules_app = typer.Typer(help="Custom rules: validate and dry-run rule files.", no_args_is_help=True)


def _window(text: str) -> timedelta:
    from service.flags.rulesets import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None


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
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of hits.")] = False,
) -> None:
    """Replay stored history day by day: what the file's rules would have flagged, where and when."""
    from service.flags.dryrun import dry_run_stored
    from service.flags.rulesets import load_rule_file
    from service.rules import default_rule_set

    window = _window(since)
    with fail_on_service_error():
        layer = load_rule_file(file)
        rule_ids = frozenset([r.id for r in layer.custom_rules] + list(layer.builtin_overrides)) or None
        with opened_store(ctx) as store:
            hits = dry_run_stored(
                store,
                rule_set=default_rule_set().override(layer),
                rule_ids=rule_ids,
                since=window,
                now=datetime.now(UTC),
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
