from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx
import pytest

from connectors.http import PermanentError
from service.domain.enums import SourceKind
from service.domain.work import Source
from service.errors import InvalidInputError
from service.netcheck import (
    ALLOW_PRIVATE_ENV,
    ALLOW_PRIVATE_SETTING,
    GuardedTransport,
    OutboundRefused,
    check_source_url,
    needs_private_opt_in,
)
from service.providers.base import outbound_transport


def _resolving_to(*addresses: str) -> Callable[[str, int], Sequence[str]]:
    def resolve(_host: str, _port: int) -> Sequence[str]:
        return addresses

    return resolve


def _failing(_host: str, _port: int) -> Sequence[str]:
    raise OSError("no such host")


def test_source_url_public_host_is_accepted_without_trailing_slash() -> None:
    url = check_source_url(
        "https://acme.atlassian.net/", allow_private=False, resolver=_resolving_to("104.192.141.1")
    )

    assert url == "https://acme.atlassian.net"


@pytest.mark.parametrize(
    "address",
    ["10.0.0.8", "127.0.0.2", "169.254.169.254", "fd00:ec2::254", "::ffff:10.0.0.1", "0.0.0.0"],  # noqa: S104
    ids=["private", "loopback", "metadata", "ula", "mapped", "unspecified"],
)
def test_source_url_host_resolving_to_a_private_address_is_refused(address: str) -> None:
    with pytest.raises(InvalidInputError, match="resolves to a private"):
        check_source_url(
            "https://jira.example.com", allow_private=False, resolver=_resolving_to("8.8.8.8", address)
        )


def test_source_url_unresolvable_host_is_accepted_until_it_must_resolve() -> None:
    accepted = check_source_url("https://jira.example.com", allow_private=False, resolver=_failing)

    with pytest.raises(InvalidInputError, match="does not resolve"):
        check_source_url(accepted, allow_private=False, resolver=_failing, must_resolve=True)


def test_source_url_operator_may_allow_private_http_for_the_sandbox() -> None:
    url = check_source_url("http://127.0.0.1:8765", allow_private=True, resolver=_failing)

    assert url == "http://127.0.0.1:8765"


def test_source_url_credentials_are_refused_even_when_private_is_allowed() -> None:
    with pytest.raises(InvalidInputError, match="credentials"):
        check_source_url("http://u:p@127.0.0.1", allow_private=True)


# -- the outbound policy at every connection ------------------------------------------------------


def _capturing() -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    return seen, httpx.MockTransport(handle)


def test_guarded_transport_connects_to_the_checked_address_with_the_hosts_name() -> None:
    seen, inner = _capturing()
    guard = GuardedTransport(allow_private=False, resolver=_resolving_to("104.192.141.1"), inner=inner)

    with httpx.Client(transport=guard) as client:
        response = client.get("https://acme.atlassian.net/rest/api/3/myself")

    assert response.status_code == 200
    (sent,) = seen
    assert sent.url.host == "104.192.141.1"
    assert sent.url.path == "/rest/api/3/myself"
    assert sent.headers["host"] == "acme.atlassian.net"
    assert sent.extensions["sni_hostname"] == "acme.atlassian.net"


@pytest.mark.parametrize(
    ("url", "resolver"),
    [
        ("http://acme.atlassian.net/x", _resolving_to("104.192.141.1")),
        ("https://acme.atlassian.net/x", _resolving_to("127.0.0.1")),
        ("https://acme.atlassian.net/x", _resolving_to("104.192.141.1", "10.0.0.5")),
        ("https://rebound.example/x", _resolving_to("169.254.169.254")),
        ("https://127.0.0.1:8443/x", _resolving_to()),
        ("https://localhost/x", _resolving_to("104.192.141.1")),
        ("https://gone.example/x", _failing),
    ],
    ids=["http", "loopback", "one-private-address", "metadata", "literal-loopback", "localhost", "no-dns"],
)
def test_guarded_transport_refuses_without_the_opt_in(
    url: str, resolver: Callable[[str, int], Sequence[str]]
) -> None:
    seen, inner = _capturing()
    guard = GuardedTransport(allow_private=False, resolver=resolver, inner=inner)

    with httpx.Client(transport=guard) as client, pytest.raises(OutboundRefused):
        client.get(url)

    assert seen == []


def test_guarded_transport_with_the_opt_in_sends_unchanged() -> None:
    seen, inner = _capturing()
    guard = GuardedTransport(allow_private=True, resolver=_failing, inner=inner)

    with httpx.Client(transport=guard) as client:
        client.get("http://127.0.0.1:8080/rest/api/3/myself")

    assert str(seen[0].url) == "http://127.0.0.1:8080/rest/api/3/myself"


def test_outbound_refused_is_a_permanent_connector_error_never_retried() -> None:
    assert issubclass(OutboundRefused, PermanentError)


@pytest.mark.parametrize(
    ("settings", "allowed"), [({}, False), ({ALLOW_PRIVATE_SETTING: True}, True)], ids=["plain", "opted-in"]
)
def test_outbound_transport_follows_the_sources_recorded_opt_in(
    settings: dict[str, object], allowed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ALLOW_PRIVATE_ENV, raising=False)
    source = Source(
        id=1, kind=SourceKind.JIRA_CLOUD, name="s", base_url="http://127.0.0.1:1", settings=settings
    )

    transport = outbound_transport(source)

    assert isinstance(transport, GuardedTransport)
    assert transport.allow_private is allowed


def test_outbound_transport_follows_the_process_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "true")
    source = Source(id=1, kind=SourceKind.TRELLO, name="s", base_url="http://127.0.0.1:1")

    transport = outbound_transport(source)

    assert isinstance(transport, GuardedTransport)
    assert transport.allow_private is True


@pytest.mark.parametrize(
    ("url", "needs"),
    [("http://api.example", True), ("https://127.0.0.1:9", True), ("https://8.8.8.8", False)],
    ids=["http", "loopback", "public"],
)
def test_needs_private_opt_in(url: str, needs: bool) -> None:
    assert needs_private_opt_in(url, resolver=None) is needs
