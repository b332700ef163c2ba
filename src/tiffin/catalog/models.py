"""Catalog tables. The first cut: outlets and their items (menus, modifiers, schedules and
per-outlet prices come with the catalog issue)."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tiffin.infra.db import Base, TenantOwned


class Restaurant(TenantOwned, Base):
    __tablename__ = "restaurants"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    slug: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500))
    latitude: Mapped[float]
    longitude: Mapped[float]
    prep_minutes: Mapped[int] = mapped_column(default=20)


class MenuItem(TenantOwned, Base):
    __tablename__ = "menu_items"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "restaurant_id"],
            ["restaurants.tenant_id", "restaurants.id"],
            ondelete="CASCADE",
        ),
        Index("ix_menu_items_restaurant", "tenant_id", "restaurant_id"),
    )

    restaurant_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    veg: Mapped[bool] = mapped_column(default=False)
    in_stock: Mapped[bool] = mapped_column(default=True)
