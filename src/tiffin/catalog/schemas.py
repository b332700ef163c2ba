from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

Currency = str  # ISO 4217, checked by pattern where it enters


class RestaurantCreate(BaseModel):
    slug: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    prep_minutes: int = Field(default=20, ge=0, le=240)


class Restaurant(RestaurantCreate):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID


class MenuItemCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=1000)
    price_minor: int = Field(ge=0, description="Price in minor units (paise for INR)")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    veg: bool = False
    in_stock: bool = True


class MenuItem(MenuItemCreate):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    restaurant_id: uuid.UUID


class Menu(BaseModel):
    restaurant: Restaurant
    items: list[MenuItem]
