"""`GET /admin/feedback` (filters, paging, what each rating refers to) and `POST
/admin/feedback/{id}/handled` (a round trip, idempotent), over the seeded agency."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.api import OUT_OF_RANGE_ID_NAMES, OUT_OF_RANGE_IDS, World, bearer, store_of
from tests.support.feedback import seed_feedback


@pytest.fixture
def feedback(api: TestClient, world: World) -> dict[str, int]:
    return seed_feedback(store_of(api), world)


def _admin(world: World) -> dict[str, str]:
    return bearer(world.admin_token)


def _ids(api: TestClient, world: World, **params: object) -> list[int]:
    answer = api.get("/admin/feedback", params=params, headers=_admin(world))
    assert answer.status_code == 200, answer.text
    return [row["id"] for row in answer.json()]


def test_feedback_lists_every_rating_newest_first_with_what_it_refers_to(
    api: TestClient, world: World, feedback: dict[str, int]
) -> None:
    rows = api.get("/admin/feedback", headers=_admin(world)).json()

    assert [r["id"] for r in rows] == sorted(
        (feedback[k] for k in ("acme-milestone", "acme-event", "globex-milestone", "globex-period")),
        reverse=True,
    )
    by_id = {r["id"]: r for r in rows}
    on_milestone = by_id[feedback["acme-milestone"]]
    assert on_milestone["client"] == {"id": world.clients["acme"], "name": "acme"}
    assert (on_milestone["rating"], on_milestone["comment"], on_milestone["handled"]) == (
        2,
        "said acme-milestone",
        False,
    )
    assert on_milestone["milestone"] == {
        "id": world.milestones["ACME"],
        "name": "ACME 1.0",
        "project_key": "ACME",
    }
    event = by_id[feedback["acme-event"]]["event"]
    assert {k: event[k] for k in ("id", "kind", "summary", "item_key", "item_title", "project_key")} == {
        "id": feedback["event"],
        "kind": "item_done",
        "summary": "ACME-1 is done",
        "item_key": "ACME-1",
        "item_title": "Title of ACME-1",
        "project_key": "ACME",
    }
    period = by_id[feedback["globex-period"]]
    assert (period["period_start"], period["period_end"], period["milestone"], period["event"]) == (
        "2026-08-25",
        "2026-08-31",
        None,
        None,
    )


def test_feedback_filters_by_client_project_milestone_and_handled(
    api: TestClient, world: World, feedback: dict[str, int]
) -> None:
    api.post(f"/admin/feedback/{feedback['acme-event']}/handled", headers=_admin(world))

    assert set(_ids(api, world, client="globex")) == {feedback["globex-milestone"], feedback["globex-period"]}
    assert set(_ids(api, world, project="ACME")) == {feedback["acme-milestone"], feedback["acme-event"]}
    assert _ids(api, world, project="SHARED") == [feedback["globex-milestone"]]
    assert _ids(api, world, project="INITECH") == []
    assert _ids(api, world, milestone=world.milestones["ACME"]) == [feedback["acme-milestone"]]
    assert _ids(api, world, handled="true") == [feedback["acme-event"]]
    assert _ids(api, world, client="acme", handled="false") == [feedback["acme-milestone"]]


def test_feedback_pages_by_the_last_id_of_the_previous_page(
    api: TestClient, world: World, feedback: dict[str, int]
) -> None:
    everything = _ids(api, world)

    first = _ids(api, world, limit=3)
    second = _ids(api, world, limit=3, after=first[-1])

    assert first + second == everything and len(second) == 1


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"client": "nobody"}, 404),
        ({"project": "NOPE"}, 404),
        ({"milestone": 999999}, 404),
        ({"handled": "maybe"}, 422),
        ({"limit": 0}, 422),
    ],
    ids=["unknown-client", "unknown-project", "unknown-milestone", "bad-handled", "bad-limit"],
)
def test_feedback_bad_filter_is_refused(
    api: TestClient, world: World, feedback: dict[str, int], params: dict[str, object], status: int
) -> None:
    answer = api.get("/admin/feedback", params=params, headers=_admin(world))

    assert answer.status_code == status
    assert answer.json()["error"]["code"] == ("not_found" if status == 404 else "validation_failed")


def test_feedback_handled_round_trip_is_idempotent(
    api: TestClient, world: World, feedback: dict[str, int]
) -> None:
    url = f"/admin/feedback/{feedback['globex-period']}/handled"

    marked = api.post(url, headers=_admin(world))
    again = api.post(url, json={"handled": True}, headers=_admin(world))
    undone = api.post(url, json={"handled": False}, headers=_admin(world))

    assert marked.status_code == 200, marked.text
    assert marked.json()["handled"] is True
    assert marked.json()["handled_by"].startswith("token:")
    assert marked.json()["handled_at"] is not None
    assert again.json() == marked.json()
    assert (undone.json()["handled"], undone.json()["handled_at"], undone.json()["handled_by"]) == (
        False,
        None,
        None,
    )
    assert feedback["globex-period"] in _ids(api, world, handled="false")


def test_feedback_handled_unknown_feedback_answers_404(api: TestClient, world: World) -> None:
    answer = api.post("/admin/feedback/999999/handled", headers=_admin(world))

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("bad_id", OUT_OF_RANGE_IDS, ids=OUT_OF_RANGE_ID_NAMES)
def test_feedback_handled_out_of_range_id_answers_422(api: TestClient, world: World, bad_id: str) -> None:
    assert api.post(f"/admin/feedback/{bad_id}/handled", headers=_admin(world)).status_code == 422


def test_feedback_handled_refuses_an_unknown_field(
    api: TestClient, world: World, feedback: dict[str, int]
) -> None:
    url = f"/admin/feedback/{feedback['globex-period']}/handled"

    answer = api.post(url, json={"handled": True, "by": "someone"}, headers=_admin(world))

    assert answer.status_code == 422
    assert _ids(api, world, handled="true") == []


def test_feedback_needs_an_admin_token(api: TestClient, world: World, feedback: dict[str, int]) -> None:
    assert api.get("/admin/feedback", headers=bearer(world.tokens["acme"])).status_code in (401, 403)
