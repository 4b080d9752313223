"""One flag per promise, not per item: items that trip the same rule together are grouped.

When `MIN_GROUP` or more items of one open milestone trip the same rule at once, their findings
become one finding on the milestone. It names the items and their count, and the share of the
milestone's scope they are. Each item's own evidence stays under `items`, so the API and the
console still show which items and why. An item in several open milestones is grouped under the
one whose promised date comes first: the promise it puts at risk soonest. Items in no open
milestone (a Kanban project's work, a card outside any milestone) group the same way on their
project: `MIN_GROUP` or more of one project tripping one rule make one project flag. A lone item
keeps its own flag. When the rule flags the milestone or project itself (an overdue milestone with
overdue items), the items' findings join that flag's evidence instead.

A milestone's grouped finding takes its severity from the share of scope at risk: a quarter or
more is critical, less is a warning. A project's takes the worst of its items' (a project is no
promise whose scope could be at risk). Neither is ever lower than the worst of its items. The
fingerprint covers the items and their own fingerprints, so a console entry changes only when the
situation does. Grouped flags are on a milestone or project, so push-back comments on none of them.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from service.domain.enums import FlagSubject, Severity
from service.domain.work import JSON
from service.rules.facts import Facts, ItemFacts, MilestoneFacts, ProjectFacts
from service.rules.findings import Finding, fingerprint, subject_ref

MIN_GROUP = 2
# At or above this share of a milestone's items, the grouped finding is critical.
CRITICAL_SHARE = 0.25
_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
MilestoneKey = tuple[int, str]  # source id, milestone external id
ProjectKey = tuple[int, str]  # source id, project external id
Home = MilestoneFacts | ProjectFacts


def _open(m: MilestoneFacts) -> bool:
    return m.milestone.completed_at is None and not m.milestone.released


def _promised(m: MilestoneFacts) -> date:
    c = m.commitment
    current = c.current_date if c is not None else None
    return current or m.milestone.due_date or date.max


def group_findings(findings: Sequence[Finding], facts: Iterable[Facts]) -> list[Finding]:
    """`findings` with each rule's item findings grouped per open milestone, else per project (see
    the module)."""
    items: dict[tuple[int, str], ItemFacts] = {}
    milestones: dict[MilestoneKey, MilestoneFacts] = {}
    projects: dict[ProjectKey, ProjectFacts] = {}
    for f in facts:
        if isinstance(f, ItemFacts):
            items[(f.item.source_id, f.key)] = f
        elif isinstance(f, MilestoneFacts):
            milestones[(f.milestone.source_id, f.milestone.external_id)] = f
        else:
            projects[(f.project.source_id, f.project.external_id)] = f
    if not milestones and not projects:
        return list(findings)
    groups: dict[tuple[str, FlagSubject, tuple[int, str]], list[Finding]] = defaultdict(list)
    homes: dict[tuple[FlagSubject, tuple[int, str]], Home] = {}
    kept: list[Finding] = []
    for finding in findings:
        item = items.get((finding.subject.source_id, finding.subject.key))
        home = (
            _home(item, milestones, projects) if finding.subject.kind is FlagSubject.ITEM and item else None
        )
        if home is None:
            kept.append(finding)
            continue
        place = _place(home)
        homes[place] = home
        groups[(finding.rule_id, *place)].append(finding)
    # A milestone or project the same rule flags itself takes its items' findings into its own flag.
    own: dict[tuple[str, FlagSubject, tuple[int, str]], int] = {
        (f.rule_id, f.subject.kind, (f.subject.source_id, _own_key(f))): index
        for index, f in enumerate(kept)
        if f.subject.kind is not FlagSubject.ITEM
    }
    for (rule_id, kind, key), members in groups.items():
        index = own.get((rule_id, kind, key))
        if index is not None:
            kept[index] = _with_items(kept[index], members)
        elif len(members) < MIN_GROUP:
            kept.extend(members)
        else:
            kept.append(_grouped(members, homes[(kind, key)]))
    kept.sort(key=lambda f: (f.subject.kind.value, f.subject.source_id, f.subject.key, f.rule_id))
    return kept


def _home(
    item: ItemFacts, milestones: dict[MilestoneKey, MilestoneFacts], projects: dict[ProjectKey, ProjectFacts]
) -> Home | None:
    """Where an item's findings group: its open milestone promised first, else its project."""
    candidates = [
        m
        for external_id in item.item.milestone_external_ids
        if (m := milestones.get((item.item.source_id, external_id))) is not None and _open(m)
    ]
    if candidates:
        return min(candidates, key=lambda m: (_promised(m), m.milestone.external_id))
    return projects.get((item.item.source_id, item.item.project_external_id))


def _place(home: Home) -> tuple[FlagSubject, tuple[int, str]]:
    if isinstance(home, MilestoneFacts):
        return FlagSubject.MILESTONE, (home.milestone.source_id, home.milestone.external_id)
    return FlagSubject.PROJECT, (home.project.source_id, home.project.external_id)


def _own_key(finding: Finding) -> str:
    """The key a milestone's or project's own finding is found by: a project's external id."""
    if finding.subject.kind is FlagSubject.PROJECT:
        return finding.subject.project_external_id
    return finding.subject.key


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


def _grouped(members: list[Finding], home: Home) -> Finding:
    members.sort(key=lambda f: f.subject.key)
    first = members[0]
    ref = subject_ref(home)
    keys = [f.subject.key for f in members]
    worst = max((f.severity for f in members), key=_RANK.__getitem__)
    shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    flagged = first.rule_id.replace("_", " ")
    evidence: dict[str, JSON] = {"grouped": True, "count": len(keys), "item_keys": keys}
    if isinstance(home, MilestoneFacts):
        total = max(home.items_total, len(members))
        share = len(members) / total
        graded = Severity.CRITICAL if share >= CRITICAL_SHARE else Severity.WARNING
        severity = max(worst, graded, key=_RANK.__getitem__)
        evidence |= {"milestone_items": home.items_total, "share_of_scope": round(share, 3)}
        message = (
            f"{len(members)} items of {ref.label} ({round(share * 100)}% of its scope) are flagged "
            f"{flagged}: {shown}"
        )
    else:
        severity = worst
        message = (
            f"{len(members)} items of {ref.label} outside any open milestone are flagged {flagged}: {shown}"
        )
    evidence["items"] = _item_evidence(members)
    material: dict[str, JSON] = {"items": [[f.subject.key, f.fingerprint] for f in members]}
    return Finding(
        rule_id=first.rule_id,
        subject=ref,
        severity=severity,
        message=message,
        evidence=evidence,
        push_to_jira=first.push_to_jira,
        client_visible=first.client_visible,
        fingerprint=fingerprint(rule_id=first.rule_id, subject=ref, severity=severity, material=material),
        observed_at=first.observed_at,
    )
