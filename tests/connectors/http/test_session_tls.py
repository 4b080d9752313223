"""The TLS context every provider client shares: built once per process, verifying, trusting what
httpx's default would trust."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import certifi
import httpx
import pytest

from connectors.http import build_http_client
from connectors.http.session import shared_tls_context


@pytest.fixture
def fresh_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Forget the process's context before and after, so a test's environment does not leak."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    shared_tls_context.cache_clear()
    yield
    shared_tls_context.cache_clear()


def _pool_context(client: httpx.Client) -> ssl.SSLContext:
    transport = client._transport
    assert isinstance(transport, httpx.HTTPTransport)
    context = transport._pool._ssl_context
    assert context is not None
    return context


def test_build_http_client_shares_one_tls_context(fresh_context: None) -> None:
    with build_http_client() as first, build_http_client() as second:
        assert _pool_context(first) is _pool_context(second) is shared_tls_context()


def test_shared_tls_context_verifies_certificates_and_host_names(fresh_context: None) -> None:
    context = shared_tls_context()

    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)


def test_shared_tls_context_trusts_certifi_by_default(fresh_context: None) -> None:
    expected = ssl.create_default_context(cafile=certifi.where())

    assert len(shared_tls_context().get_ca_certs()) == len(expected.get_ca_certs())


def test_shared_tls_context_trusts_ssl_cert_file_when_set(
    fresh_context: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundle = Path(certifi.where()).read_text()
    one_ca = bundle[: bundle.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]
    cafile = tmp_path / "internal-ca.pem"
    cafile.write_text(one_ca[one_ca.index("-----BEGIN CERTIFICATE-----") :] + "\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(cafile))

    assert len(shared_tls_context().get_ca_certs()) == 1


def test_build_http_client_with_transport_uses_it(fresh_context: None) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(204))

    with build_http_client(transport=transport) as client:
        assert client.get("https://example.atlassian.net/x").status_code == 204
