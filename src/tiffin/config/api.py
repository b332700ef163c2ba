"""Brand configuration over HTTP: versions for brand admins, the app config for apps (with
an ETag), and a live stream that pushes a new config the moment one is published."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response, StreamingResponse

from tiffin.config.schemas import AppConfig, ConfigVersion, DiffOp, DraftCreate, Rollback
from tiffin.config.service import config
from tiffin.flags.schemas import EvaluationContext, context_from_request
from tiffin.infra.http.auth import Principal, require_scope
from tiffin.infra.http.deps import ResourcesDep, SessionDep, TenantId
from tiffin.infra.live import broadcaster
from tiffin.infra.resources import Resources

ConfigWriter = Annotated[Principal, Depends(require_scope("config:write"))]
KEEPALIVE_SECONDS = 15.0


async def _context(request: Request) -> EvaluationContext:
    principal = getattr(request.state, "principal", None)
    account_id = getattr(principal, "account_id", None)
    return context_from_request(
        request.headers, request.query_params, user_id=str(account_id) if account_id else None
    )


@asynccontextmanager
async def config_runtime(resources: Resources) -> AsyncIterator[None]:
    config.configure(resources.redis)
    yield


Context = Annotated[EvaluationContext, Depends(_context)]
router = APIRouter(prefix="/v1", tags=["brand configuration"])


@router.get("/config/schema", summary="JSON Schema of the configuration document")
async def schema() -> dict[str, Any]:
    return config.schema()


@router.get("/config/versions", response_model=list[ConfigVersion])
async def versions(
    session: SessionDep,
    tenant_id: TenantId,
    _: ConfigWriter,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ConfigVersion]:
    return await config.versions(session, tenant_id, limit=limit)


@router.post(
    "/config/versions",
    status_code=201,
    response_model=ConfigVersion,
    summary="Save a draft (validated against the schema)",
)
async def create_draft(
    body: DraftCreate, session: SessionDep, tenant_id: TenantId, who: ConfigWriter
) -> ConfigVersion:
    return await config.create_draft(
        session, tenant_id, document=body.document, note=body.note, actor=who.actor
    )


@router.get("/config/versions/{version}", response_model=ConfigVersion)
async def get_version(
    version: int, session: SessionDep, tenant_id: TenantId, _: ConfigWriter
) -> ConfigVersion:
    return await config.version(session, tenant_id, version)


@router.get("/config/versions/{version}/document", summary="The stored document, exactly")
async def get_document(
    version: int, session: SessionDep, tenant_id: TenantId, _: ConfigWriter
) -> Response:
    text = await config.raw_document(session, tenant_id, version)
    return Response(text.encode(), media_type="application/json")


@router.put("/config/versions/{version}", response_model=ConfigVersion)
async def update_draft(
    version: int, body: DraftCreate, session: SessionDep, tenant_id: TenantId, who: ConfigWriter
) -> ConfigVersion:
    return await config.update_draft(
        session, tenant_id, version, document=body.document, note=body.note, actor=who.actor
    )


@router.post("/config/versions/{version}/publish", response_model=ConfigVersion)
async def publish(
    version: int, session: SessionDep, tenant_id: TenantId, who: ConfigWriter
) -> ConfigVersion:
    return await config.publish(session, tenant_id, version, actor=who.actor)


@router.post(
    "/config/rollback",
    response_model=ConfigVersion,
    summary="Make an earlier published version live again",
)
async def rollback(
    body: Rollback, session: SessionDep, tenant_id: TenantId, who: ConfigWriter
) -> ConfigVersion:
    return await config.rollback(session, tenant_id, body.version, actor=who.actor)


@router.get("/config/diff", response_model=list[DiffOp], summary="RFC 6902 patch from → to")
async def diff(
    session: SessionDep,
    tenant_id: TenantId,
    _: ConfigWriter,
    source: Annotated[int, Query(alias="from")],
    target: Annotated[int, Query(alias="to")],
) -> list[DiffOp]:
    return await config.diff(session, tenant_id, source, target)


async def _render(
    resources: Resources, tenant_id: uuid.UUID, context: EvaluationContext
) -> tuple[bytes, str]:
    return await config.render(resources.sessionmaker, tenant_id, context)


@router.get(
    "/app-config",
    response_model=AppConfig,
    summary="The live config and flags, resolved for this app and user",
    responses={304: {"description": "unchanged since the ETag sent"}},
)
async def app_config(request: Request) -> Response:
    # The apps' hottest read takes the request alone: no dependency solving per call.
    resources: Resources = request.app.state.resources
    tenant_id: uuid.UUID = request.state.tenant_id
    body, etag = await _render(resources, tenant_id, await _context(request))
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization"}
    if etag in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "/app-config/stream",
    summary="Server-sent events: the app config, pushed on change",
    response_class=StreamingResponse,
)
async def stream(
    resources: ResourcesDep, tenant_id: TenantId, context: Context
) -> StreamingResponse:
    async def events() -> AsyncIterator[bytes]:
        async with broadcaster.listen(tenant_id) as changes:
            sent = None
            while True:
                body, etag = await _render(resources, tenant_id, context)
                if etag != sent:
                    yield b"event: config\nid: " + etag.encode() + b"\ndata: " + body + b"\n\n"
                    sent = etag
                try:
                    await asyncio.wait_for(changes.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


__all__ = ["config_runtime", "router"]
