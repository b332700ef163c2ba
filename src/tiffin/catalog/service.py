"""The catalog: outlets and their hours, the brand's menus, per-outlet overrides, the public
menu of an outlet at a moment, and pricing a cart line against it.

Every write takes the brand's catalog revision first (a row lock: a brand's catalog writes
run one at a time) and bumps it; rendered menus are cached per process under the revision,
so any api process serves a committed change on its next request. Each write also leaves an
audit entry and an outbox event in the same transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cachetools import LRUCache
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from tiffin.catalog import hours, nodes, tree
from tiffin.catalog.errors import (
    CatalogImportInvalid,
    InvalidModifierGroup,
    ItemOutOfStock,
    ItemUnavailable,
    MenuItemNotFound,
    ModifierNestingTooDeep,
    RestaurantClosed,
    RestaurantNotFound,
    RestaurantSlugTaken,
    SpecialDayNotFound,
    VariantNotFound,
)
from tiffin.catalog.events import (
    CatalogImported,
    OutletItemChanged,
    RestaurantCreated,
    RestaurantUpdated,
)
from tiffin.catalog.models import ItemVariant, MenuCategory
from tiffin.catalog.models import Menu as MenuRow
from tiffin.catalog.models import MenuItem as MenuItemRow
from tiffin.catalog.models import ModifierGroup as ModifierGroupRow
from tiffin.catalog.models import ModifierOption as ModifierOptionRow
from tiffin.catalog.models import OutletItem as OutletItemRow
from tiffin.catalog.models import OutletVariant as OutletVariantRow
from tiffin.catalog.models import Restaurant as RestaurantRow
from tiffin.catalog.models import SpecialDay as SpecialDayRow
from tiffin.catalog.pricing import price_line
from tiffin.catalog.repository import CatalogRepository
from tiffin.catalog.schemas import (
    MAX_MODIFIER_DEPTH,
    AvailableCategory,
    AvailableMenu,
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
    MenuSchedule,
    MenuUpdate,
    ModifierGroup,
    ModifierGroupCreate,
    ModifierGroupUpdate,
    ModifierOption,
    ModifierOptionCreate,
    ModifierOptionUpdate,
    OutletInfo,
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
from tiffin.catalog.tree import ItemParts, as_sold
from tiffin.infra import audit
from tiffin.infra.bus import outbox
from tiffin.infra.clock import clock

SYSTEM = "system"


@dataclass(frozen=True)
class RenderedMenu:
    """An outlet's public menu, serialised once: `etag` is a strong hash of `body`."""

    body: bytes
    etag: str


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


class CatalogService:
    def __init__(self, *, cache_size: int = 4096) -> None:
        # (tenant, restaurant, catalog revision, minute) → rendered menu. Entries of an old
        # revision or a past minute are never asked for again and age out.
        self._rendered: LRUCache[tuple[uuid.UUID, uuid.UUID, int, datetime], RenderedMenu] = (
            LRUCache(cache_size)
        )

    # -- restaurants -------------------------------------------------------------------------
    async def create_restaurant(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        *,
        data: RestaurantCreate,
        actor: str = SYSTEM,
    ) -> Restaurant:
        repo, _ = await self._writing(session, tenant_id)
        if await repo.get_restaurant_by_slug(data.slug):
            raise RestaurantSlugTaken()
        row = RestaurantRow(tenant_id=tenant_id, **data.model_dump(mode="json"))
        await repo.add(row)
        created = Restaurant.model_validate(row)
        await audit.record(
            session,
            tenant_id,
            actor=actor,
            entity="restaurant",
            entity_id=row.id,
            action="created",
            after=_dump(created),
        )
        await outbox.append(
            session,
            RestaurantCreated(restaurant_id=row.id, name=row.name),
            tenant_id=tenant_id,
            aggregate_id=row.id,
        )
        return created

    async def list_restaurants(self, session: AsyncSession) -> list[Restaurant]:
        rows = await CatalogRepository.from_session(session).list_restaurants()
        return [Restaurant.model_validate(r) for r in rows]

    async def get_restaurant(
        self, session: AsyncSession, tenant_id: uuid.UUID, restaurant_id: uuid.UUID
    ) -> Restaurant:
        repo = CatalogRepository.from_session(session)
        return Restaurant.model_validate(await self._restaurant(repo, tenant_id, restaurant_id))

    async def update_restaurant(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        restaurant_id: uuid.UUID,
        *,
        data: RestaurantUpdate,
        actor: str,
    ) -> Restaurant:
        """Details, timezone, weekly hours, and the accepting-orders switch."""
        repo, revision = await self._writing(session, tenant_id)
        row = await self._restaurant(repo, tenant_id, restaurant_id)
        before = Restaurant.model_validate(row)
        for name, value in data.model_dump(mode="json", exclude_unset=True).items():
            setattr(row, name, value)
        await session.flush()
        after = Restaurant.model_validate(row)
        await audit.record(
            session,
            tenant_id,
            actor=actor,
            entity="restaurant",
            entity_id=row.id,
            action="updated",
            before=_dump(before),
            after=_dump(after),
        )
        await outbox.append(
            session,
            RestaurantUpdated(
                restaurant_id=row.id,
                fields=sorted(data.model_fields_set),
                accepting_orders=row.accepting_orders,
                revision=revision,
            ),
            tenant_id=tenant_id,
            aggregate_id=row.id,
        )
        return after

    async def list_special_days(
        self, session: AsyncSession, tenant_id: uuid.UUID, restaurant_id: uuid.UUID
    ) -> list[SpecialDay]:
        repo = CatalogRepository.from_session(session)
        await self._restaurant(repo, tenant_id, restaurant_id)
        return [_special_day(row) for row in await repo.special_days(restaurant_id)]

    async def set_special_day(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        restaurant_id: uuid.UUID,
        *,
        day: date,
        data: SpecialDaySet,
        actor: str,
    ) -> SpecialDay:
        """A holiday override: the outlet is closed on `day`, or keeps these hours instead."""
        repo, revision = await self._writing(session, tenant_id)
        restaurant = await self._restaurant(repo, tenant_id, restaurant_id)
        row = await repo.get_special_day(tenant_id, restaurant_id, day)
        before = _dump(_special_day(row)) if row else None
        hours_json = [list(interval) for interval in data.hours]
        if row is None:
            row = SpecialDayRow(
                tenant_id=tenant_id, restaurant_id=restaurant_id, day=day, hours=hours_json
            )
            await repo.add(row)
        row.hours, row.note = hours_json, data.note
        await session.flush()
        result = _special_day(row)
        await self._restaurant_changed(
            session,
            tenant_id,
            restaurant,
            actor=actor,
            action="special_day_set",
            before=before,
            after=_dump(result),
            revision=revision,
        )
        return result

    async def clear_special_day(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        restaurant_id: uuid.UUID,
        *,
        day: date,
        actor: str,
    ) -> None:
        repo, revision = await self._writing(session, tenant_id)
        restaurant = await self._restaurant(repo, tenant_id, restaurant_id)
        row = await repo.get_special_day(tenant_id, restaurant_id, day)
        if row is None:
            raise SpecialDayNotFound()
        before = _dump(_special_day(row))
        await repo.delete(row)
        await self._restaurant_changed(
            session,
            tenant_id,
            restaurant,
            actor=actor,
            action="special_day_cleared",
            before=before,
            after=None,
            revision=revision,
        )

    # -- menus, categories, items, variants, modifiers ----------------------------------------
    async def list_menus(self, session: AsyncSession) -> list[Menu]:
        rows = await CatalogRepository.from_session(session).nodes(MenuRow)
        return [Menu.model_validate(row) for row in rows]

    async def get_menu(
        self, session: AsyncSession, tenant_id: uuid.UUID, menu_id: uuid.UUID
    ) -> MenuEntry:
        """One menu with everything in it, at brand prices."""
        repo = CatalogRepository.from_session(session)
        menu = await nodes.need(repo, nodes.MENU, tenant_id, menu_id)
        categories = await repo.nodes(MenuCategory, MenuCategory.menu_id, [menu.id])
        items = await repo.nodes(MenuItemRow, MenuItemRow.category_id, [c.id for c in categories])
        parts = await self._parts(repo, [item.id for item in items])
        return tree.document([menu], categories, items, parts)[0]

    async def get_item(
        self, session: AsyncSession, tenant_id: uuid.UUID, item_id: uuid.UUID
    ) -> ItemEntry:
        """One item with its variants and modifier tree, at brand prices."""
        repo = CatalogRepository.from_session(session)
        item = await nodes.need(repo, nodes.ITEM, tenant_id, item_id)
        return tree.item_entry(item, await self._parts(repo, [item.id]))

    async def create_menu(
        self, session: AsyncSession, tenant_id: uuid.UUID, *, data: MenuCreate, actor: str
    ) -> Menu:
        repo, revision = await self._writing(session, tenant_id)
        return await nodes.create(
            repo, tenant_id, revision, nodes.MENU, data.model_dump(), actor=actor
        )

    async def update_menu(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        menu_id: uuid.UUID,
        *,
        data: MenuUpdate,
        actor: str,
    ) -> Menu:
        repo, revision = await self._writing(session, tenant_id)
        return await nodes.update(repo, tenant_id, revision, nodes.MENU, menu_id, data, actor=actor)

    async def delete_menu(
        self, session: AsyncSession, tenant_id: uuid.UUID, menu_id: uuid.UUID, *, actor: str
    ) -> None:
        repo, revision = await self._writing(session, tenant_id)
        await nodes.delete(repo, tenant_id, revision, nodes.MENU, menu_id, actor=actor)

    async def create_category(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        *,
        menu_id: uuid.UUID,
        data: CategoryCreate,
        actor: str,
    ) -> Category:
        repo, revision = await self._writing(session, tenant_id)
        await nodes.need(repo, nodes.MENU, tenant_id, menu_id)
        values = {"menu_id": menu_id, **data.model_dump()}
        return await nodes.create(repo, tenant_id, revision, nodes.CATEGORY, values, actor=actor)

    async def update_category(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        category_id: uuid.UUID,
        *,
        data: CategoryUpdate,
        actor: str,
    ) -> Category:
        repo, revision = await self._writing(session, tenant_id)
        return await nodes.update(
            repo, tenant_id, revision, nodes.CATEGORY, category_id, data, actor=actor
        )

    async def delete_category(
        self, session: AsyncSession, tenant_id: uuid.UUID, category_id: uuid.UUID, *, actor: str
    ) -> None:
        repo, revision = await self._writing(session, tenant_id)
        await nodes.delete(repo, tenant_id, revision, nodes.CATEGORY, category_id, actor=actor)

    async def create_item(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        *,
        category_id: uuid.UUID,
        data: MenuItemCreate,
        actor: str,
    ) -> MenuItem:
        repo, revision = await self._writing(session, tenant_id)
        await nodes.need(repo, nodes.CATEGORY, tenant_id, category_id)
        values = {"category_id": category_id, **data.model_dump()}
        return await nodes.create(repo, tenant_id, revision, nodes.ITEM, values, actor=actor)

    async def update_item(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        item_id: uuid.UUID,
        *,
        data: MenuItemUpdate,
        actor: str,
    ) -> MenuItem:
        """Also moves the item to another category (of any menu) with `category_id`."""
        repo, revision = await self._writing(session, tenant_id)
        if data.category_id is not None:
            await nodes.need(repo, nodes.CATEGORY, tenant_id, data.category_id)
        return await nodes.update(repo, tenant_id, revision, nodes.ITEM, item_id, data, actor=actor)

    async def delete_item(
        self, session: AsyncSession, tenant_id: uuid.UUID, item_id: uuid.UUID, *, actor: str
    ) -> None:
        repo, revision = await self._writing(session, tenant_id)
        await nodes.delete(repo, tenant_id, revision, nodes.ITEM, item_id, actor=actor)

    async def create_variant(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        *,
        item_id: uuid.UUID,
        data: VariantCreate,
        actor: str,
    ) -> Variant:
        repo, revision = await self._writing(session, tenant_id)
        await nodes.need(repo, nodes.ITEM, tenant_id, item_id)
        values = {"item_id": item_id, **data.model_dump()}
        return await nodes.create(repo, tenant_id, revision, nodes.VARIANT, values, actor=actor)

    async def update_variant(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        variant_id: uuid.UUID,
        *,
        data: VariantUpdate,
        actor: str,
    ) -> Variant:
        repo, revision = await self._writing(session, tenant_id)
        return await nodes.update(
            repo, tenant_id, revision, nodes.VARIANT, variant_id, data, actor=actor
        )

    async def delete_variant(
        self, session: AsyncSession, tenant_id: uuid.UUID, variant_id: uuid.UUID, *, actor: str
    ) -> None:
        repo, revision = await self._writing(session, tenant_id)
        await nodes.delete(repo, tenant_id, revision, nodes.VARIANT, variant_id, actor=actor)

    async def create_modifier_group(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        *,
        item_id: uuid.UUID | None = None,
        option_id: uuid.UUID | None = None,
        data: ModifierGroupCreate,
        actor: str,
    ) -> ModifierGroup:
        """A group offered with an item, or nested in an option: give exactly one."""
        if (item_id is None) == (option_id is None):
            raise ValueError("give item_id or option_id")
        repo, revision = await self._writing(session, tenant_id)
        if option_id is not None:
            option = await nodes.need(repo, nodes.OPTION, tenant_id, option_id)
            if await nodes.groups_above(repo, tenant_id, option) >= MAX_MODIFIER_DEPTH:
                raise ModifierNestingTooDeep(f"at most {MAX_MODIFIER_DEPTH} levels")
        else:
            await nodes.need(repo, nodes.ITEM, tenant_id, item_id)
        values = {"item_id": item_id, "parent_option_id": option_id, **data.model_dump()}
        return await nodes.create(repo, tenant_id, revision, nodes.GROUP, values, actor=actor)

    async def update_modifier_group(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        group_id: uuid.UUID,
        *,
        data: ModifierGroupUpdate,
        actor: str,
    ) -> ModifierGroup:
        def selectable(row: ModifierGroupRow) -> None:
            if row.min_select > row.max_select:
                raise InvalidModifierGroup(min_select=row.min_select, max_select=row.max_select)

        repo, revision = await self._writing(session, tenant_id)
        return await nodes.update(
            repo, tenant_id, revision, nodes.GROUP, group_id, data, actor=actor, check=selectable
        )

    async def delete_modifier_group(
        self, session: AsyncSession, tenant_id: uuid.UUID, group_id: uuid.UUID, *, actor: str
    ) -> None:
        repo, revision = await self._writing(session, tenant_id)
        await nodes.delete(repo, tenant_id, revision, nodes.GROUP, group_id, actor=actor)

    async def create_modifier_option(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        *,
        group_id: uuid.UUID,
        data: ModifierOptionCreate,
        actor: str,
    ) -> ModifierOption:
        repo, revision = await self._writing(session, tenant_id)
        await nodes.need(repo, nodes.GROUP, tenant_id, group_id)
        values = {"group_id": group_id, **data.model_dump()}
        return await nodes.create(repo, tenant_id, revision, nodes.OPTION, values, actor=actor)

    async def update_modifier_option(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        option_id: uuid.UUID,
        *,
        data: ModifierOptionUpdate,
        actor: str,
    ) -> ModifierOption:
        repo, revision = await self._writing(session, tenant_id)
        return await nodes.update(
            repo, tenant_id, revision, nodes.OPTION, option_id, data, actor=actor
        )

    async def delete_modifier_option(
        self, session: AsyncSession, tenant_id: uuid.UUID, option_id: uuid.UUID, *, actor: str
    ) -> None:
        repo, revision = await self._writing(session, tenant_id)
        await nodes.delete(repo, tenant_id, revision, nodes.OPTION, option_id, actor=actor)

    # -- outlet overrides --------------------------------------------------------------------
    async def list_outlet_items(
        self, session: AsyncSession, tenant_id: uuid.UUID, restaurant_id: uuid.UUID
    ) -> list[OutletItem]:
        """The items this outlet overrides (the others sell at brand price, in stock)."""
        repo = CatalogRepository.from_session(session)
        await self._restaurant(repo, tenant_id, restaurant_id)
        rows = await repo.outlet_items(restaurant_id)
        prices = await repo.outlet_variants(restaurant_id)
        by_item = await self._variant_prices_by_item(repo, tenant_id, prices)
        return [_outlet_item(row, by_item.get(row.item_id, {})) for row in rows]

    async def update_outlet_item(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        restaurant_id: uuid.UUID,
        item_id: uuid.UUID,
        *,
        data: OutletItemUpdate,
        actor: str,
    ) -> OutletItem:
        """Price override, stock switch and visibility of one item at one outlet."""
        repo, revision = await self._writing(session, tenant_id)
        await self._restaurant(repo, tenant_id, restaurant_id)
        await nodes.need(repo, nodes.ITEM, tenant_id, item_id)
        variant_ids = {v.id for v in await repo.nodes(ItemVariant, ItemVariant.item_id, [item_id])}
        row = await repo.get_outlet_item(tenant_id, restaurant_id, item_id)
        if row is None:
            row = OutletItemRow(
                tenant_id=tenant_id,
                restaurant_id=restaurant_id,
                item_id=item_id,
                price_minor=None,
                in_stock=True,
                hidden=False,
            )
            await repo.add(row)
        current = await repo.outlet_variants(restaurant_id, variant_ids=variant_ids)
        before = _outlet_item(row, {v.variant_id: v.price_minor for v in current})
        for name in data.model_fields_set & {"price_minor", "in_stock", "hidden"}:
            setattr(row, name, getattr(data, name))
        for variant_id, price in (data.variant_prices or {}).items():
            if variant_id not in variant_ids:
                raise VariantNotFound(f"the item has no variant {variant_id}")
            await self._set_variant_price(repo, tenant_id, restaurant_id, variant_id, price)
        await session.flush()
        current = await repo.outlet_variants(restaurant_id, variant_ids=variant_ids)
        after = _outlet_item(row, {v.variant_id: v.price_minor for v in current})
        await audit.record(
            session,
            tenant_id,
            actor=actor,
            entity="outlet_item",
            entity_id=f"{restaurant_id}:{item_id}",
            action="updated",
            before=_dump(before),
            after=_dump(after),
        )
        await outbox.append(
            session,
            OutletItemChanged(
                restaurant_id=restaurant_id,
                item_id=item_id,
                price_minor=row.price_minor,
                in_stock=row.in_stock,
                hidden=row.hidden,
                revision=revision,
            ),
            tenant_id=tenant_id,
            aggregate_id=restaurant_id,
        )
        return after

    # -- the whole menu as one document ------------------------------------------------------
    async def export_catalog(self, session: AsyncSession, tenant_id: uuid.UUID) -> CatalogDocument:
        repo = CatalogRepository.from_session(session)
        parts = ItemParts.of(
            await repo.nodes(ItemVariant),
            await repo.nodes(ModifierGroupRow),
            await repo.nodes(ModifierOptionRow),
        )
        menus = tree.document(
            await repo.nodes(MenuRow),
            await repo.nodes(MenuCategory),
            await repo.nodes(MenuItemRow),
            parts,
        )
        return CatalogDocument(menus=menus)

    async def import_catalog(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        *,
        document: CatalogDocument,
        actor: str,
    ) -> CatalogDocument:
        """Replaces every menu of the brand with `document`, in the caller's transaction.
        Entities keep the ids the document gives, so outlet overrides of the items and
        variants that remain are kept; the others go with their items."""
        if errors := tree.repeated_ids(document):
            raise CatalogImportInvalid(errors=errors)
        repo, revision = await self._writing(session, tenant_id)
        before = await self.export_catalog(session, tenant_id)
        kept_items = [_columns(row) for row in await repo.outlet_items()]
        kept_variants = [_columns(row) for row in await repo.outlet_variants()]
        await repo.delete_all_menus()
        rows = tree.rows_of(document, tenant_id)
        for model, batch in rows.batches:
            await repo.insert_many(model, batch)
        items = {
            row["id"] for model, batch in rows.batches if model is MenuItemRow for row in batch
        }
        variants = {
            row["id"] for model, batch in rows.batches if model is ItemVariant for row in batch
        }
        await repo.insert_many(OutletItemRow, [r for r in kept_items if r["item_id"] in items])
        await repo.insert_many(
            OutletVariantRow, [r for r in kept_variants if r["variant_id"] in variants]
        )
        after = await self.export_catalog(session, tenant_id)
        await audit.record(
            session,
            tenant_id,
            actor=actor,
            entity="catalog",
            entity_id=tenant_id,
            action="imported",
            before=_dump(before),
            after=_dump(after),
        )
        await outbox.append(
            session,
            CatalogImported(menus=len(document.menus), items=len(items), revision=revision),
            tenant_id=tenant_id,
            aggregate_id=tenant_id,
        )
        return after

    # -- what an outlet sells, now ------------------------------------------------------------
    async def outlet_menu(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        restaurant_id: uuid.UUID,
        *,
        at: datetime | None = None,
    ) -> OutletMenu:
        """Whether the outlet is open at `at` (default now; a naive time is the outlet's
        local time), and the menus served then at the outlet's prices and stock."""
        repo = CatalogRepository.from_session(session)
        restaurant = await self._restaurant(repo, tenant_id, restaurant_id)
        local = hours.local_time(at or clock.now(), restaurant.timezone)
        menus = [
            menu
            for menu in await repo.nodes(MenuRow)
            if hours.is_served(MenuSchedule.model_validate(menu.schedule), local)
        ]
        categories = await repo.nodes(MenuCategory, MenuCategory.menu_id, [m.id for m in menus])
        items = await repo.nodes(MenuItemRow, MenuItemRow.category_id, [c.id for c in categories])
        item_ids = [item.id for item in items]
        parts = await self._parts(repo, item_ids)
        overrides = {
            o.item_id: o for o in await repo.outlet_items(restaurant_id, item_ids=item_ids)
        }
        variant_prices = {
            v.variant_id: v.price_minor
            for v in await repo.outlet_variants(
                restaurant_id, variant_ids=[v.id for vs in parts.variants.values() for v in vs]
            )
        }
        available = []
        for menu in tree.document(menus, categories, items, parts):
            sections = []
            for category in menu.categories:
                sold = [as_sold(i, overrides.get(i.id), variant_prices) for i in category.items]
                if shown := [item for item in sold if item is not None]:
                    sections.append(
                        AvailableCategory(
                            id=category.id,
                            name=category.name,
                            description=category.description,
                            items=shown,
                        )
                    )
            if sections:
                available.append(
                    AvailableMenu(
                        id=menu.id,
                        name=menu.name,
                        description=menu.description,
                        schedule=menu.schedule,
                        categories=sections,
                    )
                )
        return OutletMenu(
            restaurant=OutletInfo.model_validate(restaurant),
            open=await self._is_open(repo, restaurant, local),
            accepting_orders=restaurant.accepting_orders,
            menus=available,
        )

    async def render_menu(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        restaurant_id: uuid.UUID,
        *,
        at: datetime | None = None,
    ) -> RenderedMenu:
        """`outlet_menu` as JSON with its ETag, cached per catalog revision and minute."""
        at = at or clock.now()
        revision = await CatalogRepository.from_session(session).revision(tenant_id)
        key = (tenant_id, restaurant_id, revision, at.replace(second=0, microsecond=0))
        if (cached := self._rendered.get(key)) is not None:
            return cached
        menu = await self.outlet_menu(session, tenant_id, restaurant_id, at=at)
        body = menu.model_dump_json().encode()
        rendered = self._rendered[key] = RenderedMenu(body=body, etag=_etag(body))
        return rendered

    async def price_cart_line(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        restaurant_id: uuid.UUID,
        *,
        line: CartLine,
        at: datetime | None = None,
    ) -> PricedCartLine:
        """Checks that the outlet can sell `line` at `at` (default now; naive is local) and
        prices it. Refuses, in this order: unknown restaurant or item (or one the outlet
        hides), outlet closed or not accepting orders, item's menu not served then, item out
        of stock, then variant and modifier choices that break the item's rules."""
        repo = CatalogRepository.from_session(session)
        restaurant = await self._restaurant(repo, tenant_id, restaurant_id)
        found = await repo.item_in_menu(tenant_id, line.item_id)
        if found is None:
            raise MenuItemNotFound(item_id=str(line.item_id))
        item, menu = found
        override = await repo.get_outlet_item(tenant_id, restaurant_id, item.id)
        if override is not None and override.hidden:
            raise MenuItemNotFound("this outlet does not sell the item", item_id=str(item.id))
        local = hours.local_time(at or clock.now(), restaurant.timezone)
        if not restaurant.accepting_orders:
            raise RestaurantClosed(f"{restaurant.name} is not accepting orders")
        if not await self._is_open(repo, restaurant, local):
            raise RestaurantClosed(f"{restaurant.name} is closed at {local:%a %H:%M}")
        schedule = MenuSchedule.model_validate(menu.schedule)
        if not hours.is_served(schedule, local):
            raise ItemUnavailable(
                f"{item.name!r} is on {menu.name!r}, served {hours.describe(schedule)}",
                menu_id=str(menu.id),
            )
        if override is not None and not override.in_stock:
            raise ItemOutOfStock(f"{item.name!r} is out of stock", item_id=str(item.id))
        parts = await self._parts(repo, [item.id])
        variant_prices = {
            v.variant_id: v.price_minor
            for v in await repo.outlet_variants(
                restaurant_id, variant_ids=[v.id for v in parts.variants.get(item.id, ())]
            )
        }
        sold = as_sold(tree.item_entry(item, parts), override, variant_prices)
        assert sold is not None  # hidden items were refused above
        return price_line(restaurant_id, sold, line)

    # -- helpers -----------------------------------------------------------------------------
    async def _writing(
        self, session: AsyncSession, tenant_id: uuid.UUID
    ) -> tuple[CatalogRepository, int]:
        """Every write starts here: it takes the brand's catalog revision (a row lock held to
        the end of the transaction, so a brand's catalog writes run one at a time) and bumps
        it, which retires every menu rendered before."""
        repo = CatalogRepository.from_session(session)
        return repo, await repo.bump_revision(tenant_id)

    async def _restaurant(
        self, repo: CatalogRepository, tenant_id: uuid.UUID, restaurant_id: uuid.UUID
    ) -> RestaurantRow:
        row = await repo.get_restaurant(tenant_id, restaurant_id)
        if row is None:
            raise RestaurantNotFound()
        return row

    async def _is_open(
        self, repo: CatalogRepository, restaurant: RestaurantRow, local: datetime
    ) -> bool:
        days = {local.date(), local.date() - timedelta(days=1)}
        special = {d.day: d.hours for d in await repo.special_days(restaurant.id, days=days)}
        return restaurant.accepting_orders and hours.is_open(
            restaurant.opening_hours, special, local
        )

    async def _parts(self, repo: CatalogRepository, item_ids: Sequence[uuid.UUID]) -> ItemParts:
        """Variants and the whole modifier tree of these items, one level at a time."""
        variants = await repo.nodes(ItemVariant, ItemVariant.item_id, item_ids)
        groups: list[ModifierGroupRow] = []
        options: list[ModifierOptionRow] = []
        level = await repo.nodes(ModifierGroupRow, ModifierGroupRow.item_id, item_ids)
        while level:
            groups += level
            found = await repo.nodes(
                ModifierOptionRow, ModifierOptionRow.group_id, [g.id for g in level]
            )
            options += found
            level = await repo.nodes(
                ModifierGroupRow, ModifierGroupRow.parent_option_id, [o.id for o in found]
            )
        return ItemParts.of(variants, groups, options)

    async def _restaurant_changed(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        restaurant: RestaurantRow,
        *,
        actor: str,
        action: str,
        before: Any,
        after: Any,
        revision: int,
    ) -> None:
        await audit.record(
            session,
            tenant_id,
            actor=actor,
            entity="restaurant",
            entity_id=restaurant.id,
            action=action,
            before=before,
            after=after,
        )
        await outbox.append(
            session,
            RestaurantUpdated(
                restaurant_id=restaurant.id,
                fields=["special_days"],
                accepting_orders=restaurant.accepting_orders,
                revision=revision,
            ),
            tenant_id=tenant_id,
            aggregate_id=restaurant.id,
        )

    async def _set_variant_price(
        self,
        repo: CatalogRepository,
        tenant_id: uuid.UUID,
        restaurant_id: uuid.UUID,
        variant_id: uuid.UUID,
        price: int | None,
    ) -> None:
        row = await repo.get_outlet_variant(tenant_id, restaurant_id, variant_id)
        if price is None:
            if row is not None:
                await repo.delete(row)
        elif row is None:
            await repo.add(
                OutletVariantRow(
                    tenant_id=tenant_id,
                    restaurant_id=restaurant_id,
                    variant_id=variant_id,
                    price_minor=price,
                )
            )
        else:
            row.price_minor = price

    async def _variant_prices_by_item(
        self, repo: CatalogRepository, tenant_id: uuid.UUID, prices: Sequence[OutletVariantRow]
    ) -> dict[uuid.UUID, dict[uuid.UUID, int]]:
        variants = await repo.nodes(ItemVariant, ItemVariant.id, [p.variant_id for p in prices])
        item_of = {variant.id: variant.item_id for variant in variants}
        by_item: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
        for price in prices:
            by_item.setdefault(item_of[price.variant_id], {})[price.variant_id] = price.price_minor
        return by_item


def _special_day(row: SpecialDayRow) -> SpecialDay:
    return SpecialDay(
        day=row.day,
        closed=not row.hours,
        hours=[(start, end) for start, end in row.hours],
        note=row.note,
    )


def _outlet_item(row: OutletItemRow, variant_prices: dict[uuid.UUID, int]) -> OutletItem:
    return OutletItem(
        restaurant_id=row.restaurant_id,
        item_id=row.item_id,
        price_minor=row.price_minor,
        in_stock=row.in_stock,
        hidden=row.hidden,
        variant_prices=variant_prices,
    )


def _columns(row: OutletItemRow | OutletVariantRow) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


catalog = CatalogService()
