from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from connectors.trello import TrelloAuth, TrelloAuthForm, TrelloClient, TrelloCredentials


def test_client_header_form_sends_oauth_header_and_no_query_credentials(
    client: TrelloClient, router: respx.Router
) -> None:
    route = router.get("/1/members/me").mock(
        return_value=httpx.Response(200, json={"id": "5c0ffee00000000000000001"})
    )

    client.get_member()

    request = route.calls.last.request
    key, token = client.credentials.api_key, client.credentials.token
    assert request.headers["Authorization"] == f'OAuth oauth_consumer_key="{key}", oauth_token="{token}"'
    assert "key" not in request.url.params
    assert "token" not in request.url.params


def test_client_query_form_sends_key_and_token_params_and_no_header(
    make_client: Callable[..., TrelloClient], router: respx.Router
) -> None:
    client: TrelloClient = make_client(auth_form=TrelloAuthForm.QUERY)
    route = router.get("/1/members/me").mock(
        return_value=httpx.Response(200, json={"id": "5c0ffee00000000000000001"})
    )

    client.get_member()

    request = route.calls.last.request
    assert request.url.params["key"] == client.credentials.api_key
    assert request.url.params["token"] == client.credentials.token
    assert request.url.params["fields"] == "username,fullName,initials,avatarUrl"
    assert "Authorization" not in request.headers


@pytest.mark.parametrize(
    "value",
    [
        TrelloCredentials(api_key="k" * 32, token="t" * 64),
        TrelloAuth(TrelloCredentials(api_key="k" * 32, token="t" * 64)),
    ],
    ids=["credentials", "auth"],
)
def test_repr_with_credentials_hides_them(value: object) -> None:
    assert "k" * 32 not in repr(value)
    assert "t" * 64 not in repr(value)


@pytest.mark.parametrize(("key", "token"), [("", "t"), ("k", "")], ids=["no-key", "no-token"])
def test_credentials_when_part_missing_raise(key: str, token: str) -> None:
    with pytest.raises(ValueError, match="both required"):
        TrelloCredentials(api_key=key, token=token)


def test_credentials_fingerprints_are_stable_and_not_the_secret() -> None:
    credentials = TrelloCredentials(api_key="k" * 32, token="t" * 64)

    assert credentials.key_fingerprint == TrelloCredentials(api_key="k" * 32, token="x").key_fingerprint
    assert credentials.key_fingerprint not in "k" * 32
    assert credentials.token_fingerprint != credentials.key_fingerprint
