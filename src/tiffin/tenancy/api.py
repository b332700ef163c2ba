"""Tenant resolution middleware, the API-key scope check, and the brand's public profile."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from tiffin.infra import audit
from tiffin.infra.http.auth import Principal, require_scope
from tiffin.infra.http.deps import SessionDep, TenantId
from tiffin.infra.http.errors import TiffinError, problem
from tiffin.infra.http.middleware import header
from tiffin.tenancy.schemas import ApiKeyCreate, ApiKeyIssued, AuditEntry, Tenant
from tiffin.tenancy.service import tenants

TENANT_SCOPED_PREFIX = "/v1/"


def _api_key(scope: Scope) -> str | None:
    if key := header(scope, b"x-api-key"):
        return key
    auth = header(scope, b"authorization") or ""
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.startswith("tfn_"):
        return token
    return None


class TenantMiddleware:
    """Resolves the tenant of every `/v1/` request before it reaches a route; the tenant id
    then binds the request's transaction (`SET LOCAL tiffin.tenant_id`) and its log lines."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not scope["path"].startswith(
            TENANT_SCOPED_PREFIX
        ):
            await self.app(scope, receive, send)
            return
        resources = scope["app"].state.resources
        try:
            tenant, principal = await tenants.resolve(
                resources.sessionmaker,
                host=header(scope, b"host"),
                tenant_ref=header(scope, b"x-tenant-id"),
                api_key=_api_key(scope),
            )
        except TiffinError as error:
            request_id = scope.get("state", {}).get("request_id")
            await problem(error, instance=scope["path"], request_id=request_id)(
                scope, receive, send
            )
            return
        state = scope.setdefault("state", {})
        state["tenant_id"] = tenant.id
        state["tenant"] = tenant
        state["principal"] = principal
        structlog.contextvars.bind_contextvars(tenant_id=str(tenant.id))
        await self.app(scope, receive, send)


async def current_tenant(request: Request) -> Tenant:
    tenant: Tenant = request.state.tenant
    return tenant


CurrentTenant = Annotated[Tenant, Depends(current_tenant)]

router = APIRouter(prefix="/v1", tags=["tenancy"])


@router.get("/tenant", response_model=Tenant, summary="The brand this request is for")
async def get_tenant(tenant: CurrentTenant) -> Tenant:
    return tenant


KeyAdmin = Annotated[Principal, Depends(require_scope("api_keys:write"))]


@router.post(
    "/api-keys",
    status_code=201,
    response_model=ApiKeyIssued,
    summary="Issue a server-to-server key (shown once)",
)
async def issue_api_key(
    body: ApiKeyCreate, session: SessionDep, tenant_id: TenantId, _: KeyAdmin
) -> ApiKeyIssued:
    return await tenants.issue_api_key(session, tenant_id, name=body.name, scopes=body.scopes)


@router.delete("/api-keys/{key_id}", status_code=204, summary="Revoke a key")
async def revoke_api_key(
    key_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, _: KeyAdmin
) -> None:
    await tenants.revoke_api_key(session, tenant_id, key_id)


__all__ = ["CurrentTenant", "TenantMiddleware", "router"]


@router.get(
    "/audit-log",
    response_model=list[AuditEntry],
    summary="Changes to configuration, flags and catalog, newest first",
)
async def audit_log(
    session: SessionDep,
    _: Annotated[Principal, Depends(require_scope("audit:read"))],
    entity: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[str | None, Query(max_length=128)] = None,
    before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AuditEntry]:
    rows = await audit.entries(
        session, entity=entity, entity_id=entity_id, before=before, limit=limit
    )
    return [AuditEntry.model_validate(r) for r in rows]
