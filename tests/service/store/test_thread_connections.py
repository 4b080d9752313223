"""One driver connection per thread, in autocommit; a dropped one is replaced."""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from service.store.thread_connections import ThreadConnections


def test_each_thread_keeps_its_own_connection_until_it_is_dropped(engine: Engine) -> None:
    connections = ThreadConnections(engine)
    mine = connections.get()
    theirs: list[object] = []
    other = threading.Thread(target=lambda: theirs.append(connections.get()))
    other.start()
    other.join()

    assert connections.get() is mine
    assert theirs and theirs[0] is not mine
    connections.drop()
    assert connections.get() is not mine
    connections.close()


def test_a_statement_commits_on_its_own(engine: Engine) -> None:
    connections = ThreadConnections(engine)
    cursor = connections.get().cursor()
    cursor.execute("CREATE TABLE thread_connections_probe (n INTEGER)")
    cursor.execute("INSERT INTO thread_connections_probe (n) VALUES (7)")
    cursor.close()
    try:
        with engine.connect() as elsewhere:
            seen = elsewhere.exec_driver_sql("SELECT n FROM thread_connections_probe").scalar_one()
        assert seen == 7  # another connection sees it: nothing waited in an open transaction
    finally:
        cursor = connections.get().cursor()
        cursor.execute("DROP TABLE thread_connections_probe")
        cursor.close()
        connections.close()
