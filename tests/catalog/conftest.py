"""Catalog fixtures: an outlet with known hours and a menu document covering every feature.

Times are in the outlet's zone (Asia/Kolkata, +05:30). The week of 2026-01-05 runs Monday to
Sunday 2026-01-11.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.catalog.factories import create_restaurant, import_menu
from tests.fixtures.tenants import Brand

# Every day 07:00-23:00, but Friday runs past midnight until 02:00.
HOURS = {
    **{day: [["07:00", "23:00"]] for day in ("mon", "tue", "wed", "thu", "sat", "sun")},
    "fri": [["07:00", "11:00"], ["18:00", "02:00"]],
}

SWEETNESS = {
    "name": "Sweetness",
    "min_select": 1,
    "max_select": 1,
    "options": [{"name": "Sweet"}, {"name": "Salted", "price_minor": 500}],
}

DOCUMENT: dict[str, Any] = {
    "menus": [
        {
            "name": "All day",
            "categories": [
                {
                    "name": "Mains",
                    "items": [
                        {
                            "name": "Chicken Biryani",
                            "description": "Dum-cooked",
                            "image_urls": ["https://img.example/biryani.jpg"],
                            "dietary_tags": ["non_veg"],
                            "allergens": ["dairy"],
                            "tax_class": "gst_5",
                            "price_minor": 32900,
                            "currency": "INR",
                            "variants": [
                                {"name": "Half", "price_minor": 21900},
                                {"name": "Full", "price_minor": 32900},
                            ],
                            "modifier_groups": [
                                {
                                    "name": "Add a drink",
                                    "min_select": 0,
                                    "max_select": 1,
                                    "options": [
                                        {
                                            "name": "Lassi",
                                            "price_minor": 6900,
                                            "modifier_groups": [SWEETNESS],
                                        },
                                        {"name": "Cola", "price_minor": 4000},
                                    ],
                                },
                                {
                                    "name": "Extras",
                                    "min_select": 0,
                                    "max_select": 2,
                                    "options": [
                                        {"name": "Raita", "price_minor": 3000},
                                        {"name": "Salan", "price_minor": 2500},
                                        {"name": "Egg", "price_minor": 2000},
                                    ],
                                },
                            ],
                        },
                        {
                            "name": "Dal Makhani",
                            "dietary_tags": ["veg"],
                            "price_minor": 22900,
                            "currency": "INR",
                            "modifier_groups": [
                                {
                                    "name": "Bread",
                                    "min_select": 1,
                                    "max_select": 1,
                                    "options": [
                                        {"name": "Naan", "price_minor": 4000},
                                        {"name": "Roti", "price_minor": 2500},
                                    ],
                                }
                            ],
                        },
                    ],
                },
                {
                    "name": "Drinks",
                    "items": [
                        {"name": "Masala Chaas", "price_minor": 7900, "currency": "INR"},
                    ],
                },
            ],
        },
        {
            "name": "Breakfast",
            "schedule": {"hours": [["07:00", "11:00"]]},
            "categories": [
                {
                    "name": "Breakfast",
                    "items": [{"name": "Masala Dosa", "price_minor": 12900, "currency": "INR"}],
                }
            ],
        },
        {
            "name": "Weekday lunch",
            "schedule": {
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "hours": [["12:00", "15:00"]],
            },
            "categories": [
                {
                    "name": "Thali",
                    "items": [{"name": "Lunch Thali", "price_minor": 19900, "currency": "INR"}],
                }
            ],
        },
    ]
}


@pytest.fixture
async def outlet(client: httpx.AsyncClient, brand: Brand) -> dict[str, Any]:
    return await create_restaurant(client, brand, slug="indiranagar", opening_hours=HOURS)


@pytest.fixture
async def menu(client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any]) -> dict[str, Any]:
    """The imported document, with the ids the server gave."""
    return await import_menu(client, brand, DOCUMENT)
