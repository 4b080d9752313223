"""Naming work for people: Jira keys are kept, Trello card keys give way to the cards' names."""

from __future__ import annotations

import pytest

from service.domain.enums import SourceKind
from service.providers import ProviderFamily
from service.web.names import KEYS_READ_BY_PEOPLE, Naming, keys_read_by_people

BOARD = Naming(
    project_key="xlcOF8hK",
    keys_shown=False,
    titles={"xlcOF8hK-36": "Checkout page", "xlcOF8hK-7": "Go-live", "Zq9": "Logo"},
)


def test_keys_read_by_people_every_provider_family_has_an_entry() -> None:
    assert set(KEYS_READ_BY_PEOPLE) == set(ProviderFamily)


@pytest.mark.parametrize(
    ("kind", "read"),
    [(SourceKind.JIRA_CLOUD, True), (SourceKind.JIRA_DATA_CENTER, True), (SourceKind.TRELLO, False)],
    ids=["jira-cloud", "jira-data-center", "trello"],
)
def test_keys_read_by_people_jira_yes_trello_no(kind: SourceKind, read: bool) -> None:
    assert keys_read_by_people(kind) is read


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("xlcOF8hK-36 done: Checkout page", "Done: Checkout page"),
        (
            "xlcOF8hK-36: promised date moved from 2026-12-05 to 2026-12-09",
            "Checkout page: promised date moved from 2026-12-05 to 2026-12-09",
        ),
        ("xlcOF8hK-36: promise of 2026-12-04 missed", "Checkout page: promise of 2026-12-04 missed"),
        ("xlcOF8hK-36 Checkout page", "Checkout page"),
        ("xlcOF8hK-99: promise of 2026-12-04 missed", "A card: promise of 2026-12-04 missed"),
        ("A date we promised moved: xlcOF8hK-7: moved.", "A date we promised moved: Go-live: moved."),
        ("Zq9 done: Logo", "Done: Logo"),
        ("Before xlcOF8hK-7 and xlcOF8hK-36 after", "Before Go-live and Checkout page after"),
        ("xlcOF8hK-360 and axlcOF8hK-36 stay", "A card and axlcOF8hK-36 stay"),
        ("Nothing to name", "Nothing to name"),
    ],
    ids=[
        "done",
        "moved",
        "missed",
        "promise-title",
        "unknown-card",
        "mid-sentence",
        "own-shortlink",
        "two-keys",
        "whole-keys-only",
        "no-key",
    ],
)
def test_name_trello_keys_become_card_names(text: str, named: str) -> None:
    assert BOARD.name(text) == named


def test_name_title_containing_a_word_of_the_text_is_still_named() -> None:
    naming = Naming(project_key="b", keys_shown=False, titles={"b-1": "done"})

    assert naming.name("b-1: promise of 2026-12-04 met") == "done: promise of 2026-12-04 met"


def test_name_jira_keys_are_kept() -> None:
    naming = Naming(project_key="ACB", keys_shown=True, titles={"ACB-43": "Login"})

    assert naming.name("ACB-43 done: Login") == "ACB-43 done: Login"
    assert naming.shown_project_key == "ACB"


def test_shown_project_key_trello_board_shows_none() -> None:
    assert BOARD.shown_project_key == ""
