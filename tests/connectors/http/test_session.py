from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest
import respx

from connectors.http import (
    AuthError,
    BearerAuth,
    HttpSession,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryPolicy,
    TransientError,
    build_http_client,
)

if TYPE_CHECKING:
    from tests.support.fakes import FakeClock

MakeSession = Callable[..., HttpSession]
ISSUE_ROUTE = "/rest/api/3/issue/{issue}"
OK = httpx.Response(200, json={"ok": True})


def test_session_request_sends_timeout_on_every_call(router: respx.Router, make_session: MakeSession) -> None:
    route = router.get("/rest/api/3/myself").mock(return_value=OK)
    timeout = httpx.Timeout(4.0, connect=2.0)

    make_session(timeout=timeout).request("GET", "/rest/api/3/myself")

    assert route.calls.last.request.extensions["timeout"] == timeout.as_dict()


def test_session_response_is_freed_with_its_last_reference(make_session: MakeSession) -> None:
    # A transport that keeps no record of what it served (respx's router keeps every response).
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"key": "A-1"}))
    session = make_session(client=build_http_client(transport=transport))
    response = session.request("GET", "/rest/api/3/issue/{key}", path={"key": "A-1"})
    assert response.json() == {"key": "A-1"}
    gone = weakref.ref(response)
    gc.disable()
    try:
        del response
        # No reference cycle keeps it (and its body) until a garbage collection.
        assert gone() is None
    finally:
        gc.enable()


def test_session_request_quotes_path_parameters(router: respx.Router, make_session: MakeSession) -> None:
    route = router.get("/rest/api/3/issue/ED%2F1").mock(return_value=OK)

    make_session().request("GET", ISSUE_ROUTE, path={"issue": "ED/1"})

    assert route.called


def test_session_request_keeps_base_url_path_prefix(router: respx.Router, make_session: MakeSession) -> None:
    route = router.get("https://api.atlassian.com/ex/jira/c1/rest/api/3/myself").mock(return_value=OK)

    make_session(base_url="https://api.atlassian.com/ex/jira/c1/").request("GET", "/rest/api/3/myself")

    assert route.called


def test_session_429_with_retry_after_waits_then_succeeds(
    router: respx.Router, make_session: MakeSession, clock: FakeClock
) -> None:
    router.get("/x").mock(side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), OK])

    response = make_session().request("GET", "/x")

    assert response.status_code == 200
    assert sum(clock.sleeps) == 7.0


def test_session_429_with_rate_limit_reset_waits_until_reset(
    router: respx.Router, make_session: MakeSession, clock: FakeClock
) -> None:
    # conftest's wall clock is 2026-03-02T12:00Z; Jira's reset header has minute precision.
    limited = httpx.Response(429, headers={"X-RateLimit-Reset": "2026-03-02T12:01Z"})
    router.get("/x").mock(side_effect=[limited, OK])

    make_session().request("GET", "/x")

    assert sum(clock.sleeps) == 60.0


def test_session_429_retry_after_beyond_cap_raises_rate_limited_with_wait(
    router: respx.Router, make_session: MakeSession, clock: FakeClock
) -> None:
    route = router.get("/x").mock(
        return_value=httpx.Response(
            429, headers={"Retry-After": "3600", "RateLimit-Reason": "jira-quota-based"}
        )
    )
    retry = RetryPolicy(max_retry_after=120.0, sleep=clock.sleep)

    with pytest.raises(RateLimitedError) as caught:
        make_session(retry=retry).request("GET", "/x")

    assert route.call_count == 1
    assert caught.value.retry_after == 3600.0
    assert caught.value.reason == "jira-quota-based"


@pytest.mark.parametrize(
    "status", [500, 502, 503, 504, 408], ids=["500", "502", "503", "504", "408-request-timeout"]
)
def test_session_transient_status_is_retried(
    router: respx.Router, make_session: MakeSession, status: int
) -> None:
    route = router.get("/x").mock(side_effect=[httpx.Response(status), OK])

    assert make_session().request("GET", "/x").status_code == 200
    assert route.call_count == 2


def test_session_503_with_retry_after_honours_it(
    router: respx.Router, make_session: MakeSession, clock: FakeClock
) -> None:
    router.get("/x").mock(side_effect=[httpx.Response(503, headers={"Retry-After": "4"}), OK])

    make_session().request("GET", "/x")

    assert sum(clock.sleeps) == 4.0


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow connect"),
        httpx.ReadTimeout("slow read"),
        httpx.RemoteProtocolError("peer closed"),
        httpx.ReadError("reset"),
    ],
    ids=["connect-error", "connect-timeout", "read-timeout", "remote-protocol", "read-error"],
)
def test_session_transport_error_is_retried(
    router: respx.Router, make_session: MakeSession, exc: httpx.HTTPError
) -> None:
    route = router.get("/x").mock(side_effect=[exc, OK])

    assert make_session().request("GET", "/x").status_code == 200
    assert route.call_count == 2


def test_session_persistent_timeout_raises_transient_from_httpx(
    router: respx.Router, make_session: MakeSession
) -> None:
    route = router.get("/x").mock(side_effect=httpx.ReadTimeout("slow read"))

    with pytest.raises(TransientError) as caught:
        make_session().request("GET", "/x")

    assert route.call_count == 4
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, PermanentError),
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (409, PermanentError),
        (410, PermanentError),
        (413, PermanentError),
    ],
    ids=["400", "401", "403", "404", "409", "410-removed-api", "413-per-issue-limit"],
)
def test_session_client_error_is_not_retried(
    router: respx.Router, make_session: MakeSession, status: int, error_type: type[Exception]
) -> None:
    route = router.get("/x").mock(return_value=httpx.Response(status))

    with pytest.raises(error_type) as caught:
        make_session().request("GET", "/x")

    assert route.call_count == 1
    assert not isinstance(caught.value, TransientError)


def test_session_error_carries_jira_error_messages(router: respx.Router, make_session: MakeSession) -> None:
    body = {"errorMessages": ["Unbounded JQL queries are not allowed here."], "errors": {"jql": "bad"}}
    router.get("/x").mock(return_value=httpx.Response(400, json=body))

    with pytest.raises(PermanentError) as caught:
        make_session().request("GET", "/x")

    assert caught.value.provider_messages == ("Unbounded JQL queries are not allowed here.", "jql: bad")
    assert caught.value.endpoint == "GET /x"


def test_session_error_message_never_contains_credentials(
    router: respx.Router, make_session: MakeSession
) -> None:
    token = "s3cr3t-token-value"
    router.get("/x").mock(
        return_value=httpx.Response(401, json={"errorMessages": [f"token {token} rejected"]})
    )

    with pytest.raises(AuthError) as caught:
        make_session(auth=BearerAuth(token), secrets=[token]).request("GET", "/x", params={"q": token})

    assert token not in str(caught.value)
    assert token not in repr(caught.value.args)


def test_session_post_not_retried_after_server_error_when_not_idempotent(
    router: respx.Router, make_session: MakeSession
) -> None:
    route = router.post("/comment").mock(side_effect=[httpx.Response(500), OK])

    with pytest.raises(TransientError):
        make_session().request("POST", "/comment", json={"body": "x"})

    assert route.call_count == 1


def test_session_post_retried_after_429_even_when_not_idempotent(
    router: respx.Router, make_session: MakeSession
) -> None:
    route = router.post("/comment").mock(side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), OK])

    make_session().request("POST", "/comment", json={"body": "x"})

    assert route.call_count == 2


def test_session_post_marked_idempotent_is_retried_after_server_error(
    router: respx.Router, make_session: MakeSession
) -> None:
    route = router.post("/search").mock(side_effect=[httpx.Response(502), OK])

    make_session().request("POST", "/search", json={"jql": "project = A"}, idempotent=True)

    assert route.call_count == 2


def test_session_follows_same_origin_redirect(router: respx.Router, make_session: MakeSession) -> None:
    router.get("/old").mock(return_value=httpx.Response(301, headers={"Location": "/new"}))
    target = router.get("/new").mock(return_value=OK)

    assert make_session().request("GET", "/old").status_code == 200
    assert target.called


def test_session_refuses_redirect_to_another_host(router: respx.Router, make_session: MakeSession) -> None:
    router.get("/old").mock(
        return_value=httpx.Response(302, headers={"Location": "https://evil.example/steal"})
    )
    elsewhere = router.get("https://evil.example/steal").mock(return_value=OK)

    with pytest.raises(PermanentError, match="another origin"):
        make_session().request("GET", "/old")

    assert not elsewhere.called


def test_session_accounting_records_route_templates_and_statuses(
    router: respx.Router, make_session: MakeSession
) -> None:
    router.get("/rest/api/3/issue/ED-1").mock(side_effect=[httpx.Response(503), OK])
    router.get("/rest/api/3/issue/ED-2").mock(side_effect=httpx.ConnectError("down"))
    session = make_session(retry=RetryPolicy.without_waiting(max_attempts=2))

    session.request("GET", ISSUE_ROUTE, path={"issue": "ED-1"})
    with pytest.raises(TransientError):
        session.request("GET", ISSUE_ROUTE, path={"issue": "ED-2"})

    assert session.accounting.snapshot()["by_endpoint"] == {
        "GET /rest/api/3/issue/{issue}": {"200": 1, "503": 1, "error": 2}
    }


def test_session_write_key_paces_writes_per_entity(
    router: respx.Router, make_session: MakeSession, clock: FakeClock
) -> None:
    router.put("/prop").mock(return_value=httpx.Response(200))
    session = make_session()

    for _ in range(21):
        session.request("PUT", "/prop", json={"v": 1}, write_key="ED-1")

    assert clock.sleeps == [2.0]


def test_session_near_limit_response_slows_next_call(
    router: respx.Router, make_session: MakeSession, clock: FakeClock
) -> None:
    router.get("/x").mock(return_value=httpx.Response(200, headers={"X-RateLimit-NearLimit": "true"}))
    session = make_session()

    session.request("GET", "/x")
    session.request("GET", "/x")

    assert clock.sleeps == [1.0]


def test_session_params_drop_none_and_encode_bools(router: respx.Router, make_session: MakeSession) -> None:
    route = router.get("/x").mock(return_value=OK)

    make_session().request("GET", "/x", params={"a": None, "b": True, "c": ["1", "2"], "d": 5})

    assert route.calls.last.request.url.query == b"b=true&c=1&c=2&d=5"


def test_bearer_auth_repr_hides_token() -> None:
    assert "abc123" not in repr(BearerAuth("abc123"))


def test_session_invalid_base_url_raises_permanent_error(make_session: MakeSession) -> None:
    with pytest.raises(PermanentError, match="invalid base URL"):
        make_session(base_url="https://acme.atlassian.net:notaport")
