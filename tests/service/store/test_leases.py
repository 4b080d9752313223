from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from service.store.leases import acquire_lease, release_lease, renew_lease

T = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=10)


def test_acquire_lease_second_owner_is_refused_while_it_holds(session: Session, source_id: int) -> None:
    assert acquire_lease(session, source_id=source_id, owner="w1", now=T, ttl=TTL)

    assert not acquire_lease(session, source_id=source_id, owner="w2", now=T + timedelta(minutes=5), ttl=TTL)


def test_acquire_lease_expired_lease_is_taken_over(session: Session, source_id: int) -> None:
    acquire_lease(session, source_id=source_id, owner="crashed", now=T, ttl=TTL)

    assert acquire_lease(
        session, source_id=source_id, owner="w2", now=T + TTL + timedelta(seconds=1), ttl=TTL
    )
    assert not renew_lease(session, source_id=source_id, owner="crashed", now=T + TTL, ttl=TTL)


def test_acquire_lease_same_owner_reacquires(session: Session, source_id: int) -> None:
    acquire_lease(session, source_id=source_id, owner="w1", now=T, ttl=TTL)

    assert acquire_lease(session, source_id=source_id, owner="w1", now=T + timedelta(minutes=1), ttl=TTL)


def test_release_lease_frees_the_source(session: Session, source_id: int) -> None:
    acquire_lease(session, source_id=source_id, owner="w1", now=T, ttl=TTL)
    release_lease(session, source_id=source_id, owner="w1")

    assert acquire_lease(session, source_id=source_id, owner="w2", now=T, ttl=TTL)


def test_renew_lease_extends_the_hold(session: Session, source_id: int) -> None:
    acquire_lease(session, source_id=source_id, owner="w1", now=T, ttl=TTL)

    assert renew_lease(session, source_id=source_id, owner="w1", now=T + timedelta(minutes=9), ttl=TTL)
    assert not acquire_lease(session, source_id=source_id, owner="w2", now=T + timedelta(minutes=15), ttl=TTL)
