"""FastAPI dependencies shared by every router: the request's transaction and tenant."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from tiffin.infra.db import tenant_transaction
from tiffin.infra.resources import Resources


async def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


async def current_tenant_id(request: Request) -> uuid.UUID:
    tenant_id: uuid.UUID | None = getattr(request.state, "tenant_id", None)
    if tenant_id is None:  # a route outside the tenant middleware's scope asked for one
        raise RuntimeError("no tenant resolved for this route")
    return tenant_id


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction, bound to its tenant. Declared with scope="function" so
    it commits before the response is sent: a failed commit can never follow a 201."""
    resources: Resources = request.app.state.resources
    async with tenant_transaction(
        resources.sessionmaker, getattr(request.state, "tenant_id", None)
    ) as session:
        yield session


ResourcesDep = Annotated[Resources, Depends(get_resources)]
TenantId = Annotated[uuid.UUID, Depends(current_tenant_id)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
