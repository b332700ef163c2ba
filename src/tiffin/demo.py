"""The demo seed: two brands, each with an outlet and its hours, an all-day menu (two
categories, items with variants, a modifier group with a nested group), a breakfast menu
served 07:00-11:00, a customer and a rider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiffin.catalog.schemas import CatalogDocument, RestaurantCreate
from tiffin.catalog.service import catalog
from tiffin.config.service import config
from tiffin.identity.schemas import AccountCreate
from tiffin.identity.service import identity
from tiffin.infra.db import tenant_transaction
from tiffin.tenancy.schemas import TenantCreate
from tiffin.tenancy.service import tenants


@dataclass(frozen=True)
class DemoBrand:
    tenant: TenantCreate
    restaurant: RestaurantCreate
    menus: CatalogDocument
    customer: AccountCreate
    rider: AccountCreate


def _item(name: str, price: int, *tags: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "price_minor": price, "currency": "INR", "dietary_tags": tags, **more}


def _half_full(half: int, full: int) -> list[dict[str, Any]]:
    return [{"name": "Half", "price_minor": half}, {"name": "Full", "price_minor": full}]


def _drinks(*drinks: tuple[str, int]) -> dict[str, Any]:
    """The "Add a drink" group, with a nested "Sweetness" choice on each drink."""
    sweetness = {
        "name": "Sweetness",
        "min_select": 1,
        "max_select": 1,
        "options": [{"name": "Sweet"}, {"name": "Salted"}, {"name": "Plain"}],
    }
    return {
        "name": "Add a drink",
        "min_select": 0,
        "max_select": 1,
        "options": [
            {"name": name, "price_minor": price, "modifier_groups": [sweetness]}
            for name, price in drinks
        ],
    }


def _breakfast(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "Breakfast",
        "schedule": {"hours": [["07:00", "11:00"]]},
        "categories": [{"name": "Breakfast", "items": list(items)}],
    }


SPICE_ROUTE_MENUS = CatalogDocument.model_validate(
    {
        "menus": [
            {
                "name": "All day",
                "categories": [
                    {
                        "name": "Starters",
                        "items": [
                            _item("Paneer Tikka", 24900, "veg", allergens=["dairy"]),
                            _item(
                                "Chicken 65", 27900, "non_veg", variants=_half_full(17900, 27900)
                            ),
                        ],
                    },
                    {
                        "name": "Mains",
                        "items": [
                            _item(
                                "Chicken Biryani",
                                32900,
                                "non_veg",
                                variants=_half_full(21900, 32900),
                                modifier_groups=[_drinks(("Lassi", 6900), ("Masala Chaas", 4900))],
                            ),
                            _item("Dal Makhani", 22900, "veg", allergens=["dairy"]),
                        ],
                    },
                ],
            },
            _breakfast(
                _item("Masala Dosa", 12900, "veg"),
                _item("Idli Vada", 9900, "veg", tax_class="gst_5"),
            ),
        ]
    }
)

GREEN_BOWL_MENUS = CatalogDocument.model_validate(
    {
        "menus": [
            {
                "name": "All day",
                "categories": [
                    {
                        "name": "Bowls",
                        "items": [
                            _item(
                                "Quinoa Power Bowl",
                                29900,
                                "vegan",
                                variants=[
                                    {"name": "Regular", "price_minor": 29900},
                                    {"name": "Large", "price_minor": 37900},
                                ],
                                modifier_groups=[
                                    _drinks(("Kombucha", 14900), ("Buttermilk", 5900))
                                ],
                            ),
                            _item("Falafel Bowl", 27900, "veg", allergens=["sesame"]),
                        ],
                    },
                    {
                        "name": "Wraps",
                        "items": [
                            _item("Falafel Wrap", 19900, "veg", allergens=["gluten", "sesame"]),
                            _item("Paneer Wrap", 21900, "veg", variants=_half_full(13900, 21900)),
                        ],
                    },
                ],
            },
            _breakfast(
                _item("Overnight Oats", 17900, "vegan"),
                _item("Egg White Omelette", 18900, "egg"),
            ),
        ]
    }
)

# Local time (Asia/Kolkata); a weekday left out would be closed.
LUNCH_AND_DINNER = {
    day: [["07:00", "15:30"], ["18:00", "23:30"]] for day in ("mon", "tue", "wed", "thu")
}
LATE_WEEKEND = {day: [["07:00", "01:00"]] for day in ("fri", "sat", "sun")}

BRANDS = [
    DemoBrand(
        tenant=TenantCreate(
            slug="spice-route", name="Spice Route", domains=["spice-route.localhost"]
        ),
        restaurant=RestaurantCreate.model_validate(
            {
                "slug": "indiranagar",
                "name": "Spice Route Indiranagar",
                "address": "100 Feet Rd, Indiranagar, Bengaluru",
                "latitude": 12.9719,
                "longitude": 77.6412,
                "prep_minutes": 18,
                "opening_hours": {**LUNCH_AND_DINNER, **LATE_WEEKEND},
            }
        ),
        menus=SPICE_ROUTE_MENUS,
        customer=AccountCreate(
            kind="customer", name="Asha Rao", phone="+919800000001", email="asha@example.com"
        ),
        rider=AccountCreate(kind="rider", name="Ravi Kumar", phone="+919800000002"),
    ),
    DemoBrand(
        tenant=TenantCreate(slug="green-bowl", name="Green Bowl", domains=["green-bowl.localhost"]),
        restaurant=RestaurantCreate.model_validate(
            {
                "slug": "koramangala",
                "name": "Green Bowl Koramangala",
                "address": "80 Feet Rd, Koramangala, Bengaluru",
                "latitude": 12.9352,
                "longitude": 77.6245,
                "prep_minutes": 12,
                "opening_hours": {
                    day: [["07:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")
                },
            }
        ),
        menus=GREEN_BOWL_MENUS,
        customer=AccountCreate(
            kind="customer", name="Meera Iyer", phone="+919800000011", email="meera@example.com"
        ),
        rider=AccountCreate(kind="rider", name="Salim Khan", phone="+919800000012"),
    ),
]


def brand_config(brand: DemoBrand) -> dict[str, Any]:
    """A published look for the demo brand, so `GET /v1/app-config` answers at once."""
    primary = "#E23744" if brand.tenant.slug == "spice-route" else "#2E7D32"
    return {
        "theme": {
            "palette": {"primary": primary},
            "logo_url": f"https://cdn.example.com/{brand.tenant.slug}/logo.png",
            "dark_mode": {"enabled": True},
        },
        "pages": {
            "home": {
                "sections": [
                    {"id": "hero", "type": "banner", "props": {"title": brand.tenant.name}},
                    {"id": "menus", "type": "menu_grid"},
                    {"id": "wallet", "type": "wallet_card", "feature": "wallet"},
                    {"id": "rewards", "type": "rewards_strip", "feature": "rewards"},
                ]
            },
            "checkout": {"features": {"cash_on_delivery": True}},
        },
        "features": {"rewards": True},
    }


async def seed(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    """Creates the demo brands that do not exist yet; returns new API keys by brand slug
    (shown once: only their hashes are kept)."""
    keys: dict[str, str] = {}
    for brand in BRANDS:
        async with tenant_transaction(sessionmaker, None) as session:
            if await tenants.get_by_slug(session, brand.tenant.slug):
                continue
            tenant = await tenants.create(session, brand.tenant)
            issued = await tenants.issue_api_key(session, tenant.id, name="demo", scopes=["*"])
        async with tenant_transaction(sessionmaker, tenant.id) as session:
            await catalog.create_restaurant(session, tenant.id, data=brand.restaurant)
            await catalog.import_catalog(session, tenant.id, document=brand.menus, actor="system")
            await identity.create_account(session, tenant.id, data=brand.customer)
            await identity.create_account(session, tenant.id, data=brand.rider)
            draft = await config.create_draft(
                session, tenant.id, document=brand_config(brand), note="demo", actor="system"
            )
            await config.publish(session, tenant.id, draft.version, actor="system")
        keys[brand.tenant.slug] = issued.key
    return keys
