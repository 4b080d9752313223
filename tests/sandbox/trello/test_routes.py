from __future__ import annotations

import httpx
import pytest

from sandbox.trello.ratelimit import TrelloRateLimiter, TrelloRateLimits
from sandbox.trello.state import TrelloWorld


def _first_board_id(world: TrelloWorld) -> str:
    return next(iter(world.boards))


def test_routes_query_credentials_are_accepted(client: httpx.Client, auth: dict[str, str]) -> None:
    response = client.get("/1/members/me", params=auth)
    assert response.status_code == 200
    assert response.json()["username"] == "pmbridge.integration"


def test_routes_oauth_header_credentials_are_accepted(client: httpx.Client, auth: dict[str, str]) -> None:
    header = f'OAuth oauth_consumer_key="{auth["key"]}", oauth_token="{auth["token"]}"'
    response = client.get("/1/members/me/boards", headers={"Authorization": header})
    assert response.status_code == 200
    assert len(response.json()) == 2


@pytest.mark.parametrize(
    ("params", "body"),
    [
        ({"token": "x"}, "invalid key"),
        ({"key": "f" * 32, "token": "x"}, "invalid key"),
        ({"key": "KEY"}, "unauthorized permission requested"),
        ({"key": "KEY", "token": "ATTAnot-a-token"}, "invalid token"),
    ],
    ids=["missing-key", "wrong-key", "missing-token", "wrong-token"],
)
def test_routes_bad_credentials_answer_401_plain_text(
    client: httpx.Client, auth: dict[str, str], params: dict[str, str], body: str
) -> None:
    query = {k: (auth["key"] if v == "KEY" else v) for k, v in params.items()}
    response = client.get("/1/members/me", params=query)
    assert response.status_code == 401
    assert response.text == body
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "path",
    ["/1//members/me/boards", "/1/members/me/boards/", "/1/members//me//boards/"],
    ids=["doubled-after-version", "trailing", "doubled-twice-and-trailing"],
)
def test_routes_lenient_paths_reach_the_real_route(
    client: httpx.Client, auth: dict[str, str], path: str
) -> None:
    response = client.get(path, params=auth)
    assert response.status_code == 200
    assert len(response.json()) == 2


def test_routes_unknown_path_answers_express_style_404(client: httpx.Client, auth: dict[str, str]) -> None:
    response = client.get("/1/unicorns/42", params=auth)
    assert response.status_code == 404
    assert response.text == "Cannot GET /1/unicorns/42"


def test_routes_malformed_id_answers_400_invalid_id(client: httpx.Client, auth: dict[str, str]) -> None:
    response = client.get("/1/boards/Acme-Website/cards", params=auth)
    assert response.status_code == 400
    assert response.text == "invalid id"


def test_routes_unknown_id_answers_404_not_found(client: httpx.Client, auth: dict[str, str]) -> None:
    response = client.get("/1/cards/" + "a" * 24, params=auth)
    assert response.status_code == 404
    assert response.text == "The requested resource was not found."


def test_routes_every_response_carries_rate_limit_headers(client: httpx.Client, auth: dict[str, str]) -> None:
    client.get("/1/members/me/boards", params=auth)
    response = client.get("/1/members/me/boards", params=auth)
    assert response.headers["x-rate-limit-api-token-max"] == "100"
    assert response.headers["x-rate-limit-api-token-remaining"] == "98"
    assert response.headers["x-rate-limit-api-key-remaining"] == "298"


def test_routes_token_limit_answers_429_with_trello_body(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    statuses = [client.get("/1/members/me/organizations", params=auth).status_code for _ in range(101)]
    response = client.get("/1/members/me/organizations", params=auth)
    assert statuses.count(200) == 100
    assert response.status_code == 429
    assert response.json() == {"error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}


def test_routes_disabled_limiter_never_answers_429(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    world.rate_limiter.enabled = False
    statuses = {client.get("/1/members/me/organizations", params=auth).status_code for _ in range(120)}
    assert statuses == {200}


def test_routes_batch_answers_each_url_keyed_by_status(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    board_id = _first_board_id(world)
    urls = f"/boards/{board_id},/boards/{board_id}/lists,/cards/{'b' * 24}"
    response = client.get("/1/batch", params={**auth, "urls": urls})
    assert response.status_code == 200
    first, lists, missing = response.json()
    assert first["200"]["id"] == board_id
    assert [item["name"] for item in lists["200"]] == ["Backlog", "To Do", "Doing", "Review", "Done"]
    assert missing == {"404": "The requested resource was not found."}


def test_routes_batch_of_more_than_ten_urls_answers_400(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    urls = ",".join([f"/boards/{_first_board_id(world)}"] * 11)
    response = client.get("/1/batch", params={**auth, "urls": urls})
    assert response.status_code == 400
    assert response.text == "invalid value for urls"


def test_routes_batch_counts_each_url_when_so_tuned(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    world.rate_limiter = TrelloRateLimiter(TrelloRateLimits(count_batch_urls=True))
    board_id = _first_board_id(world)
    response = client.get("/1/batch", params={**auth, "urls": f"/boards/{board_id},/boards/{board_id}/lists"})
    assert response.headers["x-rate-limit-api-token-remaining"] == "98"


def test_routes_members_route_limit_answers_member_limit_exceeded(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    world.rate_limiter = TrelloRateLimiter(TrelloRateLimits(member_max=1))
    client.get("/1/members/me", params=auth)
    nested = client.get("/1/members/me/boards", params=auth)
    response = client.get("/1/members/me", params=auth)
    assert nested.status_code == 200
    assert response.json() == {"error": "MEMBER_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}
