"""Evaluations owed to webhook changes: merged per source, run once at a time, none forgotten."""

from __future__ import annotations

import threading
from collections.abc import Collection

import pytest

from service.domain.enums import InboxStatus
from service.jobs.evaluations import OwedEvaluations
from service.sync.deliveries import DeliveryResult


def changed(source_id: int, project_ids: frozenset[int] | None) -> DeliveryResult:
    return DeliveryResult(status=InboxStatus.PROCESSED, source_id=source_id, project_ids=project_ids)


def test_marks_merge_per_source_and_an_unknown_project_means_all_of_the_source() -> None:
    owed = OwedEvaluations()
    owed.mark(changed(1, frozenset({10})))
    owed.mark(changed(1, frozenset({11})))
    owed.mark(changed(2, frozenset({20})))
    owed.mark(changed(2, None))
    owed.mark(changed(2, frozenset({21})))
    owed.mark(changed(3, frozenset()))  # a stale delivery changed nothing
    owed.mark(DeliveryResult(status=InboxStatus.DEAD, source_id=None, project_ids=frozenset()))
    passes: list[dict[int, Collection[int] | None]] = []

    owed.run(passes.append)

    assert passes == [{1: {10, 11}, 2: None}]
    owed.run(passes.append)
    assert len(passes) == 1  # nothing is owed twice


def test_a_mark_made_during_a_pass_is_picked_up_by_the_running_thread() -> None:
    owed = OwedEvaluations()
    first_pass_started = threading.Event()
    release_first_pass = threading.Event()
    passes: list[dict[int, Collection[int] | None]] = []

    def evaluate(batch: dict[int, Collection[int] | None]) -> None:
        passes.append(batch)
        if len(passes) == 1:
            first_pass_started.set()
            assert release_first_pass.wait(10)

    owed.mark(changed(1, frozenset({10})))
    runner = threading.Thread(target=owed.run, args=(evaluate,))
    runner.start()
    assert first_pass_started.wait(10)

    owed.mark(changed(1, frozenset({12})))
    owed.run(evaluate)  # another thread: returns at once, the running one owes it
    assert passes == [{1: {10}}]
    release_first_pass.set()
    runner.join(10)

    assert passes == [{1: {10}}, {1: {12}}]


def test_a_failed_pass_stays_owed_and_keeps_nothing_running() -> None:
    owed = OwedEvaluations()
    owed.mark(changed(1, frozenset({10})))

    def fail(_: dict[int, Collection[int] | None]) -> None:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        owed.run(fail)
    owed.mark(changed(1, frozenset({11})))
    passes: list[dict[int, Collection[int] | None]] = []
    owed.run(passes.append)

    assert passes == [{1: {10, 11}}]
