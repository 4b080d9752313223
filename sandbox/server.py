"""Serve an ASGI app on loopback in a background thread: for end-to-end tests, benchmarks and the demo."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
from starlette.types import ASGIApp


class LoopbackServer:
    """Runs `app` with uvicorn on 127.0.0.1 until closed; `base_url` is known once started.

    Port 0 picks a free port. With a certificate and key it serves HTTPS. `lifespan` runs the
    app's startup and shutdown (an app that opens resources there needs it).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        tls_cert: str | None = None,
        tls_key: str | None = None,
        lifespan: bool = False,
    ) -> None:
        # IPPROTO_TCP named explicitly: asyncio disables Nagle's algorithm only on sockets that say
        # they are TCP, and accepted sockets inherit the listener's protocol. With Nagle on, every
        # response body written after its headers waited for the client's delayed ACK (~40 ms).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        scheme = "https" if tls_cert else "http"
        self.base_url = f"{scheme}://{host}:{self.port}"
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on" if lifespan else "off",
            ssl_certfile=tls_cert,
            ssl_keyfile=tls_key,
            ssl_cert_reqs=ssl.CERT_NONE,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"loopback-{self.port}", daemon=True)

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self, *, timeout_s: float = 10.0) -> Self:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"loopback server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
