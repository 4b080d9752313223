"""Refusing URLs that would turn pmbridge into a proxy onto its own network (SSRF).

Used for source base URLs and event subscription URLs. A URL must be https, carry no credentials
or fragment, and name a host whose every address is public: no private, loopback, link-local
(cloud metadata at 169.254.169.254), multicast, reserved or unspecified address. The operator may
allow private addresses and plain http (`PMBRIDGE_ALLOW_PRIVATE_SOURCE_URLS`) for the local sandbox
or an on-premises server. Outgoing requests never follow redirects, so an allowed host cannot
bounce a request elsewhere.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from service.errors import InvalidInputError

Resolver = Callable[[str, int], Sequence[str]]

_FORBIDDEN_NAMES = ("localhost", "metadata.google.internal", "metadata")


def resolve_host(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_public_url(
    url: str,
    *,
    allow_private: bool,
    field: str,
    noun: str = "URL",
    resolver: Resolver | None = None,
    must_resolve: bool = False,
    allow_query: bool = False,
) -> str:
    """The URL, stripped of surrounding blanks, or InvalidInputError (naming `field`) saying why it
    is refused.

    With a `resolver`, the host's addresses are checked too; a host that does not resolve is
    accepted unless `must_resolve` (the caller checks it again before every connection).
    """

    def refuse(message: str) -> InvalidInputError:
        return InvalidInputError(f"the {noun} {message}", details={"field": field, field: url[:200]})

    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise refuse("cannot be parsed") from exc
    schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in schemes:
        raise refuse("must use https")
    if parts.username is not None or parts.password is not None:
        raise refuse("must not carry credentials")
    if parts.fragment or (parts.query and not allow_query):
        raise refuse("takes no query or fragment" if not allow_query else "takes no fragment")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise refuse("has no host")
    if allow_private:
        return url.strip()
    if host in _FORBIDDEN_NAMES or host.endswith(".localhost"):
        raise refuse("points at this machine or a metadata service")
    try:
        literal: str | None = str(ipaddress.ip_address(host))
    except ValueError:
        literal = None
    addresses: Sequence[str] = [literal] if literal is not None else ()
    if literal is None and resolver is not None:
        try:
            addresses = resolver(host, port or 443)
        except (OSError, UnicodeError) as exc:
            if must_resolve:
                raise refuse(f"host {host} does not resolve") from exc
    if any(not is_public_address(address) for address in addresses):
        raise refuse("resolves to a private, loopback or link-local address")
    return url.strip()


def check_source_url(
    url: str, *, allow_private: bool, resolver: Resolver | None = None, must_resolve: bool = False
) -> str:
    """A source base URL without a trailing slash, or InvalidInputError saying why it is refused."""
    checked = check_public_url(
        url,
        allow_private=allow_private,
        field="base_url",
        noun="base URL",
        resolver=resolver,
        must_resolve=must_resolve,
    )
    return checked.rstrip("/")
