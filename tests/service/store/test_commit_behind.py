"""Units of work committed in the background: in order, counted only once committed, errors kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.store import db
from service.store.db import CommitBehind, build_engine, build_session_factory, transaction


@pytest.fixture
def probe_engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE probe_parent (id INTEGER PRIMARY KEY)")
        # Checked at commit, so a unit can fail in its commit rather than in its block.
        connection.exec_driver_sql(
            "CREATE TABLE probe_child (n INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL "
            "REFERENCES probe_parent (id) DEFERRABLE INITIALLY DEFERRED)"
        )
        connection.exec_driver_sql("INSERT INTO probe_parent (id) VALUES (1)")
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(probe_engine: Engine) -> sessionmaker[Session]:
    return build_session_factory(probe_engine)


def _add(session: Session, n: int, parent_id: int = 1) -> None:
    session.execute(text("INSERT INTO probe_child (n, parent_id) VALUES (:n, :p)"), {"n": n, "p": parent_id})


def _stored(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as session:
        return list(session.scalars(text("SELECT n FROM probe_child ORDER BY n")))


def test_units_commit_in_order_and_callbacks_run_once_committed(sessions: sessionmaker[Session]) -> None:
    seen_by_callbacks: list[list[int]] = []
    with CommitBehind(sessions) as committer:
        for n in range(1, 6):
            with committer.unit() as session:
                _add(session, n)
            committer.after_commit(lambda: seen_by_callbacks.append(_stored(sessions)))
    # Each callback ran after its own unit was committed, and in order.
    assert seen_by_callbacks == [[1], [1, 2], [1, 2, 3], [1, 2, 3, 4], [1, 2, 3, 4, 5]]
    assert _stored(sessions) == [1, 2, 3, 4, 5]


def test_the_driver_commits_on_another_thread(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    driver_commit = db._driver_commit

    def recording(connection: object) -> None:
        threads.append(threading.current_thread().name)
        driver_commit(connection)  # type: ignore[arg-type]

    monkeypatch.setattr(db, "_driver_commit", recording)
    with CommitBehind(sessions) as committer, committer.unit() as session:
        _add(session, 1)
    assert len(threads) == 1
    assert threads[0] != threading.current_thread().name
    assert _stored(sessions) == [1]


def test_a_block_that_raises_rolls_its_unit_back_and_keeps_the_units_before(
    sessions: sessionmaker[Session],
) -> None:
    counted: list[int] = []
    with pytest.raises(RuntimeError, match="mapping failed"), CommitBehind(sessions) as committer:
        with committer.unit() as session:
            _add(session, 1)
        committer.after_commit(lambda: counted.append(1))
        with committer.unit() as session:
            _add(session, 2)
            raise RuntimeError("mapping failed")
    assert _stored(sessions) == [1]
    assert counted == [1]


def test_a_failed_commit_is_raised_later_and_its_callbacks_never_run(sessions: sessionmaker[Session]) -> None:
    counted: list[str] = []
    committer = CommitBehind(sessions)
    with committer.unit() as session:
        _add(session, 1, parent_id=99)  # the deferred check fails at commit, in the background
    committer.after_commit(lambda: counted.append("bad"))
    with pytest.raises(IntegrityError):
        committer.wait()
    assert counted == []
    # The failed unit is gone and its connection was given back: the next unit works.
    with committer, committer.unit() as session:
        _add(session, 2)
    assert _stored(sessions) == [2]


def test_the_next_unit_raises_a_failed_commit_before_it_begins(sessions: sessionmaker[Session]) -> None:
    with CommitBehind(sessions) as committer:
        with committer.unit() as session:
            _add(session, 1, parent_id=99)
        with pytest.raises(IntegrityError), committer.unit() as session:
            _add(session, 2)
    assert _stored(sessions) == []


def test_after_commit_with_nothing_pending_runs_at_once(sessions: sessionmaker[Session]) -> None:
    counted: list[int] = []
    with CommitBehind(sessions) as committer:
        committer.after_commit(lambda: counted.append(1))
        assert counted == [1]


def test_a_plain_transaction_is_unchanged(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        _add(session, 1)
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        _add(session, 2, parent_id=99)
    assert _stored(sessions) == [1]
