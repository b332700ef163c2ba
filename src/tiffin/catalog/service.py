from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from tiffin.catalog.errors import RestaurantNotFound, RestaurantSlugTaken
from tiffin.catalog.events import MenuItemAdded, RestaurantCreated
from tiffin.catalog.models import MenuItem as MenuItemRow
from tiffin.catalog.models import Restaurant as RestaurantRow
from tiffin.catalog.repository import CatalogRepository
from tiffin.catalog.schemas import Menu, MenuItem, MenuItemCreate, Restaurant, RestaurantCreate
from tiffin.infra.bus import outbox


class CatalogService:
    async def create_restaurant(
        self, session: AsyncSession, tenant_id: uuid.UUID, *, data: RestaurantCreate
    ) -> Restaurant:
        repo = CatalogRepository.from_session(session)
        if await repo.get_restaurant_by_slug(data.slug):
            raise RestaurantSlugTaken()
        row = RestaurantRow(tenant_id=tenant_id, **data.model_dump())
        await repo.add(row)
        await outbox.append(
            session,
            RestaurantCreated(restaurant_id=row.id, name=row.name),
            tenant_id=tenant_id,
            aggregate_id=row.id,
        )
        return Restaurant.model_validate(row)

    async def list_restaurants(self, session: AsyncSession) -> list[Restaurant]:
        rows = await CatalogRepository.from_session(session).list_restaurants()
        return [Restaurant.model_validate(r) for r in rows]

    async def add_item(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        *,
        restaurant_id: uuid.UUID,
        data: MenuItemCreate,
    ) -> MenuItem:
        repo = CatalogRepository.from_session(session)
        if await repo.get_restaurant(tenant_id, restaurant_id) is None:
            raise RestaurantNotFound()
        row = MenuItemRow(tenant_id=tenant_id, restaurant_id=restaurant_id, **data.model_dump())
        await repo.add(row)
        await outbox.append(
            session,
            MenuItemAdded(
                restaurant_id=restaurant_id,
                item_id=row.id,
                price_minor=row.price_minor,
                currency=row.currency,
            ),
            tenant_id=tenant_id,
            aggregate_id=restaurant_id,
        )
        return MenuItem.model_validate(row)

    async def get_menu(
        self, session: AsyncSession, tenant_id: uuid.UUID, restaurant_id: uuid.UUID
    ) -> Menu:
        repo = CatalogRepository.from_session(session)
        restaurant = await repo.get_restaurant(tenant_id, restaurant_id)
        if restaurant is None:
            raise RestaurantNotFound()
        items = await repo.list_items(restaurant_id)
        return Menu(
            restaurant=Restaurant.model_validate(restaurant),
            items=[MenuItem.model_validate(i) for i in items],
        )


catalog = CatalogService()
