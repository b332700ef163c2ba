"""All SQL of the catalog. Row-level security scopes every query to the transaction's tenant;
lookups by key still name the tenant so the primary-key index serves them."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from tiffin.catalog.models import (
    CatalogRevision,
    Menu,
    MenuCategory,
    MenuItem,
    OutletItem,
    OutletVariant,
    Restaurant,
    SpecialDay,
    TreeNode,
)

Node = TypeVar("Node", bound=TreeNode)
Row = Restaurant | SpecialDay | TreeNode | OutletItem | OutletVariant


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> CatalogRepository:
        return cls(session)

    async def add(self, *rows: Row) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def delete(self, row: Row) -> None:
        await self.session.delete(row)
        await self.session.flush()

    # -- the brand's catalog revision --------------------------------------------------------
    async def revision(self, tenant_id: uuid.UUID) -> int:
        value = await self.session.scalar(
            select(CatalogRevision.revision).where(CatalogRevision.tenant_id == tenant_id)
        )
        return value or 0

    async def bump_revision(self, tenant_id: uuid.UUID) -> int:
        """Increments the revision, holding its row lock until the transaction ends."""
        statement = (
            pg_insert(CatalogRevision)
            .values(tenant_id=tenant_id, revision=1)
            .on_conflict_do_update(
                index_elements=[CatalogRevision.tenant_id],
                set_={"revision": CatalogRevision.revision + 1},
            )
            .returning(CatalogRevision.revision)
        )
        return int((await self.session.execute(statement)).scalar_one())

    # -- restaurants -------------------------------------------------------------------------
    async def get_restaurant(
        self, tenant_id: uuid.UUID, restaurant_id: uuid.UUID
    ) -> Restaurant | None:
        return await self.session.get(Restaurant, (tenant_id, restaurant_id))

    async def get_restaurant_by_slug(self, slug: str) -> Restaurant | None:
        return await self.session.scalar(select(Restaurant).where(Restaurant.slug == slug))

    async def list_restaurants(self) -> Sequence[Restaurant]:
        return (await self.session.scalars(select(Restaurant).order_by(Restaurant.name))).all()

    async def special_days(
        self, restaurant_id: uuid.UUID, *, days: Collection[date] | None = None
    ) -> Sequence[SpecialDay]:
        query = select(SpecialDay).where(SpecialDay.restaurant_id == restaurant_id)
        if days is not None:
            query = query.where(SpecialDay.day.in_(days))
        return (await self.session.scalars(query.order_by(SpecialDay.day))).all()

    async def get_special_day(
        self, tenant_id: uuid.UUID, restaurant_id: uuid.UUID, day: date
    ) -> SpecialDay | None:
        return await self.session.get(SpecialDay, (tenant_id, restaurant_id, day))

    # -- menu trees --------------------------------------------------------------------------
    async def get(self, model: type[Node], tenant_id: uuid.UUID, id: uuid.UUID) -> Node | None:
        return await self.session.get(model, (tenant_id, id))

    async def item_in_menu(
        self, tenant_id: uuid.UUID, item_id: uuid.UUID
    ) -> tuple[MenuItem, Menu] | None:
        """An item with the menu it is served in."""
        row = (
            await self.session.execute(
                select(MenuItem, Menu)
                .join(
                    MenuCategory,
                    (MenuCategory.tenant_id == MenuItem.tenant_id)
                    & (MenuCategory.id == MenuItem.category_id),
                )
                .join(
                    Menu,
                    (Menu.tenant_id == MenuCategory.tenant_id) & (Menu.id == MenuCategory.menu_id),
                )
                .where(MenuItem.tenant_id == tenant_id, MenuItem.id == item_id)
            )
        ).one_or_none()
        return (row[0], row[1]) if row else None

    async def nodes(
        self,
        model: type[Node],
        parent: InstrumentedAttribute[Any] | None = None,
        parent_ids: Collection[uuid.UUID] | None = None,
    ) -> Sequence[Node]:
        """The rows of `model` (those under `parent_ids` when given), in sibling order.
        Rows are re-read even when the session holds them: an import rewrites them."""
        query = select(model)
        if parent is not None and parent_ids is not None:
            if not parent_ids:
                return []
            query = query.where(parent.in_(parent_ids))
        query = query.order_by(model.position, model.id).execution_options(populate_existing=True)
        return (await self.session.scalars(query)).all()

    async def next_position(
        self, model: type[Node], parent: InstrumentedAttribute[Any] | None, parent_id: Any
    ) -> int:
        query = select(func.coalesce(func.max(model.position) + 1, 0))
        if parent is not None:
            query = query.where(parent == parent_id)
        return int(await self.session.scalar(query) or 0)

    async def delete_all_menus(self) -> None:
        """Every menu of the tenant, and by cascade everything under them."""
        await self.session.execute(delete(Menu))

    async def insert_many(self, model: type[Row], rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(model), list(rows))

    # -- outlet overrides --------------------------------------------------------------------
    async def outlet_items(
        self,
        restaurant_id: uuid.UUID | None = None,
        *,
        item_ids: Collection[uuid.UUID] | None = None,
    ) -> Sequence[OutletItem]:
        query = select(OutletItem).order_by(OutletItem.restaurant_id, OutletItem.item_id)
        if restaurant_id is not None:
            query = query.where(OutletItem.restaurant_id == restaurant_id)
        if item_ids is not None:
            query = query.where(OutletItem.item_id.in_(item_ids))
        return (await self.session.scalars(query)).all()

    async def outlet_variants(
        self,
        restaurant_id: uuid.UUID | None = None,
        *,
        variant_ids: Collection[uuid.UUID] | None = None,
    ) -> Sequence[OutletVariant]:
        query = select(OutletVariant).order_by(
            OutletVariant.restaurant_id, OutletVariant.variant_id
        )
        if restaurant_id is not None:
            query = query.where(OutletVariant.restaurant_id == restaurant_id)
        if variant_ids is not None:
            query = query.where(OutletVariant.variant_id.in_(variant_ids))
        return (await self.session.scalars(query)).all()

    async def get_outlet_item(
        self, tenant_id: uuid.UUID, restaurant_id: uuid.UUID, item_id: uuid.UUID
    ) -> OutletItem | None:
        return await self.session.get(OutletItem, (tenant_id, restaurant_id, item_id))

    async def get_outlet_variant(
        self, tenant_id: uuid.UUID, restaurant_id: uuid.UUID, variant_id: uuid.UUID
    ) -> OutletVariant | None:
        return await self.session.get(OutletVariant, (tenant_id, restaurant_id, variant_id))
