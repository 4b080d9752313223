"""Authentication never writes in the request path: reads are served while another process holds
SQLite's write lock, and last-used times reach the database in batches."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from service.api.auth import LastUseRecorder
from service.store.db import transaction
from service.store.runtime import open_store
from service.store.tenancy import get_token, touch_token
from tests.support.api import World, bearer, make_settings, store_of

UNREACHABLE_URL = "postgresql+psycopg://postgres@127.0.0.1:1/x?connect_timeout=2"


def test_reads_are_served_while_another_writer_holds_the_lock(api: TestClient, world: World) -> None:
    database = store_of(api).engine.url.database
    assert database is not None
    writer = sqlite3.connect(database, timeout=0.1)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        # A token not yet in the cache, so it is looked up in the database.
        response = api.get("/v1/projects", headers=bearer(world.tokens["initech"]))
        elapsed = time.monotonic() - started
    finally:
        writer.rollback()
        writer.close()

    assert response.status_code == 200
    assert elapsed < 10, "the read waited on the writer's lock"


def test_last_use_recorder_writes_the_latest_time_of_each_token_in_one_batch(
    api: TestClient, world: World
) -> None:
    store = store_of(api)
    recorder = LastUseRecorder(store)
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    acme, globex = world.token_ids["acme"], world.token_ids["globex"]

    recorder.note(acme, now=t0)
    recorder.note(acme, now=t0 + timedelta(seconds=5))
    recorder.note(globex, now=t0)
    written = recorder.flush()

    assert written == 2
    with store.sessions() as session:
        assert get_token(session, token_id=acme).last_used_at == t0 + timedelta(seconds=5)
        assert get_token(session, token_id=globex).last_used_at == t0
    assert recorder.flush() == 0


def test_last_use_recorder_never_moves_a_later_stored_time_back(api: TestClient, world: World) -> None:
    store = store_of(api)
    acme = world.token_ids["acme"]
    later = datetime(2026, 12, 2, tzinfo=UTC)
    with transaction(store.sessions) as session:
        touch_token(session, token_id=acme, now=later)
    recorder = LastUseRecorder(store)

    recorder.note(acme, now=later - timedelta(hours=1))
    recorder.flush()

    with store.sessions() as session:
        assert get_token(session, token_id=acme).last_used_at == later


def test_last_use_recorder_keeps_the_times_when_the_write_fails(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=UNREACHABLE_URL)
    store = open_store(settings, check_schema=False)
    recorder = LastUseRecorder(store)
    recorder.note(7, now=datetime(2026, 12, 3, tzinfo=UTC))

    try:
        written = recorder.flush()
    finally:
        store.close()

    assert written == 0
    assert recorder.pending == 1
