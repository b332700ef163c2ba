"""Catalog payloads.

Three families:
- flat reads and writes of one entity for the admin API (`Menu`, `MenuCreate`, `MenuUpdate`...);
- the nested `…Entry` tree: a brand's whole menu as one document (export and import), whose
  variant and modifier nodes the public menu reuses;
- the public menu of one outlet at one moment (`OutletMenu`) and a priced cart line.

Money is an integer in minor units plus an ISO 4217 code; option and variant prices are in
their item's currency.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from tiffin.infra.ids import new_id

DEFAULT_TIMEZONE = "Asia/Kolkata"
MAX_MODIFIER_DEPTH = 3  # group → option → group → option → group

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DietaryTag = Literal["veg", "non_veg", "vegan", "egg", "jain", "gluten_free"]

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Money = Annotated[int, Field(ge=0, le=100_000_000, description="Minor units (paise for INR)")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=1000)]
TaxClass = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]
ImageUrl = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2048)]
Allergen = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40)
]
ClockTime = Annotated[str, StringConstraints(pattern=r"^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$")]


def _interval(value: tuple[str, str]) -> tuple[str, str]:
    start, end = value
    if start == "24:00":
        raise ValueError("an interval cannot start at 24:00")
    if start == end:
        raise ValueError("an interval needs distinct start and end")
    return value


# ["07:00", "11:00"]; an end before the start crosses midnight (["18:00", "02:00"]).
Interval = Annotated[tuple[ClockTime, ClockTime], AfterValidator(_interval)]
DayHours = Annotated[list[Interval], Field(max_length=8)]


def _full_week(value: dict[Weekday, list[tuple[str, str]]]) -> dict[Weekday, list[tuple[str, str]]]:
    """Canonical form: every weekday present, in order; a missing day is a closed day."""
    return {day: list(value.get(day, [])) for day in WEEKDAYS}


WeeklyHours = Annotated[dict[Weekday, DayHours], AfterValidator(_full_week)]
ALWAYS_OPEN: dict[Weekday, list[tuple[str, str]]] = {day: [("00:00", "24:00")] for day in WEEKDAYS}


def _always_open() -> dict[Weekday, list[tuple[str, str]]]:
    return {day: list(hours) for day, hours in ALWAYS_OPEN.items()}


class _Strict(BaseModel):
    # A misspelt field in an admin payload or an import must fail, not vanish.
    model_config = ConfigDict(extra="forbid")


class _Patch(_Strict):
    """A partial update: a field left out stays as it is. None of these fields may be null."""

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"cannot be null: {', '.join(nulls)}")
        return self


# -- restaurants (outlets) -----------------------------------------------------------------------


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError("not an IANA timezone") from e
    return value


Timezone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_timezone)]


class RestaurantCreate(BaseModel):
    slug: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    prep_minutes: int = Field(default=20, ge=0, le=240)
    timezone: Timezone = DEFAULT_TIMEZONE
    opening_hours: WeeklyHours = Field(
        default_factory=_always_open,
        description="Intervals per weekday in local time; a weekday left out is closed",
    )
    accepting_orders: bool = True


class Restaurant(RestaurantCreate):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID


class RestaurantUpdate(_Patch):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, min_length=1, max_length=500)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    prep_minutes: int | None = Field(default=None, ge=0, le=240)
    timezone: Timezone | None = None
    opening_hours: WeeklyHours | None = None
    accepting_orders: bool | None = None


class SpecialDaySet(_Strict):
    """A holiday override of one local date: `closed`, or these hours instead of the week's."""

    closed: bool = False
    hours: DayHours = Field(default_factory=list)
    note: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _closed_or_hours(self) -> Self:
        if self.closed == bool(self.hours):
            raise ValueError("set either closed or some hours")
        return self


class SpecialDay(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    closed: bool
    hours: list[tuple[str, str]]
    note: str


# -- menus, flat ---------------------------------------------------------------------------------


class MenuSchedule(_Strict):
    """When a brand's menu is served, in each outlet's local time. No hours: all day."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)
    hours: list[Interval] = Field(default_factory=list, max_length=8)

    @field_validator("days")
    @classmethod
    def _days_in_week_order(cls, value: list[Weekday]) -> list[Weekday]:
        return [day for day in WEEKDAYS if day in value]


class MenuCreate(_Strict):
    name: Name
    description: Description = ""
    schedule: MenuSchedule = Field(default_factory=MenuSchedule)


class MenuUpdate(_Patch):
    name: Name | None = None
    description: Description | None = None
    schedule: MenuSchedule | None = None
    position: int | None = Field(default=None, ge=0, description="Move to this index")


class Menu(MenuCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: uuid.UUID
    position: int


class CategoryCreate(_Strict):
    name: Name
    description: Description = ""


class CategoryUpdate(_Patch):
    name: Name | None = None
    description: Description | None = None
    position: int | None = Field(default=None, ge=0)


class Category(CategoryCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: uuid.UUID
    menu_id: uuid.UUID
    position: int


class MenuItemCreate(_Strict):
    name: Name
    description: Description = ""
    image_urls: list[ImageUrl] = Field(default_factory=list, max_length=10)
    dietary_tags: list[DietaryTag] = Field(default_factory=list, max_length=6)
    allergens: list[Allergen] = Field(default_factory=list, max_length=20)
    tax_class: TaxClass = "gst_5"
    price_minor: Money
    currency: Currency


class MenuItemUpdate(_Patch):
    name: Name | None = None
    description: Description | None = None
    image_urls: list[ImageUrl] | None = Field(default=None, max_length=10)
    dietary_tags: list[DietaryTag] | None = Field(default=None, max_length=6)
    allergens: list[Allergen] | None = Field(default=None, max_length=20)
    tax_class: TaxClass | None = None
    price_minor: Money | None = None
    currency: Currency | None = None
    category_id: uuid.UUID | None = Field(default=None, description="Move to this category")
    position: int | None = Field(default=None, ge=0)


class MenuItem(MenuItemCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: uuid.UUID
    category_id: uuid.UUID
    position: int


class VariantCreate(_Strict):
    name: Name
    price_minor: Money


class VariantUpdate(_Patch):
    name: Name | None = None
    price_minor: Money | None = None
    position: int | None = Field(default=None, ge=0)


class Variant(VariantCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: uuid.UUID
    item_id: uuid.UUID
    position: int


class ModifierGroupCreate(_Strict):
    name: Name
    min_select: int = Field(default=0, ge=0, le=50)
    max_select: int = Field(default=1, ge=1, le=50)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Self:
        if self.min_select > self.max_select:
            raise ValueError("min_select exceeds max_select")
        return self


class ModifierGroupUpdate(_Patch):
    name: Name | None = None
    min_select: int | None = Field(default=None, ge=0, le=50)
    max_select: int | None = Field(default=None, ge=1, le=50)
    position: int | None = Field(default=None, ge=0)


class ModifierGroup(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    item_id: uuid.UUID | None = Field(description="Set on a group of an item")
    parent_option_id: uuid.UUID | None = Field(description="Set on a group nested in an option")
    name: str
    min_select: int
    max_select: int
    position: int


class ModifierOptionCreate(_Strict):
    name: Name
    price_minor: Money = 0


class ModifierOptionUpdate(_Patch):
    name: Name | None = None
    price_minor: Money | None = None
    position: int | None = Field(default=None, ge=0)


class ModifierOption(ModifierOptionCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: uuid.UUID
    group_id: uuid.UUID
    position: int


class OutletItemUpdate(_Strict):
    """An outlet's overrides of a brand item; a field left out stays as it is, a null price
    clears that override."""

    price_minor: Money | None = None
    in_stock: bool | None = None
    hidden: bool | None = None
    variant_prices: dict[uuid.UUID, Money | None] | None = Field(
        default=None, description="Per-variant price overrides; null clears one"
    )

    @model_validator(mode="after")
    def _no_null_flags(self) -> Self:
        nulls = sorted(
            name
            for name in ("in_stock", "hidden", "variant_prices")
            if name in self.model_fields_set and getattr(self, name) is None
        )
        if nulls:
            raise ValueError(f"cannot be null: {', '.join(nulls)}")
        return self


class OutletItem(BaseModel):
    restaurant_id: uuid.UUID
    item_id: uuid.UUID
    price_minor: int | None
    in_stock: bool
    hidden: bool
    variant_prices: dict[uuid.UUID, int]


# -- the menu as one document (export, import; nodes reused by the public menu) ---------------


class VariantEntry(_Strict):
    id: uuid.UUID = Field(default_factory=new_id)
    name: Name
    price_minor: Money


class ModifierOptionEntry(_Strict):
    id: uuid.UUID = Field(default_factory=new_id)
    name: Name
    price_minor: Money = 0
    modifier_groups: list[ModifierGroupEntry] = Field(default_factory=list, max_length=10)


class ModifierGroupEntry(_Strict):
    id: uuid.UUID = Field(default_factory=new_id)
    name: Name
    min_select: int = Field(default=0, ge=0, le=50)
    max_select: int = Field(default=1, ge=1, le=50)
    options: list[ModifierOptionEntry] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _selectable(self) -> Self:
        if self.min_select > self.max_select:
            raise ValueError("min_select exceeds max_select")
        if self.min_select > len(self.options):
            raise ValueError("min_select exceeds the number of options")
        return self


def modifier_depth(groups: list[ModifierGroupEntry]) -> int:
    """How many group levels deep a modifier tree goes (0 for none)."""
    if not groups:
        return 0
    return 1 + max(
        (modifier_depth(option.modifier_groups) for g in groups for option in g.options),
        default=0,
    )


class ItemEntry(_Strict):
    id: uuid.UUID = Field(default_factory=new_id)
    name: Name
    description: Description = ""
    image_urls: list[ImageUrl] = Field(default_factory=list, max_length=10)
    dietary_tags: list[DietaryTag] = Field(default_factory=list, max_length=6)
    allergens: list[Allergen] = Field(default_factory=list, max_length=20)
    tax_class: TaxClass = "gst_5"
    price_minor: Money = Field(description="The price when the item has no variants")
    currency: Currency
    variants: list[VariantEntry] = Field(default_factory=list, max_length=20)
    modifier_groups: list[ModifierGroupEntry] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _shape(self) -> Self:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("variant names repeat")
        if modifier_depth(self.modifier_groups) > MAX_MODIFIER_DEPTH:
            raise ValueError(f"modifier groups nest deeper than {MAX_MODIFIER_DEPTH} levels")
        return self


class CategoryEntry(_Strict):
    id: uuid.UUID = Field(default_factory=new_id)
    name: Name
    description: Description = ""
    items: list[ItemEntry] = Field(default_factory=list, max_length=500)


class MenuEntry(_Strict):
    id: uuid.UUID = Field(default_factory=new_id)
    name: Name
    description: Description = ""
    schedule: MenuSchedule = Field(default_factory=MenuSchedule)
    categories: list[CategoryEntry] = Field(default_factory=list, max_length=100)


class CatalogDocument(_Strict):
    """A brand's whole menu. Ids are kept on import (so outlet overrides survive) and made up
    where missing; order gives positions."""

    menus: list[MenuEntry] = Field(default_factory=list, max_length=50)


ModifierOptionEntry.model_rebuild()


# -- the public menu of one outlet ---------------------------------------------------------------


class AvailableItem(ItemEntry):
    """An item as one outlet sells it: prices with the outlet's overrides applied."""

    in_stock: bool


class AvailableCategory(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    items: list[AvailableItem]


class AvailableMenu(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    schedule: MenuSchedule
    categories: list[AvailableCategory]


class OutletInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    address: str
    latitude: float
    longitude: float
    timezone: str
    prep_minutes: int


class OutletMenu(BaseModel):
    """What an app shows for one outlet at one moment: whether it takes orders, and the menus
    served then. Closed outlets still list their menus, so customers can browse."""

    restaurant: OutletInfo
    open: bool
    accepting_orders: bool
    menus: list[AvailableMenu]


# -- pricing a cart line -------------------------------------------------------------------------


class ChosenOption(_Strict):
    option_id: uuid.UUID
    options: list[ChosenOption] = Field(
        default_factory=list, max_length=50, description="Choices in this option's nested groups"
    )


class CartLine(_Strict):
    item_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    quantity: int = Field(default=1, ge=1, le=99)
    options: list[ChosenOption] = Field(default_factory=list, max_length=50)


class PricedOption(BaseModel):
    group_id: uuid.UUID
    group_name: str
    option_id: uuid.UUID
    name: str
    price_minor: int
    options: list[PricedOption]


class PricedCartLine(BaseModel):
    """One line, priced: `unit_price_minor` = variant (or item) price + every chosen option,
    `total_minor` = unit * quantity. Options come in catalog order, so equal choices give
    equal lines."""

    restaurant_id: uuid.UUID
    item_id: uuid.UUID
    name: str
    variant_id: uuid.UUID | None
    variant_name: str | None
    options: list[PricedOption]
    quantity: int
    unit_price_minor: int
    total_minor: int
    currency: str
    tax_class: str
