"""Refusing source base URLs that would turn pmbridge into a proxy onto its own network (SSRF).

A base URL must be https, carry no credentials, query or fragment, and name a host whose every
address is public: no private, loopback, link-local (cloud metadata at 169.254.169.254), multicast,
reserved or unspecified address. The operator may allow private addresses and plain http
(`PMBRIDGE_ALLOW_PRIVATE_SOURCE_URLS`) for the local sandbox or an on-premises server. The
connectors never follow redirects, so an allowed host cannot bounce a request elsewhere.
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


def _is_public(address: str) -> bool:
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


def _refuse(message: str, url: str) -> InvalidInputError:
    return InvalidInputError(message, details={"field": "base_url", "base_url": url[:200]})


def check_source_url(
    url: str, *, allow_private: bool, resolver: Resolver | None = None, must_resolve: bool = False
) -> str:
    """The URL without a trailing slash, or InvalidInputError saying why it is refused.

    With a `resolver`, the host's addresses are checked too; a host that does not resolve is
    accepted unless `must_resolve` (it is checked again before every connection test).
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise _refuse("the base URL cannot be parsed", url) from exc
    schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in schemes:
        raise _refuse("the base URL must use https", url)
    if parts.username is not None or parts.password is not None:
        raise _refuse("the base URL must not carry credentials", url)
    if parts.query or parts.fragment:
        raise _refuse("the base URL takes no query or fragment", url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise _refuse("the base URL has no host", url)
    if allow_private:
        return url.strip().rstrip("/")
    if host in _FORBIDDEN_NAMES or host.endswith(".localhost"):
        raise _refuse("the base URL points at this machine or a metadata service", url)
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
                raise _refuse(f"the host {host} does not resolve", url) from exc
    if any(not _is_public(address) for address in addresses):
        raise _refuse("the base URL resolves to a private, loopback or link-local address", url)
    return url.strip().rstrip("/")
