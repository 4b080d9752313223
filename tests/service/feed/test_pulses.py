"""Satisfaction against delivery: ratings of milestones and of events alike, over the API tests'
agency, where ACME's milestone kept its promise and ACME-2's promise was missed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from service.domain.enums import FeedbackSubject
from service.feed.pulses import RatingGroup, SatisfactionByDelivery, satisfaction_by_delivery
from service.store.client_views import read_grants
from service.store.db import transaction
from service.store.runtime import Store, open_store
from service.store.tenancy import add_feedback
from tests.support.api import World, add_feed_event, make_settings, seed_world

TODAY = date(2026, 9, 30)


@pytest.fixture
def agency(tmp_path: Path) -> Iterator[tuple[Store, World]]:
    store = open_store(make_settings(tmp_path))
    try:
        yield store, seed_world(store)
    finally:
        store.close()


def rate(store: Store, world: World, subject: FeedbackSubject, subject_id: int, rating: int) -> None:
    with transaction(store.sessions) as session:
        add_feedback(
            session,
            client_id=world.clients["acme"],
            subject=subject,
            subject_id=subject_id,
            period_start=None,
            period_end=None,
            rating=rating,
            comment=None,
            now=datetime(2026, 9, 20, tzinfo=UTC),
        )


def event(store: Store, world: World, *, project: str, payload: dict[str, object], kind: str) -> int:
    return add_feed_event(
        store,
        client_id=world.clients["acme"],
        project_id=world.projects[project],
        summary=f"{kind} {payload}",
        kind=kind,
        payload=payload,
    )


def by_delivery(store: Store, world: World) -> SatisfactionByDelivery:
    with store.sessions() as session:
        grants = read_grants(session, client_id=world.clients["acme"])
        return satisfaction_by_delivery(session, grants, today=TODAY)


def test_satisfaction_by_delivery_counts_event_ratings_by_the_promise_of_what_they_are_about(
    agency: tuple[Store, World],
) -> None:
    store, world = agency
    slipped = event(
        store, world, project="ACME", kind="commitment_moved", payload={"item": "ACME-2", "days": 7}
    )
    progress = event(
        store, world, project="ACME", kind="milestone_progress", payload={"milestone": "ACME 1.0"}
    )
    rate(store, world, FeedbackSubject.MILESTONE, world.milestones["ACME"], 4)
    rate(store, world, FeedbackSubject.EVENT, slipped, 2)
    rate(store, world, FeedbackSubject.EVENT, progress, 5)

    assert by_delivery(store, world) == SatisfactionByDelivery(
        on_time=RatingGroup(responses=2, average=4.5), late=RatingGroup(responses=1, average=2.0)
    )


def test_satisfaction_by_delivery_leaves_out_events_without_an_ended_promise_in_scope(
    agency: tuple[Store, World],
) -> None:
    """A risk names no promise; ACME-4 has none; SHARED-3 (labelled internal) is outside acme's
    scope, though an event about it was stored before the scope narrowed."""
    store, world = agency
    ratings = [
        (event(store, world, project="ACME", kind="risk_raised", payload={"flag_id": 1, "text": "Late"}), 1),
        (event(store, world, project="ACME", kind="item_done", payload={"item": "ACME-4"}), 1),
        (event(store, world, project="SHARED", kind="commitment_missed", payload={"item": "SHARED-3"}), 1),
    ]
    for event_id, rating in ratings:
        rate(store, world, FeedbackSubject.EVENT, event_id, rating)

    assert by_delivery(store, world) == SatisfactionByDelivery(
        on_time=RatingGroup(responses=0, average=None), late=RatingGroup(responses=0, average=None)
    )
