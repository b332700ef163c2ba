"""The catalog over HTTP: outlets and their public menu (read by apps), cart-line pricing, and
the brand's admin API (scope `catalog:write`). Thin: every route calls the service."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from tiffin.catalog.schemas import (
    CartLine,
    CatalogDocument,
    Category,
    CategoryCreate,
    CategoryUpdate,
    ItemEntry,
    Menu,
    MenuCreate,
    MenuEntry,
    MenuItem,
    MenuItemCreate,
    MenuItemUpdate,
    MenuUpdate,
    ModifierGroup,
    ModifierGroupCreate,
    ModifierGroupUpdate,
    ModifierOption,
    ModifierOptionCreate,
    ModifierOptionUpdate,
    OutletItem,
    OutletItemUpdate,
    OutletMenu,
    PricedCartLine,
    Restaurant,
    RestaurantCreate,
    RestaurantUpdate,
    SpecialDay,
    SpecialDaySet,
    Variant,
    VariantCreate,
    VariantUpdate,
)
from tiffin.catalog.service import catalog
from tiffin.infra.http.auth import Principal, require_scope
from tiffin.infra.http.deps import SessionDep, TenantId
from tiffin.infra.http.idempotency import IdempotencyDep

CatalogWriter = Annotated[Principal, Depends(require_scope("catalog:write"))]
At = Annotated[
    datetime | None,
    Query(description="The moment to answer for (ISO 8601; default now; naive = outlet time)"),
]

restaurants = APIRouter(prefix="/v1/restaurants", tags=["catalog"])
admin = APIRouter(prefix="/v1", tags=["catalog admin"])


# -- outlets -------------------------------------------------------------------------------------


@restaurants.get("", response_model=list[Restaurant])
async def list_restaurants(session: SessionDep) -> list[Restaurant]:
    return await catalog.list_restaurants(session)


@restaurants.post("", status_code=201, response_model=Restaurant)
async def create_restaurant(
    body: RestaurantCreate,
    session: SessionDep,
    tenant_id: TenantId,
    idempotency: IdempotencyDep,
    who: CatalogWriter,
) -> Response:
    return await idempotency.run(
        lambda: catalog.create_restaurant(session, tenant_id, data=body, actor=who.actor)
    )


@restaurants.get("/{restaurant_id}", response_model=Restaurant)
async def get_restaurant(
    restaurant_id: uuid.UUID, session: SessionDep, tenant_id: TenantId
) -> Restaurant:
    return await catalog.get_restaurant(session, tenant_id, restaurant_id)


@restaurants.patch("/{restaurant_id}", response_model=Restaurant)
async def update_restaurant(
    restaurant_id: uuid.UUID,
    body: RestaurantUpdate,
    session: SessionDep,
    tenant_id: TenantId,
    who: CatalogWriter,
) -> Restaurant:
    return await catalog.update_restaurant(
        session, tenant_id, restaurant_id, data=body, actor=who.actor
    )


@restaurants.get("/{restaurant_id}/special-days", response_model=list[SpecialDay])
async def list_special_days(
    restaurant_id: uuid.UUID, session: SessionDep, tenant_id: TenantId
) -> list[SpecialDay]:
    return await catalog.list_special_days(session, tenant_id, restaurant_id)


@restaurants.put("/{restaurant_id}/special-days/{day}", response_model=SpecialDay)
async def set_special_day(
    restaurant_id: uuid.UUID,
    day: date,
    body: SpecialDaySet,
    session: SessionDep,
    tenant_id: TenantId,
    who: CatalogWriter,
) -> SpecialDay:
    return await catalog.set_special_day(
        session, tenant_id, restaurant_id, day=day, data=body, actor=who.actor
    )


@restaurants.delete("/{restaurant_id}/special-days/{day}", status_code=204)
async def clear_special_day(
    restaurant_id: uuid.UUID,
    day: date,
    session: SessionDep,
    tenant_id: TenantId,
    who: CatalogWriter,
) -> None:
    await catalog.clear_special_day(session, tenant_id, restaurant_id, day=day, actor=who.actor)


@restaurants.get(
    "/{restaurant_id}/menu",
    response_model=OutletMenu,
    summary="What the outlet sells at a moment, at its prices",
    responses={304: {"description": "unchanged since the ETag sent"}},
)
async def get_outlet_menu(
    restaurant_id: uuid.UUID,
    session: SessionDep,
    tenant_id: TenantId,
    at: At = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    rendered = await catalog.render_menu(session, tenant_id, restaurant_id, at=at)
    # The tenant comes from the host or a header: shared caches must key on both.
    headers = {"ETag": rendered.etag, "Cache-Control": "no-cache", "Vary": "Host, X-Tenant-ID"}
    if _matches(if_none_match, rendered.etag):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type="application/json", headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: weak comparison over a list of tags, or `*`."""
    tags = [tag.strip() for tag in (if_none_match or "").split(",")]
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)


@restaurants.post(
    "/{restaurant_id}/cart-lines",
    response_model=PricedCartLine,
    summary="Price a cart line (checks it can be sold then; stores nothing)",
)
async def price_cart_line(
    restaurant_id: uuid.UUID,
    body: CartLine,
    session: SessionDep,
    tenant_id: TenantId,
    at: At = None,
) -> PricedCartLine:
    return await catalog.price_cart_line(session, tenant_id, restaurant_id, line=body, at=at)


@restaurants.get("/{restaurant_id}/items", response_model=list[OutletItem])
async def list_outlet_items(
    restaurant_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, _: CatalogWriter
) -> list[OutletItem]:
    return await catalog.list_outlet_items(session, tenant_id, restaurant_id)


@restaurants.patch("/{restaurant_id}/items/{item_id}", response_model=OutletItem)
async def update_outlet_item(
    restaurant_id: uuid.UUID,
    item_id: uuid.UUID,
    body: OutletItemUpdate,
    session: SessionDep,
    tenant_id: TenantId,
    who: CatalogWriter,
) -> OutletItem:
    return await catalog.update_outlet_item(
        session, tenant_id, restaurant_id, item_id, data=body, actor=who.actor
    )


# -- the brand's menus -----------------------------------------------------------------------


@admin.get("/menus", response_model=list[Menu])
async def list_menus(session: SessionDep, _: CatalogWriter) -> list[Menu]:
    return await catalog.list_menus(session)


@admin.post("/menus", status_code=201, response_model=Menu)
async def create_menu(
    body: MenuCreate,
    session: SessionDep,
    tenant_id: TenantId,
    idempotency: IdempotencyDep,
    who: CatalogWriter,
) -> Response:
    return await idempotency.run(
        lambda: catalog.create_menu(session, tenant_id, data=body, actor=who.actor)
    )


@admin.get("/menus/{menu_id}", response_model=MenuEntry)
async def get_menu(
    menu_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, _: CatalogWriter
) -> MenuEntry:
    return await catalog.get_menu(session, tenant_id, menu_id)


@admin.patch("/menus/{menu_id}", response_model=Menu)
async def update_menu(
    menu_id: uuid.UUID,
    body: MenuUpdate,
    session: SessionDep,
    tenant_id: TenantId,
    who: CatalogWriter,
) -> Menu:
    return await catalog.update_menu(session, tenant_id, menu_id, data=body, actor=who.actor)


@admin.delete("/menus/{menu_id}", status_code=204)
async def delete_menu(
    menu_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, who: CatalogWriter
) -> None:
    await catalog.delete_menu(session, tenant_id, menu_id, actor=who.actor)


@admin.post("/menus/{menu_id}/categories", status_code=201, response_model=Category)
async def create_category(
    menu_id: uuid.UUID,
    body: CategoryCreate,
    session: SessionDep,
    tenant_id: TenantId,
    idempotency: IdempotencyDep,
    who: CatalogWriter,
) -> Response:
    return await idempotency.run(
        lambda: catalog.create_category(
            session, tenant_id, menu_id=menu_id, data=body, actor=who.actor
        )
    )


@admin.patch("/categories/{category_id}", response_model=Category)
async def update_category(
    category_id: uuid.UUID,
    body: CategoryUpdate,
    session: SessionDep,
    tenant_id: TenantId,
    who: CatalogWriter,
) -> Category:
    return await catalog.update_category(
        session, tenant_id, category_id, data=body, actor=who.actor
    )


@admin.delete("/categories/{category_id}", status_code=204)
async def delete_category(
    category_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, who: CatalogWriter
) -> None:
    await catalog.delete_category(session, tenant_id, category_id, actor=who.actor)


@admin.post("/categories/{category_id}/items", status_code=201, response_model=MenuItem)
async def create_item(
    category_id: uuid.UUID,
    body: MenuItemCreate,
    session: SessionDep,
    tenant_id: TenantId,
    idempotency: IdempotencyDep,
    who: CatalogWriter,
) -> Response:
    return await idempotency.run(
        lambda: catalog.create_item(
            session, tenant_id, category_id=category_id, data=body, actor=who.actor
        )
    )


@admin.get("/items/{item_id}", response_model=ItemEntry)
async def get_item(
    item_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, _: CatalogWriter
) -> ItemEntry:
    return await catalog.get_item(session, tenant_id, item_id)


@admin.patch("/items/{item_id}", response_model=MenuItem)
async def update_item(
    item_id: uuid.UUID,
    body: MenuItemUpdate,
    session: SessionDep,
    tenant_id: TenantId,
    who: CatalogWriter,
) -> MenuItem:
    return await catalog.update_item(session, tenant_id, item_id, data=body, actor=who.actor)


@admin.delete("/items/{item_id}", status_code=204)
async def delete_item(
    item_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, who: CatalogWriter
) -> None:
    await catalog.delete_item(session, tenant_id, item_id, actor=who.actor)


@admin.post("/items/{item_id}/variants", status_code=201, response_model=Variant)
async def create_variant(
    item_id: uuid.UUID,
    body: VariantCreate,
    session: SessionDep,
    tenant_id: TenantId,
    idempotency: IdempotencyDep,
    who: CatalogWriter,
) -> Response:
    return await idempotency.run(
        lambda: catalog.create_variant(
            session, tenant_id, item_id=item_id, data=body, actor=who.actor
        )
    )


@admin.patch("/variants/{variant_id}", response_model=Variant)
async def update_variant(
    variant_id: uuid.UUID,
    body: VariantUpdate,
    session: SessionDep,
    tenant_id: TenantId,
    who: CatalogWriter,
) -> Variant:
    return await catalog.update_variant(session, tenant_id, variant_id, data=body, actor=who.actor)


@admin.delete("/variants/{variant_id}", status_code=204)
async def delete_variant(
    variant_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, who: CatalogWriter
) -> None:
    await catalog.delete_variant(session, tenant_id, variant_id, actor=who.actor)


@admin.post("/items/{item_id}/modifier-groups", status_code=201, response_model=ModifierGroup)
async def create_item_modifier_group(
    item_id: uuid.UUID,
    body: ModifierGroupCreate,
    session: SessionDep,
    tenant_id: TenantId,
    idempotency: IdempotencyDep,
    who: CatalogWriter,
) -> Response:
    return await idempotency.run(
        lambda: catalog.create_modifier_group(
            session, tenant_id, item_id=item_id, data=body, actor=who.actor
        )
    )


@admin.post(
    "/modifier-options/{option_id}/modifier-groups",
    status_code=201,
    response_model=ModifierGroup,
    summary="Create a modifier group nested in an option",
)
async def create_nested_modifier_group(
    option_id: uuid.UUID,
    body: ModifierGroupCreate,
    session: SessionDep,
    tenant_id: TenantId,
    idempotency: IdempotencyDep,
    who: CatalogWriter,
) -> Response:
    return await idempotency.run(
        lambda: catalog.create_modifier_group(
            session, tenant_id, option_id=option_id, data=body, actor=who.actor
        )
    )


@admin.patch("/modifier-groups/{group_id}", response_model=ModifierGroup)
async def update_modifier_group(
    group_id: uuid.UUID,
    body: ModifierGroupUpdate,
    session: SessionDep,
    tenant_id: TenantId,
    who: CatalogWriter,
) -> ModifierGroup:
    return await catalog.update_modifier_group(
        session, tenant_id, group_id, data=body, actor=who.actor
    )


@admin.delete("/modifier-groups/{group_id}", status_code=204)
async def delete_modifier_group(
    group_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, who: CatalogWriter
) -> None:
    await catalog.delete_modifier_group(session, tenant_id, group_id, actor=who.actor)


@admin.post("/modifier-groups/{group_id}/options", status_code=201, response_model=ModifierOption)
async def create_modifier_option(
    group_id: uuid.UUID,
    body: ModifierOptionCreate,
    session: SessionDep,
    tenant_id: TenantId,
    idempotency: IdempotencyDep,
    who: CatalogWriter,
) -> Response:
    return await idempotency.run(
        lambda: catalog.create_modifier_option(
            session, tenant_id, group_id=group_id, data=body, actor=who.actor
        )
    )


@admin.patch("/modifier-options/{option_id}", response_model=ModifierOption)
async def update_modifier_option(
    option_id: uuid.UUID,
    body: ModifierOptionUpdate,
    session: SessionDep,
    tenant_id: TenantId,
    who: CatalogWriter,
) -> ModifierOption:
    return await catalog.update_modifier_option(
        session, tenant_id, option_id, data=body, actor=who.actor
    )


@admin.delete("/modifier-options/{option_id}", status_code=204)
async def delete_modifier_option(
    option_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, who: CatalogWriter
) -> None:
    await catalog.delete_modifier_option(session, tenant_id, option_id, actor=who.actor)


@admin.get("/catalog/export", response_model=CatalogDocument, summary="The brand's whole menu")
async def export_catalog(
    session: SessionDep, tenant_id: TenantId, _: CatalogWriter
) -> CatalogDocument:
    return await catalog.export_catalog(session, tenant_id)


@admin.put(
    "/catalog/import",
    response_model=CatalogDocument,
    summary="Replace the brand's menus with a document, all at once",
)
async def import_catalog(
    body: CatalogDocument, session: SessionDep, tenant_id: TenantId, who: CatalogWriter
) -> CatalogDocument:
    return await catalog.import_catalog(session, tenant_id, document=body, actor=who.actor)


router = APIRouter()
router.include_router(restaurants)
router.include_router(admin)
