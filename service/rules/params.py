"""Thresholds of the built-in rules: one frozen dataclass per rule, with its defaults and bounds."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from service.domain.enums import Priority

ParamValue = int | float | bool | str | tuple[str, ...]
P = TypeVar("P")


@dataclass(frozen=True, slots=True, kw_only=True)
class OverdueParams:
    grace_days: int = 0  # days past the promised date tolerated before flagging


@dataclass(frozen=True, slots=True, kw_only=True)
class DueSoonParams:
    days_before: int = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class MovedParams:
    min_moves: int = 2  # slips (moves later) that flag
    min_total_days: int = 14  # net days later than the baseline that flag


@dataclass(frozen=True, slots=True, kw_only=True)
class ForecastParams:
    confidence: int = 85  # percent of simulated futures that must meet the promise
    weeks_of_history: int = 8
    min_history_weeks: int = 3
    trials: int = 1000
    seed: int = 0
    max_weeks: int = 104


@dataclass(frozen=True, slots=True, kw_only=True)
class DueForecastParams:
    # Flag when fewer than this share of the project's recent items of the same age finished in
    # the days left: the item is more likely than not to miss its date.
    min_chance_on_time: float = 0.5
    critical_below: float = 0.2  # and critical under this chance
    min_samples: int = 8  # recent items done past the item's age, fewer: no forecast


@dataclass(frozen=True, slots=True, kw_only=True)
class StaleParams:
    days: int = 5
    ignore_blocked: bool = True  # a blocked item is "blocked_too_long"'s business


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockedParams:
    days: int = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class UnassignedParams:
    days_before: int = 5
    priorities: tuple[str, ...] = (Priority.HIGHEST.value, Priority.HIGH.value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScopeParams:
    min_items: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class SprintParams:
    max_added_after_start: int = 2
    max_carried_over: int = 3
    max_completion_lag: float = 0.25  # elapsed share of the sprint minus the done share of its items
    min_elapsed: float = 0.2  # no lag verdict in the first days of a sprint


@dataclass(frozen=True, slots=True, kw_only=True)
class ReopenedParams:
    min_reopens: int = 1


# (minimum, maximum) per parameter name, where a bound matters.
BOUNDS: Mapping[str, tuple[float, float]] = {
    "confidence": (1, 99),
    "trials": (1, 100_000),
    "max_weeks": (1, 520),
    "weeks_of_history": (1, 104),
    "min_history_weeks": (1, 104),
    "max_completion_lag": (0.0, 1.0),
    "min_elapsed": (0.0, 1.0),
}
CHOICES: Mapping[str, frozenset[str]] = {"priorities": frozenset(p.value for p in Priority)}


def _check_number(name: str, value: int | float) -> None:
    low, high = BOUNDS.get(name, (0, float("inf")))
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")


def _check_value(name: str, default: ParamValue, value: object) -> ParamValue:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer")
        _check_number(name, value)
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number")
        _check_number(name, value)
        return float(value)
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} must be a list of strings")
        allowed = CHOICES.get(name)
        bad = [v for v in value if allowed is not None and v not in allowed]
        if bad:
            raise ValueError(
                f"{name}: unknown value(s) {', '.join(bad)}; allowed: {', '.join(sorted(allowed or ()))}"
            )
        return tuple(value)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value


def validate_param(params: object, name: str, value: object) -> ParamValue:
    """The checked value of one threshold, or ValueError naming what is wrong."""
    names = [f.name for f in dataclasses.fields(params)]  # type: ignore[arg-type]
    if name not in names:
        raise ValueError(f"unknown setting {name!r}; thresholds: {', '.join(names)}")
    default: ParamValue = getattr(params, name)
    return _check_value(name, default, value)


def apply_params(params: P, overrides: Mapping[str, ParamValue]) -> P:
    """`params` with validated overrides applied."""
    return dataclasses.replace(params, **overrides)  # type: ignore[type-var]
