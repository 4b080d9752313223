"""One flag per promise, not per item: items of one milestone that trip the same rule are grouped.

When `MIN_GROUP` or more items of one open milestone trip the same rule at once, their findings
become one finding on the milestone. It names the items and their count, and the share of the
milestone's scope they are. Each item's own evidence stays under `items`, so the API and the
console still show which items and why. An item in several open milestones is grouped under the
one whose promised date comes first: the promise it puts at risk soonest. A lone item keeps its
own flag. When the rule flags the milestone itself (an overdue milestone with overdue items), the
items' findings join that flag's evidence instead.

The grouped finding's severity comes from the share of scope at risk: a quarter or more is
critical, less is a warning. It is never lower than the worst of its items. Its fingerprint covers
the items and their own fingerprints, so its comment or console entry changes only when the
situation does.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from service.domain.enums import FlagSubject, Severity
from service.domain.work import JSON
from service.rules.facts import Facts, ItemFacts, MilestoneFacts
from service.rules.findings import Finding, fingerprint, subject_ref

MIN_GROUP = 2
# At or above this share of a milestone's items, the grouped finding is critical.
CRITICAL_SHARE = 0.25
_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
MilestoneKey = tuple[int, str]  # source id, milestone external id


def _open(m: MilestoneFacts) -> bool:
    return m.milestone.completed_at is None and not m.milestone.released


def _promised(m: MilestoneFacts) -> date:
    c = m.commitment
    current = c.current_date if c is not None else None
    return current or m.milestone.due_date or date.max


def _home(item: ItemFacts, milestones: dict[MilestoneKey, MilestoneFacts]) -> MilestoneFacts | None:
    """The open milestone an item's findings group under: the one promised first."""
    candidates = [
        m
        for external_id in item.item.milestone_external_ids
        if (m := milestones.get((item.item.source_id, external_id))) is not None and _open(m)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda m: (_promised(m), m.milestone.external_id))


def group_findings(findings: Sequence[Finding], facts: Iterable[Facts]) -> list[Finding]:
    """`findings` with each rule's item findings grouped per open milestone (see the module)."""
    items: dict[tuple[int, str], ItemFacts] = {}
    milestones: dict[MilestoneKey, MilestoneFacts] = {}
    for f in facts:
        if isinstance(f, ItemFacts):
            items[(f.item.source_id, f.key)] = f
        elif isinstance(f, MilestoneFacts):
            milestones[(f.milestone.source_id, f.milestone.external_id)] = f
    if not milestones:
        return list(findings)
    groups: dict[tuple[str, MilestoneKey], list[Finding]] = defaultdict(list)
    kept: list[Finding] = []
    for finding in findings:
        item = items.get((finding.subject.source_id, finding.subject.key))
        home = _home(item, milestones) if finding.subject.kind is FlagSubject.ITEM and item else None
        if home is None:
            kept.append(finding)
            continue
        groups[(finding.rule_id, (home.milestone.source_id, home.milestone.external_id))].append(finding)
    # A milestone the same rule flags itself takes its items' findings into its own flag's evidence.
    own = {
        (f.rule_id, (f.subject.source_id, f.subject.key)): index
        for index, f in enumerate(kept)
        if f.subject.kind is FlagSubject.MILESTONE
    }
    for (rule_id, key), members in groups.items():
        index = own.get((rule_id, key))
        if index is not None:
            kept[index] = _with_items(kept[index], members)
        elif len(members) < MIN_GROUP:
            kept.extend(members)
        else:
            kept.append(_grouped(members, milestones[key]))
    kept.sort(key=lambda f: (f.subject.kind.value, f.subject.source_id, f.subject.key, f.rule_id))
    return kept


def _item_evidence(members: list[Finding]) -> list[JSON]:
    return [{"item": f.subject.key, "message": f.message, **f.evidence} for f in members]


def _with_items(finding: Finding, members: list[Finding]) -> Finding:
    members.sort(key=lambda f: f.subject.key)
    evidence: dict[str, JSON] = {
        **finding.evidence,
        "item_keys": [f.subject.key for f in members],
        "items": _item_evidence(members),
    }
    return dataclasses.replace(finding, evidence=evidence)


def _grouped(members: list[Finding], milestone: MilestoneFacts) -> Finding:
    members.sort(key=lambda f: f.subject.key)
    first = members[0]
    ref = subject_ref(milestone)
    keys = [f.subject.key for f in members]
    total = max(milestone.items_total, len(members))
    share = len(members) / total
    worst = max((f.severity for f in members), key=_RANK.__getitem__)
    graded = Severity.CRITICAL if share >= CRITICAL_SHARE else Severity.WARNING
    severity = max(worst, graded, key=_RANK.__getitem__)
    shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    flagged = first.rule_id.replace("_", " ")
    evidence: dict[str, JSON] = {
        "grouped": True,
        "count": len(members),
        "item_keys": keys,
        "milestone_items": milestone.items_total,
        "share_of_scope": round(share, 3),
        "items": _item_evidence(members),
    }
    material: dict[str, JSON] = {"items": [[f.subject.key, f.fingerprint] for f in members]}
    return Finding(
        rule_id=first.rule_id,
        subject=ref,
        severity=severity,
        message=f"{len(members)} items of {ref.label} ({round(share * 100)}% of its scope) are flagged "
        f"{flagged}: {shown}",
        evidence=evidence,
        push_to_jira=first.push_to_jira,
        client_visible=first.client_visible,
        fingerprint=fingerprint(rule_id=first.rule_id, subject=ref, severity=severity, material=material),
        observed_at=first.observed_at,
    )
