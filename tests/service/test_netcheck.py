from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from service.errors import InvalidInputError
from service.netcheck import check_source_url


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
