"""The rules engine: built-in rules and CEL conditions over item, milestone and project facts.

Pure: facts in, findings out. The store side builds facts (`build_item_facts`,
`build_milestone_facts`, `build_project_facts`), loads rule sets (`load_rule_set`, layered with
`RuleSet.override`), calls `evaluate`, and turns findings into flags keyed by
`Finding.identity`, editing the Jira comment when `Finding.fingerprint` changes.
"""

from service.domain.ledger import MILESTONE_PROMISE_FIELD
from service.rules.aggregate import (
    build_milestone_facts,
    build_project_facts,
    sprint_closes,
    team_throughput,
)
from service.rules.context import Env
from service.rules.dryrun import (
    DryRunHit,
    ItemHistory,
    MilestoneHistory,
    ProjectHistory,
    dry_run,
    facts_as_of,
)
from service.rules.engine import Evaluation, evaluate, evaluate_with_failures
from service.rules.errors import RuleError, RuleFailure
from service.rules.facts import (
    Facts,
    FactsConfig,
    ItemFacts,
    MilestoneFacts,
    ProjectFacts,
    Reopening,
    ScopeAddition,
    SprintFacts,
)
from service.rules.findings import Finding, SubjectRef
from service.rules.forecast import Forecast, forecast_completion, weekly_throughput
from service.rules.history import build_item_facts, build_item_facts_as_of, item_as_of
from service.rules.loader import load_rule_set
from service.rules.pack import BUILTIN_RULES
from service.rules.ruleset import BuiltinOverride, CustomRule, RuleSet, default_rule_set

__all__ = [
    "BUILTIN_RULES",
    "MILESTONE_PROMISE_FIELD",
    "BuiltinOverride",
    "CustomRule",
    "DryRunHit",
    "Env",
    "Evaluation",
    "Facts",
    "FactsConfig",
    "Finding",
    "Forecast",
    "ItemFacts",
    "ItemHistory",
    "MilestoneFacts",
    "MilestoneHistory",
    "ProjectFacts",
    "ProjectHistory",
    "Reopening",
    "RuleError",
    "RuleFailure",
    "RuleSet",
    "ScopeAddition",
    "SprintFacts",
    "SubjectRef",
    "build_item_facts",
    "build_item_facts_as_of",
    "build_milestone_facts",
    "build_project_facts",
    "default_rule_set",
    "dry_run",
    "evaluate",
    "evaluate_with_failures",
    "facts_as_of",
    "forecast_completion",
    "item_as_of",
    "load_rule_set",
    "sprint_closes",
    "team_throughput",
    "weekly_throughput",
]
