"""Pure ASGI middleware: request context (ids, access log) and the request body limit."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiffin.infra.http.errors import BadRequest, PayloadTooLarge, TiffinError, problem

log = structlog.get_logger("tiffin.access")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def header(scope: Scope, name: bytes) -> str | None:
    """A request header from an ASGI scope (`name` lower-case), for pure ASGI middleware."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestContextMiddleware:
    """Gives each request an id (the caller's `X-Request-ID` when sane) and a trace id
    (from W3C `traceparent`), binds both to every log line, and writes one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = header(scope, b"x-request-id")
        request_id = incoming if incoming and _SAFE_ID.match(incoming) else uuid.uuid4().hex
        parent = _TRACEPARENT.match(header(scope, b"traceparent") or "")
        trace_id = parent.group(1) if parent else uuid.uuid4().hex
        scope.setdefault("state", {})
        scope["state"]["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, trace_id=trace_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            tenant = scope["state"].get("tenant_id")
            log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                tenant_id=str(tenant) if tenant else None,
            )


class _TooLarge(StarletteHTTPException):
    """Raised from `receive`; FastAPI lets HTTPExceptions from body reading pass through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the limit is {limit} bytes")


class BodyLimitMiddleware:
    """Refuses bodies over `max_bytes` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope.get("state", {}).get("request_id")
        declared = header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            error: TiffinError = (
                PayloadTooLarge(f"the limit is {self.max_bytes} bytes")
                if declared.isdigit()
                else BadRequest("invalid Content-Length")
            )
            await problem(error, instance=scope["path"], request_id=request_id)(
                scope, receive, send
            )
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            response = problem(
                PayloadTooLarge(f"the limit is {self.max_bytes} bytes"),
                instance=scope["path"],
                request_id=request_id,
            )
            await response(scope, receive, send)
