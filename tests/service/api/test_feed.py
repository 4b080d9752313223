"""The feed: stable cursor paging while events arrive, opaque cursors, and the Atom rendering."""

from __future__ import annotations

import base64
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from tests.support.api import (
    World,
    add_feed_event,
    bearer,
    store_of,
)


def _page(api: TestClient, token: str, after: str | None, limit: int = 2) -> dict[str, object]:
    params: dict[str, str | int] = {"limit": limit}
    if after is not None:
        params["after"] = after
    response = api.get("/v1/feed", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_feed_paging_while_events_arrive_sees_each_event_once_in_order(api: TestClient, world: World) -> None:
    token, client_id = world.tokens["globex"], world.clients["globex"]
    seen: list[int] = []
    after: str | None = None
    for n in range(8):
        page = _page(api, token, after)
        seen += [e["id"] for e in page["events"]]  # type: ignore[union-attr]
        after = page["next_cursor"]  # type: ignore[assignment]
        add_feed_event(
            store_of(api), client_id=client_id, project_id=world.projects["GLOBEX"], summary=f"late {n}"
        )
    while True:
        page = _page(api, token, after)
        if not page["events"]:
            break
        seen += [e["id"] for e in page["events"]]  # type: ignore[union-attr]
        after = page["next_cursor"]  # type: ignore[assignment]

    all_events = _page(api, token, None, limit=200)["events"]
    assert seen == [e["id"] for e in all_events]  # type: ignore[union-attr]
    assert len(seen) == len(world.events["globex"]) + 8


def test_feed_page_reread_with_the_same_cursor_is_identical(api: TestClient, world: World) -> None:
    token = world.tokens["acme"]
    first = _page(api, token, None)
    second = _page(api, token, first["next_cursor"])  # type: ignore[arg-type]

    add_feed_event(
        store_of(api), client_id=world.clients["acme"], project_id=world.projects["ACME"], summary="new"
    )
    again = _page(api, token, first["next_cursor"])  # type: ignore[arg-type]

    assert again["events"] == second["events"]


def test_feed_empty_page_keeps_the_cursor_for_polling(api: TestClient, world: World) -> None:
    token = world.tokens["initech"]
    last = _page(api, token, None, limit=200)

    empty = _page(api, token, last["next_cursor"])  # type: ignore[arg-type]

    assert empty["events"] == []
    assert empty["next_cursor"] == last["next_cursor"]
    assert empty["has_more"] is False


def test_feed_cursor_of_another_client_answers_400(api: TestClient, world: World) -> None:
    cursor = _page(api, world.tokens["acme"], None)["next_cursor"]

    response = api.get("/v1/feed", params={"after": cursor}, headers=bearer(world.tokens["globex"]))

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"parameter": "after"}


def test_feed_tampered_cursor_answers_400(api: TestClient, world: World) -> None:
    cursor = str(_page(api, world.tokens["acme"], None)["next_cursor"])
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[7] ^= 1
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()

    response = api.get("/v1/feed", params={"after": forged}, headers=bearer(world.tokens["acme"]))

    assert response.status_code == 400


@pytest.mark.parametrize("limit", [0, 201], ids=["zero", "over-cap"])
def test_feed_page_size_outside_the_cap_answers_422(api: TestClient, world: World, limit: int) -> None:
    response = api.get("/v1/feed", params={"limit": limit}, headers=bearer(world.tokens["acme"]))

    assert response.status_code == 422


def test_feed_events_carry_the_stored_payload(api: TestClient, world: World) -> None:
    event = _page(api, world.tokens["acme"], None, limit=1)["events"][0]  # type: ignore[index]

    assert event["payload"] == {"summary": event["summary"]}
    assert event["kind"] == "item_done"


def test_feed_atom_lists_the_newest_events_first(api: TestClient, world: World) -> None:
    response = api.get("/v1/feed.atom", params={"limit": 3}, headers=bearer(world.tokens["acme"]))

    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own output
    ns = {"a": "http://www.w3.org/2005/Atom"}
    ids = [entry.findtext("a:id", namespaces=ns) for entry in root.findall("a:entry", ns)]
    newest = sorted(world.events["acme"], reverse=True)[:3]
    assert ids == [f"urn:pmbridge:client:{world.clients['acme']}:feed:event:{n}" for n in newest]


def test_feed_atom_needs_a_client_token(api: TestClient, world: World) -> None:
    response = api.get("/v1/feed.atom")

    assert response.status_code == 401
