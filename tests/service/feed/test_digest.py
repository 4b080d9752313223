"""The digest over the API tests' agency: acme's fortnight up to 14 September 2026."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from service.domain.enums import DigestPeriod, FeedbackSubject
from service.feed.digest import Digest, build_digest
from service.store.client_views import read_grants
from service.store.db import transaction
from service.store.runtime import Store, open_store
from service.store.tenancy import add_feedback
from tests.support.api import World, make_settings, seed_world

ENDING = date(2026, 9, 14)


@pytest.fixture(scope="module")
def agency(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, World]]:
    store = open_store(make_settings(tmp_path_factory.mktemp("digest")))
    try:
        yield store, seed_world(store)
    finally:
        store.close()


def _digest(store: Store, world: World, client: str, *, ending: date = ENDING) -> Digest:
    with store.sessions() as session:
        grants = read_grants(session, client_id=world.clients[client])
        return build_digest(session, grants, client_name=client, period=DigestPeriod.FORTNIGHT, ending=ending)


def test_build_digest_period_covers_days_up_to_ending() -> None:
    assert DigestPeriod.WEEK.days == 7
    assert DigestPeriod.FORTNIGHT.days == 14


def test_build_digest_done_holds_items_resolved_in_period(agency: tuple[Store, World]) -> None:
    digest = _digest(*agency, "acme")

    assert digest.start == date(2026, 9, 1)
    assert [(d.key, d.done_on) for d in digest.done] == [
        ("ACME-1", date(2026, 9, 4)),
        ("SHARED-1", date(2026, 9, 4)),
    ]


def test_build_digest_kept_missed_moved_and_next(agency: tuple[Store, World]) -> None:
    digest = _digest(*agency, "acme")

    assert [p.title for p in digest.kept] == ["ACME 1.0", "SHARED 1.0"]
    assert [p.title for p in digest.missed] == ["ACME-3 Title of ACME-3"]
    assert [(m.title, m.days) for m in digest.moved] == [
        ("ACME-2 Title of ACME-2", 7),
        ("SHARED-2 Title of SHARED-2", 7),
    ]
    assert [(n.title, n.due, n.promised) for n in digest.next] == [
        ("ACME-2 Title of ACME-2", date(2026, 9, 17), True),
        ("SHARED-2 Title of SHARED-2", date(2026, 9, 17), True),
    ]


def test_build_digest_holds_only_the_clients_scope(agency: tuple[Store, World]) -> None:
    digest = _digest(*agency, "initech")

    titles = [d.key for d in digest.done] + [p.title for p in digest.kept] + [r.text for r in digest.risks]
    assert titles
    assert all("INITECH" in title for title in titles)


def test_build_digest_risks_in_published_wording_only(agency: tuple[Store, World]) -> None:
    digest = _digest(*agency, "globex")

    texts = {r.text for r in digest.risks}
    assert "Risk on GLOBEX (project)" in texts
    assert not any("internal rule message" in t for t in texts)
    assert len(texts) == 8


def test_build_digest_asks_to_rate_milestones_completed_in_period(agency: tuple[Store, World]) -> None:
    store, world = agency

    pulses = _digest(store, world, "acme").pulses

    assert [(p.subject, p.subject_id) for p in pulses] == [
        (FeedbackSubject.MILESTONE, world.milestones["ACME"])
    ]


def test_build_digest_quiet_period_has_nothing_done(agency: tuple[Store, World]) -> None:
    digest = _digest(*agency, "acme", ending=date(2026, 8, 1))

    assert digest.is_quiet
    assert digest.pulses == []


def test_build_digest_satisfaction_split_by_delivery(agency: tuple[Store, World]) -> None:
    store, world = agency
    with transaction(store.sessions) as session:
        add_feedback(
            session,
            client_id=world.clients["globex"],
            subject=FeedbackSubject.MILESTONE,
            subject_id=world.milestones["GLOBEX"],
            period_start=None,
            period_end=None,
            rating=5,
            comment=None,
            now=datetime(2026, 9, 12, tzinfo=UTC),
        )

    digest = _digest(store, world, "globex")

    assert (digest.satisfaction.on_time.responses, digest.satisfaction.on_time.average) == (1, 5.0)
    assert digest.satisfaction.late.responses == 0
    assert all(p.subject_id != world.milestones["GLOBEX"] for p in digest.pulses)
