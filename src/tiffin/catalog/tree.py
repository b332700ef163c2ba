"""Between table rows and the nested menu document, both ways, and an outlet's view of it.

Pure: the repository reads the rows, the service decides which.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from tiffin.catalog.models import (
    ItemVariant,
    Menu,
    MenuCategory,
    MenuItem,
    ModifierGroup,
    ModifierOption,
    OutletItem,
)
from tiffin.catalog.schemas import (
    AvailableItem,
    CatalogDocument,
    CategoryEntry,
    ItemEntry,
    MenuEntry,
    MenuSchedule,
    ModifierGroupEntry,
    ModifierOptionEntry,
    VariantEntry,
)

T = TypeVar("T")


def by_parent(rows: Iterable[T], key: str) -> dict[uuid.UUID, list[T]]:
    """Rows grouped by the parent id in attribute `key`, keeping their order."""
    grouped: dict[uuid.UUID, list[T]] = defaultdict(list)
    for row in rows:
        parent = getattr(row, key)
        if parent is not None:
            grouped[parent].append(row)
    return grouped


@dataclass(frozen=True)
class ItemParts:
    """What hangs under items, each list in sibling order: variants by item, modifier groups
    by item or by option (ids never collide), options by group."""

    variants: Mapping[uuid.UUID, Sequence[ItemVariant]]
    groups: Mapping[uuid.UUID, Sequence[ModifierGroup]]
    options: Mapping[uuid.UUID, Sequence[ModifierOption]]

    @classmethod
    def of(
        cls,
        variants: Iterable[ItemVariant],
        groups: Sequence[ModifierGroup],
        options: Iterable[ModifierOption],
    ) -> ItemParts:
        return cls(
            variants=by_parent(variants, "item_id"),
            groups={**by_parent(groups, "item_id"), **by_parent(groups, "parent_option_id")},
            options=by_parent(options, "group_id"),
        )


def _groups(parent_id: uuid.UUID, parts: ItemParts) -> list[ModifierGroupEntry]:
    return [
        ModifierGroupEntry(
            id=group.id,
            name=group.name,
            min_select=group.min_select,
            max_select=group.max_select,
            options=[
                ModifierOptionEntry(
                    id=option.id,
                    name=option.name,
                    price_minor=option.price_minor,
                    modifier_groups=_groups(option.id, parts),
                )
                for option in parts.options.get(group.id, ())
            ],
        )
        for group in parts.groups.get(parent_id, ())
    ]


def item_entry(item: MenuItem, parts: ItemParts) -> ItemEntry:
    return ItemEntry(
        id=item.id,
        name=item.name,
        description=item.description,
        image_urls=list(item.image_urls),
        dietary_tags=list(item.dietary_tags),
        allergens=list(item.allergens),
        tax_class=item.tax_class,
        price_minor=item.price_minor,
        currency=item.currency,
        variants=[
            VariantEntry(id=v.id, name=v.name, price_minor=v.price_minor)
            for v in parts.variants.get(item.id, ())
        ],
        modifier_groups=_groups(item.id, parts),
    )


def document(
    menus: Sequence[Menu],
    categories: Sequence[MenuCategory],
    items: Sequence[MenuItem],
    parts: ItemParts,
) -> list[MenuEntry]:
    categories_of = by_parent(categories, "menu_id")
    items_of = by_parent(items, "category_id")
    return [
        MenuEntry(
            id=menu.id,
            name=menu.name,
            description=menu.description,
            schedule=MenuSchedule.model_validate(menu.schedule),
            categories=[
                CategoryEntry(
                    id=category.id,
                    name=category.name,
                    description=category.description,
                    items=[item_entry(item, parts) for item in items_of.get(category.id, ())],
                )
                for category in categories_of.get(menu.id, ())
            ],
        )
        for menu in menus
    ]


def as_sold(
    entry: ItemEntry, override: OutletItem | None, variant_prices: Mapping[uuid.UUID, int]
) -> AvailableItem | None:
    """The item as one outlet sells it (its price and stock there), or None if it hides it."""
    if override is not None and override.hidden:
        return None
    fields = {name: getattr(entry, name) for name in ItemEntry.model_fields}
    if override is not None and override.price_minor is not None:
        fields["price_minor"] = override.price_minor
    fields["variants"] = [
        v.model_copy(update={"price_minor": variant_prices[v.id]}) if v.id in variant_prices else v
        for v in entry.variants
    ]
    return AvailableItem(**fields, in_stock=override.in_stock if override else True)


# -- the document back into rows -----------------------------------------------------------------


@dataclass
class Rows:
    """Insert batches in an order the foreign keys accept: each modifier level's groups
    before its options, which come before the next level's groups."""

    batches: list[tuple[type[Any], list[dict[str, Any]]]]

    def counts(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for model, rows in self.batches:
            totals[model.__tablename__] += len(rows)
        return dict(totals)


def rows_of(doc: CatalogDocument, tenant_id: uuid.UUID) -> Rows:
    menus, categories, items, variants = [], [], [], []
    level: list[tuple[dict[str, Any], int, ModifierGroupEntry]] = []
    for m_pos, menu in enumerate(doc.menus):
        menus.append(
            {
                "tenant_id": tenant_id,
                "id": menu.id,
                "name": menu.name,
                "description": menu.description,
                "position": m_pos,
                "schedule": menu.schedule.model_dump(mode="json"),
            }
        )
        for c_pos, category in enumerate(menu.categories):
            categories.append(
                {
                    "tenant_id": tenant_id,
                    "id": category.id,
                    "menu_id": menu.id,
                    "name": category.name,
                    "description": category.description,
                    "position": c_pos,
                }
            )
            for i_pos, item in enumerate(category.items):
                items.append(
                    {
                        "tenant_id": tenant_id,
                        "category_id": category.id,
                        "position": i_pos,
                        **item.model_dump(exclude={"variants", "modifier_groups"}),
                    }
                )
                variants += [
                    {
                        "tenant_id": tenant_id,
                        "item_id": item.id,
                        "position": v_pos,
                        **v.model_dump(),
                    }
                    for v_pos, v in enumerate(item.variants)
                ]
                level += _owned(item.modifier_groups, {"item_id": item.id})
    batches: list[tuple[type[Any], list[dict[str, Any]]]] = [
        (Menu, menus),
        (MenuCategory, categories),
        (MenuItem, items),
        (ItemVariant, variants),
    ]
    while level:
        groups, options, deeper = [], [], []
        for owner, g_pos, group in level:
            groups.append(
                {
                    "tenant_id": tenant_id,
                    "item_id": None,
                    "parent_option_id": None,
                    **owner,
                    "id": group.id,
                    "name": group.name,
                    "min_select": group.min_select,
                    "max_select": group.max_select,
                    "position": g_pos,
                }
            )
            for o_pos, option in enumerate(group.options):
                options.append(
                    {
                        "tenant_id": tenant_id,
                        "id": option.id,
                        "group_id": group.id,
                        "name": option.name,
                        "price_minor": option.price_minor,
                        "position": o_pos,
                    }
                )
                deeper += _owned(option.modifier_groups, {"parent_option_id": option.id})
        batches += [(ModifierGroup, groups), (ModifierOption, options)]
        level = deeper
    return Rows(batches)


def _owned(
    groups: Sequence[ModifierGroupEntry], owner: dict[str, Any]
) -> list[tuple[dict[str, Any], int, ModifierGroupEntry]]:
    """Groups with their owner (`item_id` or `parent_option_id`) and their position."""
    return [(owner, position, group) for position, group in enumerate(groups)]


def repeated_ids(doc: CatalogDocument) -> list[dict[str, Any]]:
    """Every id the document uses twice for the same kind of entity."""
    seen: dict[tuple[str, uuid.UUID], str] = {}
    errors: list[dict[str, Any]] = []

    def visit(kind: str, id: uuid.UUID, loc: list[str | int]) -> None:
        where = ".".join(map(str, loc))
        if (kind, id) in seen:
            errors.append(
                {
                    "loc": [*loc, "id"],
                    "msg": f"{kind} id {id} is used at {seen[kind, id]} too",
                    "type": "duplicate_id",
                }
            )
        else:
            seen[kind, id] = where

    def groups(entries: Collection[Any], loc: list[str | int]) -> None:
        for g, group in enumerate(entries):
            visit("modifier_group", group.id, [*loc, "modifier_groups", g])
            for o, option in enumerate(group.options):
                option_loc = [*loc, "modifier_groups", g, "options", o]
                visit("modifier_option", option.id, option_loc)
                groups(option.modifier_groups, option_loc)

    for m, menu in enumerate(doc.menus):
        visit("menu", menu.id, ["menus", m])
        for c, category in enumerate(menu.categories):
            category_loc: list[str | int] = ["menus", m, "categories", c]
            visit("category", category.id, category_loc)
            for i, item in enumerate(category.items):
                item_loc = [*category_loc, "items", i]
                visit("item", item.id, item_loc)
                for v, variant in enumerate(item.variants):
                    visit("variant", variant.id, [*item_loc, "variants", v])
                groups(item.modifier_groups, item_loc)
    return errors
