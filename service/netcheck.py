"""Refusing URLs that would turn pmbridge into a proxy onto its own network (SSRF): one outbound
policy for every connection pmbridge makes.

A URL must be https, carry no credentials or fragment, and name a host whose every address is
public: no private, loopback, link-local (cloud metadata at 169.254.169.254), multicast, reserved or
unspecified address. It is checked when it is given (a source's base URL, a subscription's URL) and
again at every connection: the clients of a source (connection test, sync, deliveries, push-back,
webhook registration) send through `GuardedTransport`, which resolves the host once and connects to
the address it checked, and subscriptions pin their address the same way. The operator may allow
private addresses and plain http (`PMBRIDGE_ALLOW_PRIVATE_SOURCE_URLS`, or `--allow-private` when
adding a source on the CLI, which the source then records) for the local sandbox or an on-premises
server. Outgoing requests never follow redirects, so an allowed host cannot bounce a request
elsewhere.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import httpx
from pydantic import TypeAdapter, ValidationError

from connectors.http import PermanentError
from connectors.http.session import shared_tls_context
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


# The opt-in, as the process's settings read it: a source may also carry it (`ALLOW_PRIVATE_SETTING`
# in its settings), recorded when the operator added it with the opt-in on.
ALLOW_PRIVATE_ENV = "PMBRIDGE_ALLOW_PRIVATE_SOURCE_URLS"
ALLOW_PRIVATE_SETTING = "allow_private"
_BOOL = TypeAdapter(bool)


def process_allows_private() -> bool:
    """Whether this process was started with the opt-in (`PMBRIDGE_ALLOW_PRIVATE_SOURCE_URLS`)."""
    try:
        return _BOOL.validate_python(os.environ.get(ALLOW_PRIVATE_ENV, "false"))
    except ValidationError:
        return False


def needs_private_opt_in(url: str, *, resolver: Resolver | None = resolve_host) -> bool:
    """Whether a source at this URL can only be reached with the opt-in (plain http, or a private,
    loopback or link-local address): the source then records that it was added with it."""
    try:
        check_source_url(url, allow_private=False, resolver=resolver)
    except InvalidInputError:
        return True
    return False


class OutboundRefused(PermanentError):
    """A connection the outbound policy refuses; retrying would be refused the same way."""


def pinned_address(url: httpx.URL, *, resolver: Resolver) -> str:
    """The public address to connect to for `url`: https only, every address of its host public."""
    if url.scheme != "https":
        raise OutboundRefused(f"refused {url.scheme}:// to {url.host}: only https is allowed")
    host = url.host
    if host in _FORBIDDEN_NAMES or host.endswith(".localhost"):
        raise OutboundRefused(f"refused a connection to {host}: this machine or a metadata service")
    try:
        addresses: Sequence[str] = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolver(host, url.port or 443)
        except (OSError, UnicodeError) as exc:
            raise OutboundRefused(f"refused a connection to {host}: it does not resolve") from exc
    if not addresses or not all(is_public_address(address) for address in addresses):
        raise OutboundRefused(
            f"refused a connection to {host}: it resolves to a private, loopback or link-local address"
        )
    return addresses[0].split("%", 1)[0]


class GuardedTransport(httpx.BaseTransport):
    """Sends each request to the address the policy checked, resolved once for that connection: the
    URL's host is replaced by it, the Host header and the TLS name stay the host's, so a DNS answer
    that changes between the check and the connection (rebinding) cannot reach a private address.
    With `allow_private`, requests go out unchanged (the local sandbox, an on-premises server)."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = resolve_host,
        inner: httpx.BaseTransport | None = None,
    ) -> None:
        self.allow_private = allow_private
        self._resolver = resolver
        self._inner = inner or httpx.HTTPTransport(verify=shared_tls_context())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.allow_private:
            host = request.url.host
            address = pinned_address(request.url, resolver=self._resolver)
            request.url = request.url.copy_with(host=address)
            request.extensions = {**request.extensions, "sni_hostname": host}
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
