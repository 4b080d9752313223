from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from connectors.http import (
    AuthError,
    CallAccounting,
    ConnectorError,
    InvalidResponseError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from connectors.trello import TrelloAuthForm, TrelloClient

ME = {"id": "5c0ffee00000000000000001", "username": "dana"}
ClientFactory = Callable[..., TrelloClient]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(504),
        httpx.Response(408),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("reset"),
    ],
    ids=["500", "502", "503", "504", "408", "connect-error", "read-timeout", "protocol-error"],
)
def test_get_transient_failure_is_retried_then_succeeds(
    client: TrelloClient, router: respx.Router, failure: httpx.Response | Exception
) -> None:
    route = router.get("/1/members/me").mock(side_effect=[failure, httpx.Response(200, json=ME)])

    assert client.get_member().username == "dana"
    assert route.call_count == 2


def test_get_transient_failure_every_time_raises_after_max_attempts(
    client: TrelloClient, router: respx.Router
) -> None:
    route = router.get("/1/members/me").mock(return_value=httpx.Response(503))

    with pytest.raises(TransientError):
        client.get_member()

    assert route.call_count == 3


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(401, text="invalid token", headers={"content-type": "text/plain"}), AuthError),
        (httpx.Response(403, text="unauthorized permission requested"), AuthError),
        (httpx.Response(404, text="The requested resource was not found."), NotFoundError),
        (httpx.Response(400, text="invalid id", headers={"content-type": "text/plain"}), PermanentError),
        (httpx.Response(200, json={"username": "no id"}), InvalidResponseError),
    ],
    ids=["401", "403", "404", "400", "bad-shape"],
)
def test_get_permanent_failure_raises_without_retry(
    client: TrelloClient, router: respx.Router, response: httpx.Response, error: type[ConnectorError]
) -> None:
    route = router.get("/1/members/me").mock(return_value=response)

    with pytest.raises(error):
        client.get_member()

    assert route.call_count == 1


def test_plain_text_error_body_reaches_the_message(client: TrelloClient, router: respx.Router) -> None:
    router.get("/1/boards/nope").mock(
        return_value=httpx.Response(
            400, text="invalid id", headers={"content-type": "text/plain; charset=utf-8"}
        )
    )

    with pytest.raises(PermanentError) as caught:
        client.get_board("nope")

    assert caught.value.provider_messages == ("invalid id",)
    assert caught.value.endpoint == "GET /1/boards/{board}"


def test_429_token_limit_waits_out_the_window_then_succeeds(
    client: TrelloClient, router: respx.Router, clock: Any
) -> None:
    refusal = httpx.Response(
        429, json={"error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}
    )
    route = router.get("/1/members/me").mock(side_effect=[refusal, httpx.Response(200, json=ME)])

    client.get_member()

    assert route.call_count == 2
    assert clock.now >= 10.0
    assert client.rate_limiter.last_refusal == "API_TOKEN_LIMIT_EXCEEDED"


def test_429_every_time_raises_rate_limited_with_provider_message(
    client: TrelloClient, router: respx.Router
) -> None:
    router.get("/1/members/me").mock(
        return_value=httpx.Response(
            429, json={"error": "API_KEY_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}
        )
    )

    with pytest.raises(RateLimitedError) as caught:
        client.get_member()

    assert caught.value.provider_messages == ("Rate limit exceeded",)


@pytest.mark.parametrize("auth_form", list(TrelloAuthForm), ids=[form.value for form in TrelloAuthForm])
def test_errors_and_accounting_never_carry_the_key_or_token(
    make_client: ClientFactory, router: respx.Router, auth_form: TrelloAuthForm
) -> None:
    accounting = CallAccounting()
    client = make_client(auth_form=auth_form, accounting=accounting)
    key, token = client.credentials.api_key, client.credentials.token
    echo = f"invalid token {token} for key {key}"
    router.get("/1/cards/c1").mock(
        return_value=httpx.Response(401, text=echo, headers={"content-type": "text/plain"})
    )
    router.get(f"/1/tokens/{token}/webhooks").mock(
        side_effect=httpx.ConnectError(f"failed GET ?token={token}")
    )

    errors: list[ConnectorError] = []
    for call in (lambda: client.get_card("c1"), client.list_webhooks):
        with pytest.raises(ConnectorError) as caught:
            call()
        errors.append(caught.value)

    rendered = " ".join(f"{error} {error!r} {error.endpoint} {error.provider_messages}" for error in errors)
    rendered += repr(accounting.snapshot())
    assert key not in rendered
    assert token not in rendered
    assert "[redacted]" in rendered
