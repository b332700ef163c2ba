"""Catalog tables. Outlets (`restaurants`) belong to a brand (the tenant); menus are the
brand's and shared by its outlets, which override price, stock and visibility per item.

Every table is tenant-owned: keys, unique constraints and foreign keys start with tenant_id.
Children cascade from their parents, so deleting a menu deletes its whole tree.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tiffin.catalog.schemas import DEFAULT_TIMEZONE
from tiffin.infra.db import Base, TenantOwned

ALWAYS_OPEN_SQL = (
    """'{"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]], "wed": [["00:00", "24:00"]], """
    """"thu": [["00:00", "24:00"]], "fri": [["00:00", "24:00"]], "sat": [["00:00", "24:00"]], """
    """"sun": [["00:00", "24:00"]]}'::jsonb"""
)
ALL_DAYS_SQL = (
    """'{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "hours": []}'::jsonb"""
)


def _fk(columns: str, table: str) -> ForeignKeyConstraint:
    """A tenant-scoped foreign key (`tenant_id`, `<columns>`) that cascades deletes."""
    return ForeignKeyConstraint(
        ["tenant_id", columns], [f"{table}.tenant_id", f"{table}.id"], ondelete="CASCADE"
    )


class TreeNode(TenantOwned):
    """Mixin for a node of a menu tree, ordered among its siblings by `position`."""

    position: Mapped[int] = mapped_column(default=0)


class Restaurant(TenantOwned, Base):
    __tablename__ = "restaurants"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    slug: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500))
    latitude: Mapped[float]
    longitude: Mapped[float]
    prep_minutes: Mapped[int] = mapped_column(default=20)
    timezone: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_TIMEZONE, server_default=DEFAULT_TIMEZONE
    )
    # {"mon": [["07:00", "11:00"], ...], ...}: local time; an interval may cross midnight.
    opening_hours: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text(ALWAYS_OPEN_SQL)
    )
    accepting_orders: Mapped[bool] = mapped_column(default=True, server_default=true())


class SpecialDay(Base):
    """An outlet's hours on one local date, replacing its weekly hours (none: closed)."""

    __tablename__ = "restaurant_special_days"
    __table_args__ = (_fk("restaurant_id", "restaurants"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    hours: Mapped[list[Any]] = mapped_column(JSONB)
    note: Mapped[str] = mapped_column(String(200), default="")


class Menu(TreeNode, Base):
    __tablename__ = "menus"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    # {"days": ["mon", ...], "hours": [["07:00", "11:00"]]}; no hours: all day.
    schedule: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text(ALL_DAYS_SQL))


class MenuCategory(TreeNode, Base):
    __tablename__ = "menu_categories"
    __table_args__ = (
        _fk("menu_id", "menus"),
        Index("ix_menu_categories_menu", "tenant_id", "menu_id"),
    )

    menu_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")


class MenuItem(TreeNode, Base):
    __tablename__ = "menu_items"
    __table_args__ = (
        _fk("category_id", "menu_categories"),
        Index("ix_menu_items_category", "tenant_id", "category_id"),
    )

    category_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    image_urls: Mapped[list[str]] = mapped_column(ARRAY(String(2048)), default=list)
    dietary_tags: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list)
    allergens: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    tax_class: Mapped[str] = mapped_column(String(32), default="gst_5")
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class ItemVariant(TreeNode, Base):
    __tablename__ = "item_variants"
    __table_args__ = (
        _fk("item_id", "menu_items"),
        Index("ix_item_variants_item", "tenant_id", "item_id"),
    )

    item_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    price_minor: Mapped[int] = mapped_column(BigInteger)


class ModifierGroup(TreeNode, Base):
    """Choices offered with an item ("Add a drink"), or nested in an option of another group
    ("Lassi" → "Sweetness"): exactly one of `item_id`, `parent_option_id` is set."""

    __tablename__ = "modifier_groups"
    __table_args__ = (
        _fk("item_id", "menu_items"),
        # modifier_options refers back to this table: the migration adds this key after both.
        ForeignKeyConstraint(
            ["tenant_id", "parent_option_id"],
            ["modifier_options.tenant_id", "modifier_options.id"],
            ondelete="CASCADE",
            use_alter=True,
        ),
        CheckConstraint("(item_id IS NULL) <> (parent_option_id IS NULL)", name="one_parent"),
        CheckConstraint("min_select >= 0 AND max_select >= 1", name="selection_bounds"),
        CheckConstraint("min_select <= max_select", name="min_not_above_max"),
        Index("ix_modifier_groups_item", "tenant_id", "item_id"),
        Index("ix_modifier_groups_parent_option", "tenant_id", "parent_option_id"),
    )

    item_id: Mapped[uuid.UUID | None]
    parent_option_id: Mapped[uuid.UUID | None]
    name: Mapped[str] = mapped_column(String(200))
    min_select: Mapped[int] = mapped_column(default=0)
    max_select: Mapped[int] = mapped_column(default=1)


class ModifierOption(TreeNode, Base):
    __tablename__ = "modifier_options"
    __table_args__ = (
        _fk("group_id", "modifier_groups"),
        Index("ix_modifier_options_group", "tenant_id", "group_id"),
    )

    group_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    price_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class OutletItem(Base):
    """An outlet's overrides of a brand item. No row: brand price, in stock, shown."""

    __tablename__ = "outlet_items"
    __table_args__ = (
        _fk("restaurant_id", "restaurants"),
        _fk("item_id", "menu_items"),
        Index("ix_outlet_items_item", "tenant_id", "item_id"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    price_minor: Mapped[int | None] = mapped_column(BigInteger)
    in_stock: Mapped[bool] = mapped_column(default=True, server_default=true())
    hidden: Mapped[bool] = mapped_column(default=False, server_default=false())


class OutletVariant(Base):
    """An outlet's price of one variant."""

    __tablename__ = "outlet_variants"
    __table_args__ = (
        _fk("restaurant_id", "restaurants"),
        _fk("variant_id", "item_variants"),
        Index("ix_outlet_variants_variant", "tenant_id", "variant_id"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    variant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    price_minor: Mapped[int] = mapped_column(BigInteger)


class CatalogRevision(Base):
    """One counter per brand, bumped in the transaction of every catalog write: api processes
    key their rendered menus by it, so a committed change is seen on the next request. Writes
    take its row lock first, which also serialises a brand's catalog writes."""

    __tablename__ = "catalog_revisions"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)
