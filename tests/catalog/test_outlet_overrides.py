"""Outlets share the brand's menu and override price, stock and visibility per item."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.catalog.factories import (
    create_restaurant,
    find,
    item_names,
    outlet_menu,
    price,
    problem_type,
)
from tests.fixtures.tenants import Brand

LUNCH = "2026-01-05T13:00"


@pytest.fixture
async def airport(client: httpx.AsyncClient, brand: Brand, menu: dict[str, Any]) -> dict[str, Any]:
    return await create_restaurant(client, brand, slug="airport")


async def override(
    client: httpx.AsyncClient, brand: Brand, outlet_id: str, item_id: str, **fields: Any
) -> dict[str, Any]:
    response = await client.patch(
        f"/v1/restaurants/{outlet_id}/items/{item_id}", json=fields, headers=brand.writer
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestPriceOverrides:
    async def test_two_outlets_sell_the_same_item_at_different_prices(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        outlet: dict[str, Any],
        airport: dict[str, Any],
        menu: dict[str, Any],
    ) -> None:
        chaas = find(menu, "Masala Chaas")
        await override(client, brand, airport["id"], chaas["id"], price_minor=12900)
        city = await outlet_menu(client, brand, outlet["id"], LUNCH)
        terminal = await outlet_menu(client, brand, airport["id"], LUNCH)
        assert find(city, "Masala Chaas")["price_minor"] == 7900
        assert find(terminal, "Masala Chaas")["price_minor"] == 12900
        line = {"item_id": chaas["id"], "quantity": 2}
        assert (await price(client, brand, outlet["id"], line)).json()["total_minor"] == 15800
        assert (await price(client, brand, airport["id"], line)).json()["total_minor"] == 25800

    async def test_variant_prices_are_overridden_per_outlet(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        outlet: dict[str, Any],
        airport: dict[str, Any],
        menu: dict[str, Any],
    ) -> None:
        biryani = find(menu, "Chicken Biryani")
        half = find(biryani, "Half")
        body = await override(
            client, brand, airport["id"], biryani["id"], variant_prices={half["id"]: 25900}
        )
        assert body["variant_prices"] == {half["id"]: 25900}
        terminal = await outlet_menu(client, brand, airport["id"], LUNCH)
        assert find(find(terminal, "Chicken Biryani"), "Half")["price_minor"] == 25900
        city = await outlet_menu(client, brand, outlet["id"], LUNCH)
        assert find(find(city, "Chicken Biryani"), "Half")["price_minor"] == 21900
        line = {"item_id": biryani["id"], "variant_id": half["id"]}
        assert (await price(client, brand, airport["id"], line)).json()["unit_price_minor"] == 25900

    async def test_a_null_price_clears_the_override(
        self, client: httpx.AsyncClient, brand: Brand, airport: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        chaas = find(menu, "Masala Chaas")
        await override(client, brand, airport["id"], chaas["id"], price_minor=12900)
        cleared = await override(client, brand, airport["id"], chaas["id"], price_minor=None)
        assert cleared["price_minor"] is None
        terminal = await outlet_menu(client, brand, airport["id"], LUNCH)
        assert find(terminal, "Masala Chaas")["price_minor"] == 7900

    async def test_a_variant_of_another_item_cannot_be_overridden(
        self, client: httpx.AsyncClient, brand: Brand, airport: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        chaas, half = find(menu, "Masala Chaas"), find(menu, "Half")
        response = await client.patch(
            f"/v1/restaurants/{airport['id']}/items/{chaas['id']}",
            json={"variant_prices": {half["id"]: 100}},
            headers=brand.writer,
        )
        assert problem_type(response) == "variant-not-found"


class TestStockAndVisibility:
    async def test_stock_and_hiding_show_in_that_outlets_menu_only(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        outlet: dict[str, Any],
        airport: dict[str, Any],
        menu: dict[str, Any],
    ) -> None:
        chaas, dal = find(menu, "Masala Chaas"), find(menu, "Dal Makhani")
        await override(client, brand, airport["id"], chaas["id"], in_stock=False)
        await override(client, brand, airport["id"], dal["id"], hidden=True)
        terminal = await outlet_menu(client, brand, airport["id"], LUNCH)
        assert find(terminal, "Masala Chaas")["in_stock"] is False
        assert "Dal Makhani" not in item_names(terminal)
        city = await outlet_menu(client, brand, outlet["id"], LUNCH)
        assert find(city, "Masala Chaas")["in_stock"] is True
        assert "Dal Makhani" in item_names(city)

    async def test_the_outlets_overrides_are_listed(
        self, client: httpx.AsyncClient, brand: Brand, airport: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        chaas = find(menu, "Masala Chaas")
        await override(client, brand, airport["id"], chaas["id"], in_stock=False, price_minor=9900)
        listed = await client.get(f"/v1/restaurants/{airport['id']}/items", headers=brand.writer)
        assert listed.json() == [
            {
                "restaurant_id": airport["id"],
                "item_id": chaas["id"],
                "price_minor": 9900,
                "in_stock": False,
                "hidden": False,
                "variant_prices": {},
            }
        ]

    async def test_a_category_left_empty_by_hiding_is_not_shown(
        self, client: httpx.AsyncClient, brand: Brand, airport: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        await override(client, brand, airport["id"], find(menu, "Masala Chaas")["id"], hidden=True)
        terminal = await outlet_menu(client, brand, airport["id"], LUNCH)
        categories = [c["name"] for m in terminal["menus"] for c in m["categories"]]
        assert "Drinks" not in categories
