"""Flags over HTTP: definitions (admin), evaluation for server-side callers, and the gate
that `tiffin.infra.http.features.feature(...)` uses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from tiffin.flags.schemas import (
    KEY,
    Evaluation,
    EvaluationContext,
    Flag,
    FlagDefinition,
    Segment,
    SegmentDefinition,
    context_from_request,
)
from tiffin.flags.service import flags
from tiffin.infra.http.auth import Principal, require_scope
from tiffin.infra.http.deps import ResourcesDep, SessionDep, TenantId
from tiffin.infra.live import broadcaster
from tiffin.infra.resources import Resources

FlagKey = Annotated[str, Path(pattern=KEY)]
FlagWriter = Annotated[Principal, Depends(require_scope("flags:write"))]


async def request_context(request: Request) -> EvaluationContext:
    principal = getattr(request.state, "principal", None)
    account_id = getattr(principal, "account_id", None)
    return context_from_request(
        request.headers, request.query_params, user_id=str(account_id) if account_id else None
    )


async def feature_gate(request: Request, key: str) -> bool:
    tenant_id = getattr(request.state, "tenant_id", None)
    if tenant_id is None:
        return True
    resources: Resources = request.app.state.resources
    return await flags.is_on(resources.sessionmaker, tenant_id, key, await request_context(request))


@asynccontextmanager
async def flags_runtime(resources: Resources) -> AsyncIterator[None]:
    """Configures flags for this process and relays live changes to local SSE clients."""
    flags.configure(resources.settings, resources.redis)
    stop = asyncio.Event()
    relay = asyncio.create_task(broadcaster.run(resources.redis, stop))
    try:
        yield
    finally:
        stop.set()
        await relay


Context = Annotated[EvaluationContext, Depends(request_context)]
router = APIRouter(prefix="/v1", tags=["flags"])


@router.get("/flags", response_model=list[Flag])
async def list_flags(session: SessionDep, _: FlagWriter) -> list[Flag]:
    return await flags.list_flags(session)


@router.get("/flags/{key}", response_model=Flag)
async def get_flag(key: FlagKey, session: SessionDep, tenant_id: TenantId, _: FlagWriter) -> Flag:
    return await flags.get_flag(session, tenant_id, key)


@router.put("/flags/{key}", response_model=Flag, summary="Create or replace a flag")
async def put_flag(
    key: FlagKey,
    body: FlagDefinition,
    session: SessionDep,
    tenant_id: TenantId,
    who: FlagWriter,
) -> Flag:
    return await flags.put_flag(session, tenant_id, key, definition=body, actor=who.actor)


@router.delete("/flags/{key}", status_code=204)
async def delete_flag(
    key: FlagKey, session: SessionDep, tenant_id: TenantId, who: FlagWriter
) -> None:
    await flags.delete_flag(session, tenant_id, key, actor=who.actor)


@router.post("/flags/{key}/kill", response_model=Flag, summary="Kill switch: off everywhere")
async def kill_flag(
    key: FlagKey, session: SessionDep, tenant_id: TenantId, who: FlagWriter
) -> Flag:
    return await flags.set_killed(session, tenant_id, key, killed=True, actor=who.actor)


@router.delete("/flags/{key}/kill", response_model=Flag, summary="Lift the kill switch")
async def revive_flag(
    key: FlagKey, session: SessionDep, tenant_id: TenantId, who: FlagWriter
) -> Flag:
    return await flags.set_killed(session, tenant_id, key, killed=False, actor=who.actor)


@router.put("/segments/{key}", response_model=Segment)
async def put_segment(
    key: FlagKey,
    body: SegmentDefinition,
    session: SessionDep,
    tenant_id: TenantId,
    who: FlagWriter,
) -> Segment:
    return await flags.put_segment(session, tenant_id, key, definition=body, actor=who.actor)


@router.get("/segments/{key}", response_model=Segment)
async def get_segment(
    key: FlagKey, session: SessionDep, tenant_id: TenantId, _: FlagWriter
) -> Segment:
    return await flags.get_segment(session, tenant_id, key)


@router.get(
    "/features",
    response_model=dict[str, Evaluation],
    summary="Every flag, evaluated for the caller",
)
async def evaluate_all(
    resources: ResourcesDep, tenant_id: TenantId, context: Context
) -> dict[str, Evaluation]:
    return await flags.evaluate_all(resources.sessionmaker, tenant_id, context)


@router.post(
    "/flags/evaluate",
    response_model=dict[str, Evaluation],
    summary="Every flag, evaluated for a context a server sends",
)
async def evaluate_for(
    body: EvaluationContext, resources: ResourcesDep, tenant_id: TenantId, _: FlagWriter
) -> dict[str, Evaluation]:
    return await flags.evaluate_all(resources.sessionmaker, tenant_id, body)
