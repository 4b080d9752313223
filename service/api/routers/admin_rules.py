"""Admin routes for rule files: check one, and dry-run it over stored history (as `pmbridge rules`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from service.api.auth import Caller, require_admin
from service.api.schemas.common import ADMIN_ERRORS
from service.api.schemas.rules import DryRunHitOut, DryRunIn, DryRunOut, RuleFileCheckOut, RuleFileIn
from service.app_state import store_of
from service.flags.dryrun import dry_run_stored
from service.flags.rulesets import load_rule_text
from service.rules import default_rule_set

router = APIRouter(prefix="/admin", tags=["admin"], responses=ADMIN_ERRORS)
Admin = Annotated[Caller, Depends(require_admin)]
# Named in an invalid file's error: `rules:<line>: <reason>`, with the line and reason in its details.
_SOURCE = "rules"


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


@router.post("/rules/dry-run", response_model=DryRunOut, summary="Replay stored history with a rule file")
def post_dry_run(request: Request, _admin: Admin, body: DryRunIn) -> DryRunOut:
    """What the file's rules (all rules when it defines or configures none) would have flagged,
    replayed day by day over the window: per rule and subject, from when, until when. An invalid
    file answers 400 as for `/admin/rules/validate`."""
    layer = load_rule_text(body.rules, source_name=_SOURCE)
    rule_ids = frozenset([r.id for r in layer.custom_rules] + list(layer.builtin_overrides)) or None
    hits = dry_run_stored(
        store_of(request),
        rule_set=default_rule_set().override(layer),
        rule_ids=rule_ids,
        since=body.window(),
        now=datetime.now(UTC),
    )
    return DryRunOut(
        hits=[
            DryRunHitOut(
                rule=hit.rule_id,
                subject=hit.subject.kind,
                subject_key=hit.subject.key,
                first_flagged_at=hit.first_flagged_at,
                resolved_at=hit.resolved_at,
                days_flagged=hit.instants_flagged,
                message=hit.first_finding.message,
            )
            for hit in hits
        ]
    )
