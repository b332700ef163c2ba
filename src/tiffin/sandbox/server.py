"""Serve a sandbox app on 127.0.0.1 from a daemon thread, for dev and tests.

with SandboxServer(create_oidc_provider()) as server:
    discovery = httpx.get(f"{server.url}/.well-known/openid-configuration")
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from tiffin.infra.embedded import poll
from tiffin.sandbox.oidc import OidcProvider


class _ThreadServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # SIGINT and SIGTERM belong to the host process (pytest, `tiffin dev`); this server is
        # stopped by `SandboxServer.stop()`.
        yield


class SandboxServer:
    def __init__(self, app: ASGIApp, *, startup_timeout: float = 10.0) -> None:
        self.app = app
        self.startup_timeout = startup_timeout
        self._server: _ThreadServer | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the sandbox server is not started")
        return self._url

    def start(self) -> str:
        """Serves the app and returns its base URL once it accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the sandbox server is already started")
        # Bound here, before the thread starts, so the port cannot be taken in between. An
        # explicit IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections; without it
        # each response waits out the client's delayed ACK (~40 ms).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._socket = sock
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        # The issuer must be the URL the provider is reached at; only now is it known.
        provider = getattr(getattr(self.app, "state", None), "provider", None)
        if isinstance(provider, OidcProvider):
            provider.issuer = url

        config = uvicorn.Config(
            self.app,
            log_config=None,  # leave the host's logging configuration alone
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        server = _ThreadServer(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox {url}", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()

        def ready() -> bool:
            if not thread.is_alive():
                raise RuntimeError(f"the sandbox server on {url} exited during startup")
            return server.started

        try:
            poll(ready, timeout=self.startup_timeout, what=f"sandbox server on {url}")
        except BaseException:
            self.stop()
            raise
        self._url = url
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
        self._url = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
