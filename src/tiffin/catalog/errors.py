"""Catalog errors. Missing things are 404; a cart line the outlet cannot sell right now is 409
(it may succeed later); a choice that breaks the item's rules is 422."""

from __future__ import annotations

from tiffin.infra.http.errors import TiffinError


class RestaurantNotFound(TiffinError):
    status, type, title = 404, "restaurant-not-found", "No such restaurant"


class RestaurantSlugTaken(TiffinError):
    status, type, title = 409, "restaurant-slug-taken", "A restaurant with this slug exists"


class SpecialDayNotFound(TiffinError):
    status, type, title = 404, "special-day-not-found", "No special hours on this date"


class MenuNotFound(TiffinError):
    status, type, title = 404, "menu-not-found", "No such menu"


class CategoryNotFound(TiffinError):
    status, type, title = 404, "category-not-found", "No such menu category"


class MenuItemNotFound(TiffinError):
    status, type, title = 404, "menu-item-not-found", "No such menu item"


class VariantNotFound(TiffinError):
    status, type, title = 404, "variant-not-found", "No such variant"


class ModifierGroupNotFound(TiffinError):
    status, type, title = 404, "modifier-group-not-found", "No such modifier group"


class ModifierOptionNotFound(TiffinError):
    status, type, title = 404, "modifier-option-not-found", "No such modifier option"


class ModifierNestingTooDeep(TiffinError):
    status, type, title = 409, "modifier-nesting-too-deep", "Modifier groups nest too deep"


class InvalidModifierGroup(TiffinError):
    status, type, title = 422, "invalid-modifier-group", "min_select exceeds max_select"


class CatalogImportInvalid(TiffinError):
    status, type, title = 422, "catalog-import-invalid", "The catalog document has errors"


# -- pricing a cart line -------------------------------------------------------------------------


class RestaurantClosed(TiffinError):
    status, type, title = 409, "restaurant-closed", "The restaurant is not taking orders now"


class ItemUnavailable(TiffinError):
    status, type, title = 409, "item-unavailable", "The item is not served at this time"


class ItemOutOfStock(TiffinError):
    status, type, title = 409, "item-out-of-stock", "The item is out of stock at this outlet"


class VariantRequired(TiffinError):
    status, type, title = 422, "variant-required", "This item is sold in variants: choose one"


class UnknownVariant(TiffinError):
    status, type, title = 422, "unknown-variant", "The item has no such variant"


class UnknownOption(TiffinError):
    status, type, title = 422, "unknown-option", "No such option where it was chosen"


class OptionChosenTwice(TiffinError):
    status, type, title = 422, "option-chosen-twice", "An option was chosen twice"


class TooFewModifiers(TiffinError):
    status, type, title = 422, "too-few-modifiers", "A modifier group needs more choices"


class TooManyModifiers(TiffinError):
    status, type, title = 422, "too-many-modifiers", "A modifier group allows fewer choices"
