from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import respx

from connectors.http import InvalidResponseError
from connectors.trello import TrelloClient, TrelloRateLimiter

ApiFixture = Callable[[str], Any]


def _card(api_fixture: ApiFixture, card_id: str) -> dict[str, Any]:
    return {**api_fixture("card_full"), "id": card_id}


def test_get_cards_sends_ten_routes_per_batch_without_version_prefix(
    client: TrelloClient, router: respx.Router, api_fixture: ApiFixture, make_id: Callable[..., str]
) -> None:
    ids = [make_id(1000, n) for n in range(12)]

    def answer(request: httpx.Request) -> httpx.Response:
        urls = request.url.params["urls"].split(",")
        return httpx.Response(
            200, json=[{"200": _card(api_fixture, urlsplit(u).path.split("/")[2])} for u in urls]
        )

    route = router.get("/1/batch").mock(side_effect=answer)

    results = client.get_cards(ids)

    sent = [call.request.url.params["urls"].split(",") for call in route.calls]
    assert [len(urls) for urls in sent] == [10, 2]
    first = urlsplit(sent[0][0])
    assert first.path == f"/cards/{ids[0]}"
    assert dict(parse_qsl(first.query))["customFieldItems"] == "true"
    assert [result.value.id for result in results if result.value is not None] == ids


def test_get_cards_failed_slot_keeps_status_and_others_succeed(
    client: TrelloClient, router: respx.Router, api_fixture: ApiFixture
) -> None:
    router.get("/1/batch").mock(
        return_value=httpx.Response(
            200,
            json=[
                {"200": _card(api_fixture, "65a7d0aa1f2e3d4c5b6a7980")},
                {"404": "The requested resource was not found."},
            ],
        )
    )

    ok, missing = client.get_cards(["65a7d0aa1f2e3d4c5b6a7980", "65a7d0aa1f2e3d4c5b6a7981"])

    assert ok.ok and ok.value is not None and ok.value.name == "Launch landing page"
    assert (missing.ok, missing.status_code, missing.value) == (False, 404, None)
    assert missing.message == "The requested resource was not found."


def test_get_boards_escapes_commas_inside_a_route_query(
    client: TrelloClient, router: respx.Router, api_fixture: ApiFixture
) -> None:
    route = router.get("/1/batch").mock(
        return_value=httpx.Response(200, json=[{"200": api_fixture("board_full")}])
    )

    (result,) = client.get_boards(["60a1b2c3d4e5f60718293a4b"])

    (url,) = route.calls.last.request.url.params["urls"].split(",")
    assert "%2C" in url
    assert dict(parse_qsl(urlsplit(url).query))["fields"].startswith("name,desc,")
    assert result.value is not None and len(result.value.lists) == 3


@pytest.mark.parametrize(
    "body",
    [[{"200": {"id": "x"}}], [{"200": {"id": "x"}}, {"ok": True}], {"200": {}}],
    ids=["fewer-results", "unkeyed-element", "not-an-array"],
)
def test_get_cards_unexpected_batch_answer_raises_invalid_response(
    client: TrelloClient, router: respx.Router, body: Any
) -> None:
    router.get("/1/batch").mock(return_value=httpx.Response(200, json=body))

    with pytest.raises(InvalidResponseError):
        client.get_cards(["65a7d0aa1f2e3d4c5b6a7980", "65a7d0aa1f2e3d4c5b6a7981"])


def test_get_cards_error_object_with_status_code_is_a_failed_slot(
    client: TrelloClient, router: respx.Router
) -> None:
    router.get("/1/batch").mock(
        return_value=httpx.Response(200, json=[{"name": "x", "message": "invalid id", "statusCode": 400}])
    )

    (result,) = client.get_cards(["nope"])

    assert (result.status_code, result.message) == (400, "invalid id")


def test_get_cards_charges_each_route_against_the_limiter(
    make_client: Callable[..., TrelloClient],
    router: respx.Router,
    api_fixture: ApiFixture,
    make_id: Callable[..., str],
) -> None:
    small = TrelloRateLimiter(token_limit=10, key_limit=30, clock=lambda: 0.0, sleep=_refuse_to_sleep)
    client = make_client(shared=small)
    router.get("/1/batch").mock(
        side_effect=lambda request: httpx.Response(
            200,
            json=[
                {"200": _card(api_fixture, make_id(1, n))}
                for n in range(len(request.url.params["urls"].split(",")))
            ],
        )
    )

    client.get_cards([make_id(1, n) for n in range(10)])

    with pytest.raises(_WouldSleep):
        client.get_card("65a7d0aa1f2e3d4c5b6a7980")


class _WouldSleep(Exception):
    pass


def _refuse_to_sleep(_seconds: float) -> None:
    raise _WouldSleep
