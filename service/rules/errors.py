"""Errors of the rules engine: a rule set that cannot be loaded, a rule that failed on a subject."""

from __future__ import annotations

from dataclasses import dataclass

from service.errors import InvalidInputError


class RuleError(InvalidInputError):
    """A rule set refused at load time, with the 1-based YAML line and the reason."""

    code = "invalid_rule"

    def __init__(self, *, source_name: str, line: int | None, reason: str) -> None:
        where = f"{source_name}:{line}" if line is not None else source_name
        super().__init__(
            f"{where}: {reason}", details={"source": source_name, "line": line, "reason": reason}
        )
        self.source_name = source_name
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleFailure:
    """A custom rule whose condition raised on one subject; the subject is not flagged by it."""

    rule_id: str
    subject_key: str
    reason: str
