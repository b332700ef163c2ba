from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tiffin.catalog.models import MenuItem, Restaurant


class CatalogRepository:
    """Queries need no tenant filter: row-level security scopes them to the transaction's
    tenant. Lookups by id still name the tenant so the primary key index serves them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> CatalogRepository:
        return cls(session)

    async def get_restaurant(
        self, tenant_id: uuid.UUID, restaurant_id: uuid.UUID
    ) -> Restaurant | None:
        return await self.session.get(Restaurant, (tenant_id, restaurant_id))

    async def get_restaurant_by_slug(self, slug: str) -> Restaurant | None:
        return await self.session.scalar(select(Restaurant).where(Restaurant.slug == slug))

    async def list_restaurants(self) -> Sequence[Restaurant]:
        return (await self.session.scalars(select(Restaurant).order_by(Restaurant.name))).all()

    async def list_items(self, restaurant_id: uuid.UUID) -> Sequence[MenuItem]:
        return (
            await self.session.scalars(
                select(MenuItem)
                .where(MenuItem.restaurant_id == restaurant_id)
                .order_by(MenuItem.name)
            )
        ).all()

    async def add(self, *rows: Restaurant | MenuItem) -> None:
        self.session.add_all(rows)
        await self.session.flush()
