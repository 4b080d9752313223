"""The HTTP session every provider client sends through: timeouts, retries, pacing, accounting."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Generator, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
from pydantic import JsonValue

from connectors.http.accounting import CallAccounting
from connectors.http.errors import PermanentError
from connectors.http.headers import RateLimitHeaders
from connectors.http.ratelimit import RateLimiter
from connectors.http.retry import RetryPolicy
from connectors.http.translate import error_from_response, error_from_transport

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "pmbridge"
ParamValue = str | int | float | bool | Sequence[str]
Params = Mapping[str, ParamValue | None]
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_REDACTED = "[redacted]"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <token>`; the token never appears in `repr`."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one loads the CA bundle (~70 ms here), which
    a client per sync, per webhook delivery or per push would otherwise pay every time.

    It trusts what httpx's own default trusts: `SSL_CERT_FILE` or `SSL_CERT_DIR` when set (an
    on-premises Data Center behind an internal CA), else certifi's bundle. Read once, at first use.
    """
    return httpx.create_ssl_context(verify=True, trust_env=True)


def build_http_client(
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
) -> httpx.Client:
    """A client that never follows redirects on its own (`HttpSession` follows same-origin ones)."""
    merged = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    merged.update(headers or {})
    return httpx.Client(
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        headers=merged,
        verify=shared_tls_context(),
    )


class HttpSession:
    """Sends one logical call: pacing, the request with a timeout, accounting, translation, retries.

    `auth` is applied per request so one pooled `httpx.Client` may serve several sources.
    `secrets` are scrubbed from any provider text that ends up in an error message.
    """

    def __init__(
        self,
        *,
        base_url: str,
        client: httpx.Client,
        auth: httpx.Auth | None = None,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        accounting: CallAccounting | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_redirects: int = 3,
        secrets: Sequence[str] = (),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._base = base_url.rstrip("/")
        try:
            self.base_url = httpx.URL(self._base)
        except httpx.InvalidURL as exc:
            raise PermanentError("invalid base URL") from exc
        self.client = client
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or RateLimiter()
        self.accounting = accounting or CallAccounting()
        self._auth = auth
        self._timeout = timeout
        self._max_redirects = max_redirects
        self._secrets = tuple(secret for secret in secrets if secret)
        self._now = now

    def request(
        self,
        method: str,
        route: str,
        *,
        path: Mapping[str, str | int] | None = None,
        params: Params | None = None,
        json: JsonValue = None,
        write_key: str | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send `method route` (a template such as "/rest/api/3/issue/{key}") and return a 2xx response.

        `write_key` paces writes per entity; `idempotent` (default: by method) decides whether a
        failure the server may already have acted on is retried.
        """
        method = method.upper()
        endpoint = f"{method} {route}"
        url = self._url(route, path or {})
        query = _clean_params(params or {})
        safe = method in _IDEMPOTENT_METHODS if idempotent is None else idempotent

        def attempt() -> httpx.Response:
            self.limiter.acquire(write_key=write_key)
            request = self.client.build_request(method, url, params=query, json=json, timeout=self._timeout)
            return self._send(request, route=route, endpoint=endpoint)

        return self.retry.call(attempt, idempotent=safe)

    def close(self) -> None:
        self.client.close()

    def _send(self, request: httpx.Request, *, route: str, endpoint: str) -> httpx.Response:
        for _ in range(self._max_redirects + 1):
            try:
                response = self.client.send(request, auth=self._auth)
            except httpx.HTTPError as exc:
                self.accounting.record(method=request.method, route=route, status=None)
                raise error_from_transport(exc, endpoint=endpoint) from exc
            # The body is read. httpx binds a response and its stream to each other; unbound, the
            # response (and a body of megabytes) is freed with its last reference, not at the next
            # garbage collection, which a bulk sync makes rare (`service.sync.gc_budget`).
            response.stream = httpx.ByteStream(b"")
            self.accounting.record(method=request.method, route=route, status=response.status_code)
            limits = RateLimitHeaders.parse(response.headers, now=self._now())
            self.limiter.observe(limits, status_code=response.status_code)
            if response.is_success:
                return response
            if not response.is_redirect:
                raise error_from_response(response, endpoint=endpoint, limits=limits, redact=self._redact)
            request = self._same_origin_redirect(response, endpoint=endpoint)
        raise PermanentError("too many redirects", endpoint=endpoint)

    def _same_origin_redirect(self, response: httpx.Response, *, endpoint: str) -> httpx.Request:
        target = response.next_request
        if target is None:
            raise PermanentError("redirect without a usable Location", endpoint=endpoint)
        if _origin(target.url) != _origin(self.base_url):
            raise PermanentError(f"refused redirect to another origin ({target.url.host})", endpoint=endpoint)
        return target

    def _url(self, route: str, path: Mapping[str, str | int]) -> httpx.URL:
        quoted = {name: quote(str(value), safe="") for name, value in path.items()}
        return httpx.URL(self._base + route.format(**quoted))

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _REDACTED)
        return text


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme))


def _clean_params(params: Params) -> dict[str, str | list[str]]:
    cleaned: dict[str, str | list[str]] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            cleaned[name] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            cleaned[name] = str(value)
        else:
            cleaned[name] = [str(item) for item in value]
    return cleaned
