"""Catalog events. `revision` is the brand's catalog revision after the change: consumers
holding a copy of the catalog can tell whether theirs is older."""

from __future__ import annotations

import uuid
from typing import Literal

from tiffin.infra.bus import DomainEvent

Action = Literal["created", "updated", "deleted"]


class RestaurantCreated(DomainEvent):
    type = "catalog.restaurant_created"
    restaurant_id: uuid.UUID
    name: str


class RestaurantUpdated(DomainEvent):
    type = "catalog.restaurant_updated"
    restaurant_id: uuid.UUID
    fields: list[str]
    accepting_orders: bool
    revision: int


class MenuChanged(DomainEvent):
    """Anything in a menu's tree changed: the menu, a category, an item, a variant, a
    modifier group or option."""

    type = "catalog.menu_changed"
    menu_id: uuid.UUID
    entity: str
    entity_id: uuid.UUID
    action: Action
    revision: int


class OutletItemChanged(DomainEvent):
    type = "catalog.outlet_item_changed"
    restaurant_id: uuid.UUID
    item_id: uuid.UUID
    price_minor: int | None
    in_stock: bool
    hidden: bool
    revision: int


class CatalogImported(DomainEvent):
    type = "catalog.imported"
    menus: int
    items: int
    revision: int
