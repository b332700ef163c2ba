"""One error base, rendered as RFC 9457 problem+json with a stable `type` per error."""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://tiffin.dev/problems/"


class TiffinError(Exception):
    """Base of every error a client may see. Subclasses set `status`, `type` and `title`."""

    status: int = 500
    type: str = "internal-error"
    title: str = "Internal error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}


class BadRequest(TiffinError):
    status, type, title = 400, "bad-request", "Bad request"


class MalformedJSON(TiffinError):
    status, type, title = 400, "malformed-json", "The request body is not valid JSON"


class ValidationFailed(TiffinError):
    status, type, title = 422, "validation-error", "The request did not validate"


class NotFound(TiffinError):
    status, type, title = 404, "not-found", "Not found"


class MethodNotAllowed(TiffinError):
    status, type, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(TiffinError):
    status, type, title = 409, "conflict", "Conflict"


class PayloadTooLarge(TiffinError):
    status, type, title = 413, "payload-too-large", "The request body is too large"


class ServiceUnavailable(TiffinError):
    status, type, title = 503, "service-unavailable", "A dependency is unavailable"


def problem(
    error: TiffinError, *, instance: str | None = None, request_id: str | None = None
) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + error.type,
        "title": error.title,
        "status": error.status,
    }
    if error.detail:
        body["detail"] = error.detail
    if instance:
        body["instance"] = instance
    if request_id:
        body["request_id"] = request_id
    body.update(error.extra)
    return Response(
        orjson.dumps(body),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=error.headers,
    )


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _clean(errors: Any) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        out.append({"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")})
    return out


def install_error_handlers(app: FastAPI) -> None:
    async def on_tiffin_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TiffinError)
        return problem(exc, instance=request.url.path, request_id=_request_id(request))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        error: TiffinError
        if any(e.get("type") == "json_invalid" for e in errors):
            error = MalformedJSON(str(errors[0].get("ctx", {}).get("error", "")) or None)
        else:
            error = ValidationFailed(errors=_clean(errors))
        return problem(error, instance=request.url.path, request_id=_request_id(request))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        by_status: dict[int, type[TiffinError]] = {
            400: BadRequest,
            404: NotFound,
            405: MethodNotAllowed,
            413: PayloadTooLarge,
        }
        cls = by_status.get(exc.status_code)
        error = cls(str(exc.detail)) if cls else TiffinError(str(exc.detail))
        if cls is None:
            error.status, error.type, error.title = exc.status_code, "http-error", str(exc.detail)
        return problem(error, instance=request.url.path, request_id=_request_id(request))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("request.unhandled_error")
        return problem(TiffinError(), instance=request.url.path, request_id=_request_id(request))

    app.add_exception_handler(TiffinError, on_tiffin_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
