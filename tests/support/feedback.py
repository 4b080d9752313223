"""Client feedback on the seeded agency of `tests.support.api`, stored as the portal stores it."""

from __future__ import annotations

from datetime import date

from service.domain.enums import FeedbackSubject
from service.store.db import transaction
from service.store.runtime import Store
from service.store.tenancy import add_feedback
from tests.support.api import T0, World, add_feed_event


def seed_feedback(store: Store, world: World) -> dict[str, int]:
    """acme rates the milestone ACME 1.0 (2) and an item_done event of ACME-1 (5); globex rates the
    milestone SHARED 1.0 (3) and a period (4), newest last. Ids by those names."""
    event_id = add_feed_event(
        store,
        client_id=world.clients["acme"],
        project_id=world.projects["ACME"],
        summary="ACME-1 is done",
        payload={"item": "ACME-1", "title": "Title of ACME-1"},
    )
    ids: dict[str, int] = {"event": event_id}
    with transaction(store.sessions) as session:
        for name, client, subject, subject_id, rating in (
            ("acme-milestone", "acme", FeedbackSubject.MILESTONE, world.milestones["ACME"], 2),
            ("acme-event", "acme", FeedbackSubject.EVENT, event_id, 5),
            ("globex-milestone", "globex", FeedbackSubject.MILESTONE, world.milestones["SHARED"], 3),
            ("globex-period", "globex", FeedbackSubject.PERIOD, None, 4),
        ):
            period = subject is FeedbackSubject.PERIOD
            feedback = add_feedback(
                session,
                client_id=world.clients[client],
                subject=subject,
                subject_id=subject_id,
                period_start=date(2026, 8, 25) if period else None,
                period_end=date(2026, 8, 31) if period else None,
                rating=rating,
                comment=f"said {name}",
                now=T0,
            )
            assert feedback.id is not None
            ids[name] = feedback.id
    return ids
