from __future__ import annotations

import uuid

from tiffin.infra.bus import DomainEvent


class RestaurantCreated(DomainEvent):
    type = "catalog.restaurant_created"
    restaurant_id: uuid.UUID
    name: str


class MenuItemAdded(DomainEvent):
    type = "catalog.menu_item_added"
    restaurant_id: uuid.UUID
    item_id: uuid.UUID
    price_minor: int
    currency: str
