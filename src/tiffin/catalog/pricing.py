"""Checks a cart line's choices against an item as one outlet sells it, and prices it.

Pure: the service has already refused closed outlets, unserved menus and missing stock.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence

from tiffin.catalog.errors import (
    OptionChosenTwice,
    TooFewModifiers,
    TooManyModifiers,
    UnknownOption,
    UnknownVariant,
    VariantRequired,
)
from tiffin.catalog.schemas import (
    AvailableItem,
    CartLine,
    ChosenOption,
    ModifierGroupEntry,
    ModifierOptionEntry,
    PricedCartLine,
    PricedOption,
    VariantEntry,
)


def price_line(restaurant_id: uuid.UUID, item: AvailableItem, line: CartLine) -> PricedCartLine:
    variant = _variant(item, line.variant_id)
    options = _choose(item.modifier_groups, line.options, path=[item.name])
    unit = (variant.price_minor if variant else item.price_minor) + _sum(options)
    return PricedCartLine(
        restaurant_id=restaurant_id,
        item_id=item.id,
        name=item.name,
        variant_id=variant.id if variant else None,
        variant_name=variant.name if variant else None,
        options=options,
        quantity=line.quantity,
        unit_price_minor=unit,
        total_minor=unit * line.quantity,
        currency=item.currency,
        tax_class=item.tax_class,
    )


def _variant(item: AvailableItem, variant_id: uuid.UUID | None) -> VariantEntry | None:
    if variant_id is None:
        if item.variants:
            raise VariantRequired(variants=[str(v.id) for v in item.variants])
        return None
    for variant in item.variants:
        if variant.id == variant_id:
            return variant
    raise UnknownVariant(f"{item.name!r} has no variant {variant_id}", variant_id=str(variant_id))


def _choose(
    groups: Sequence[ModifierGroupEntry], chosen: Sequence[ChosenOption], *, path: list[str]
) -> list[PricedOption]:
    """Validates one level of choices (then each chosen option's nested groups) and returns
    them priced, in catalog order."""
    offered: dict[uuid.UUID, tuple[tuple[int, int], ModifierGroupEntry, ModifierOptionEntry]] = {
        option.id: ((g_index, o_index), group, option)
        for g_index, group in enumerate(groups)
        for o_index, option in enumerate(group.options)
    }
    seen: set[uuid.UUID] = set()
    for choice in chosen:
        if choice.option_id not in offered:
            where = " > ".join(path)
            raise UnknownOption(
                f"no option {choice.option_id} under {where!r}",
                option_id=str(choice.option_id),
                path=path,
            )
        if choice.option_id in seen:
            raise OptionChosenTwice(option_id=str(choice.option_id), path=path)
        seen.add(choice.option_id)

    counts = Counter(offered[choice.option_id][1].id for choice in chosen)
    for group in groups:
        count = counts[group.id]
        if count < group.min_select or count > group.max_select:
            error = TooFewModifiers if count < group.min_select else TooManyModifiers
            raise error(
                f"{group.name!r} takes {_range(group)}; {count} chosen",
                group_id=str(group.id),
                group=group.name,
                min_select=group.min_select,
                max_select=group.max_select,
                chosen=count,
                path=path,
            )

    priced = []
    for choice in sorted(chosen, key=lambda c: offered[c.option_id][0]):
        _, group, option = offered[choice.option_id]
        nested = _choose(
            option.modifier_groups, choice.options, path=[*path, group.name, option.name]
        )
        priced.append(
            PricedOption(
                group_id=group.id,
                group_name=group.name,
                option_id=option.id,
                name=option.name,
                price_minor=option.price_minor,
                options=nested,
            )
        )
    return priced


def _range(group: ModifierGroupEntry) -> str:
    if group.min_select == group.max_select:
        return f"exactly {group.min_select}"
    return f"{group.min_select} to {group.max_select}"


def _sum(options: Sequence[PricedOption]) -> int:
    return sum(option.price_minor + _sum(option.options) for option in options)
