"""What the engine concludes about one subject, with a fingerprint of the situation it saw."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import orjson

from service.domain.enums import FlagSubject, Severity
from service.domain.work import JSON
from service.rules.facts import Facts, ItemFacts, MilestoneFacts


@dataclass(frozen=True, slots=True, kw_only=True)
class SubjectRef:
    """Which item, milestone or project a finding is about."""

    kind: FlagSubject
    id: int | None  # the store id; None for facts built from unsaved rows
    key: str  # item key, milestone external id, project key
    label: str  # what a message calls it: item key, milestone name, project key
    source_id: int
    project_external_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    rule_id: str
    subject: SubjectRef
    severity: Severity
    message: str
    evidence: dict[str, JSON]
    push_to_jira: bool
    client_visible: bool
    # sha256 over the rule, the subject, the severity and the evidence that identifies the
    # situation: unchanged while the situation is, so the Jira comment is edited only on change.
    fingerprint: str
    observed_at: datetime

    @property
    def subject_kind(self) -> FlagSubject:
        return self.subject.kind

    @property
    def identity(self) -> tuple[str, FlagSubject, int, str]:
        """At most one open flag per identity."""
        return (self.rule_id, self.subject.kind, self.subject.source_id, self.subject.key)


def fingerprint(
    *, rule_id: str, subject: SubjectRef, severity: Severity, material: Mapping[str, JSON]
) -> str:
    payload = {
        "rule": rule_id,
        "subject": [subject.kind.value, subject.source_id, subject.key],
        "severity": severity.value,
        "material": material,
    }
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def subject_kind(facts: Facts) -> FlagSubject:
    if isinstance(facts, ItemFacts):
        return FlagSubject.ITEM
    if isinstance(facts, MilestoneFacts):
        return FlagSubject.MILESTONE
    return FlagSubject.PROJECT


def subject_ref(facts: Facts) -> SubjectRef:
    if isinstance(facts, ItemFacts):
        item = facts.item
        return SubjectRef(
            kind=FlagSubject.ITEM,
            id=item.id,
            key=item.key,
            label=item.key,
            source_id=item.source_id,
            project_external_id=item.project_external_id,
        )
    if isinstance(facts, MilestoneFacts):
        m = facts.milestone
        return SubjectRef(
            kind=FlagSubject.MILESTONE,
            id=m.id,
            key=m.external_id,
            label=m.name,
            source_id=m.source_id,
            project_external_id=m.project_external_id,
        )
    p = facts.project
    return SubjectRef(
        kind=FlagSubject.PROJECT,
        id=p.id,
        key=p.key,
        label=p.key,
        source_id=p.source_id,
        project_external_id=p.external_id,
    )
