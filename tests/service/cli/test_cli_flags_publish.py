"""`pmbridge flags publish ID --text TEXT` and `flags unpublish ID`, over the seeded agency: the
flag printed as `flags list --json` prints it, what clients see, and refused wording."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.settings import Settings
from service.store.db import reading
from service.store.flags import get_flag
from service.store.runtime import Store, open_store
from tests.support.api import World, seed_world


@pytest.fixture
def store(runner: CliRunner) -> Iterator[Store]:
    opened = open_store(Settings(data_dir=Path(os.environ["PMBRIDGE_DATA_DIR"])))
    yield opened
    opened.close()


@pytest.fixture
def world(store: Store) -> World:
    return seed_world(store)


def _json(runner: CliRunner, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_flags_publish_prints_the_flag_as_the_listing_does(runner: CliRunner, world: World) -> None:
    flag_id = world.flags["INITECH-unpublished"]

    row = _json(runner, "flags", "publish", str(flag_id), "--text", "Login may slip")

    [listed] = [r for r in _json(runner, "flags", "list", "--state", "all") if r["id"] == flag_id]
    assert row == listed
    assert row["published"] is True


def test_flags_publish_stores_the_wording_clients_read(runner: CliRunner, world: World, store: Store) -> None:
    flag_id = world.flags["INITECH-unpublished"]

    result = runner.invoke(app, ["flags", "publish", str(flag_id), "--text", "Login may slip"])

    assert result.exit_code == 0, result.output
    assert f"flag {flag_id} published" in result.stdout
    with reading(store.sessions) as session:
        flag = get_flag(session, flag_id=flag_id)
    assert (flag.published, flag.client_text) == (True, "Login may slip")


def test_flags_unpublish_keeps_the_flag_internal(runner: CliRunner, world: World, store: Store) -> None:
    flag_id = world.flags["ACME-item"]

    row = _json(runner, "flags", "unpublish", str(flag_id))

    assert (row["id"], row["published"]) == (flag_id, False)
    with reading(store.sessions) as session:
        assert get_flag(session, flag_id=flag_id).published is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["flags", "publish", "{flag}", "--text", ""], "may not be empty"),
        (["flags", "publish", "{flag}", "--text", "x" * 2001], "at most 2000"),
        (["flags", "publish", "999999", "--text", "Late"], "flag 999999 not found"),
        (["flags", "unpublish", "999999"], "flag 999999 not found"),
    ],
    ids=["empty-text", "too-long-text", "unknown-flag-publish", "unknown-flag-unpublish"],
)
def test_flags_publish_and_unpublish_refuse_bad_input_with_a_message(
    runner: CliRunner, world: World, store: Store, args: list[str], message: str
) -> None:
    flag_id = world.flags["INITECH-unpublished"]

    result = runner.invoke(app, [a.replace("{flag}", str(flag_id)) for a in args])

    assert result.exit_code == 1
    assert message in result.stderr
    with reading(store.sessions) as session:
        assert get_flag(session, flag_id=flag_id).published is False


def test_flags_list_filters_by_published_and_shows_the_client_text(runner: CliRunner, world: World) -> None:
    unpublished = {v for k, v in world.flags.items() if k.endswith("-unpublished")}

    internal = _json(runner, "flags", "list", "--unpublished")
    shown = _json(runner, "flags", "list", "--published")

    assert {r["id"] for r in internal} == unpublished
    assert {r["id"] for r in shown} == set(world.flags.values()) - unpublished
    [acme] = [r for r in shown if r["id"] == world.flags["ACME-item"]]
    assert acme["client_text"] == "Risk on ACME (item)"
