from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from tiffin.catalog.schemas import Menu, MenuItem, MenuItemCreate, Restaurant, RestaurantCreate
from tiffin.catalog.service import catalog
from tiffin.infra.http.auth import Principal, require_scope
from tiffin.infra.http.deps import SessionDep, TenantId
from tiffin.infra.http.idempotency import IdempotencyDep

router = APIRouter(prefix="/v1/restaurants", tags=["catalog"])
CatalogWriter = Annotated[Principal, Depends(require_scope("catalog:write"))]


@router.get("", response_model=list[Restaurant])
async def list_restaurants(session: SessionDep) -> list[Restaurant]:
    return await catalog.list_restaurants(session)


@router.post("", status_code=201, response_model=Restaurant)
async def create_restaurant(
    body: RestaurantCreate,
    session: SessionDep,
    tenant_id: TenantId,
    idempotency: IdempotencyDep,
    _: CatalogWriter,
) -> Response:
    return await idempotency.run(lambda: catalog.create_restaurant(session, tenant_id, data=body))


@router.get("/{restaurant_id}/menu", response_model=Menu)
async def get_menu(restaurant_id: uuid.UUID, session: SessionDep, tenant_id: TenantId) -> Menu:
    return await catalog.get_menu(session, tenant_id, restaurant_id)


@router.post("/{restaurant_id}/items", status_code=201, response_model=MenuItem)
async def add_item(
    restaurant_id: uuid.UUID,
    body: MenuItemCreate,
    session: SessionDep,
    tenant_id: TenantId,
    idempotency: IdempotencyDep,
    _: CatalogWriter,
) -> Response:
    return await idempotency.run(
        lambda: catalog.add_item(session, tenant_id, restaurant_id=restaurant_id, data=body)
    )
