"""Pricing a cart line: the outlet refuses what it cannot sell, precisely, and prices the rest."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.catalog.factories import create_restaurant, find, price, problem_type
from tests.fixtures.tenants import Brand


@pytest.fixture
def biryani(menu: dict[str, Any]) -> dict[str, Any]:
    return find(menu, "Chicken Biryani")


def opt(node: dict[str, Any], name: str, *nested: dict[str, Any]) -> dict[str, Any]:
    return {"option_id": find(node, name)["id"], "options": list(nested)}


class TestPricing:
    async def test_a_line_sums_variant_and_options_at_every_level_times_quantity(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        outlet: dict[str, Any],
        biryani: dict[str, Any],
    ) -> None:
        line = {
            "item_id": biryani["id"],
            "variant_id": find(biryani, "Half")["id"],
            "quantity": 3,
            "options": [
                opt(biryani, "Salan"),
                opt(biryani, "Lassi", opt(biryani, "Salted")),
                opt(biryani, "Raita"),
            ],
        }
        response = await price(client, brand, outlet["id"], line)
        assert response.status_code == 200, response.text
        body = response.json()
        unit = 21900 + 6900 + 500 + 3000 + 2500
        assert (body["unit_price_minor"], body["total_minor"]) == (unit, unit * 3)
        assert (body["currency"], body["tax_class"], body["variant_name"]) == (
            "INR",
            "gst_5",
            "Half",
        )
        # Catalog order, whatever order the choices came in: equal lines compare equal.
        assert [o["name"] for o in body["options"]] == ["Lassi", "Raita", "Salan"]
        assert body["options"][0]["options"][0]["name"] == "Salted"

    async def test_an_item_without_variants_uses_its_own_price(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        dal = find(menu, "Dal Makhani")
        response = await price(
            client, brand, outlet["id"], {"item_id": dal["id"], "options": [opt(dal, "Naan")]}
        )
        assert response.json()["unit_price_minor"] == 22900 + 4000
        assert response.json()["variant_id"] is None

    async def test_pricing_stores_nothing_and_a_quantity_must_be_positive(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        chaas = find(menu, "Masala Chaas")
        response = await price(client, brand, outlet["id"], {"item_id": chaas["id"], "quantity": 0})
        assert response.status_code == 422


class TestVariants:
    async def test_an_item_sold_in_variants_needs_one(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        outlet: dict[str, Any],
        biryani: dict[str, Any],
    ) -> None:
        response = await price(client, brand, outlet["id"], {"item_id": biryani["id"]})
        assert response.status_code == 422
        assert problem_type(response) == "variant-required"
        assert len(response.json()["variants"]) == 2

    async def test_a_variant_of_another_item_is_unknown(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        dal, half = find(menu, "Dal Makhani"), find(menu, "Half")
        line = {"item_id": dal["id"], "variant_id": half["id"], "options": [opt(dal, "Roti")]}
        response = await price(client, brand, outlet["id"], line)
        assert problem_type(response) == "unknown-variant"


class TestModifierRules:
    async def test_a_required_group_left_empty_is_too_few(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        dal = find(menu, "Dal Makhani")
        response = await price(client, brand, outlet["id"], {"item_id": dal["id"]})
        assert response.status_code == 422
        assert problem_type(response) == "too-few-modifiers"
        body = response.json()
        assert (body["group"], body["min_select"], body["max_select"], body["chosen"]) == (
            "Bread",
            1,
            1,
            0,
        )

    async def test_more_choices_than_a_group_allows_is_too_many(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        outlet: dict[str, Any],
        biryani: dict[str, Any],
    ) -> None:
        line = {
            "item_id": biryani["id"],
            "variant_id": find(biryani, "Full")["id"],
            "options": [opt(biryani, "Raita"), opt(biryani, "Salan"), opt(biryani, "Egg")],
        }
        response = await price(client, brand, outlet["id"], line)
        assert problem_type(response) == "too-many-modifiers"
        assert (response.json()["group"], response.json()["chosen"]) == ("Extras", 3)

    async def test_a_nested_group_is_checked_when_its_option_is_chosen(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        outlet: dict[str, Any],
        biryani: dict[str, Any],
    ) -> None:
        full = find(biryani, "Full")["id"]
        bare = {"item_id": biryani["id"], "variant_id": full, "options": [opt(biryani, "Lassi")]}
        response = await price(client, brand, outlet["id"], bare)
        assert problem_type(response) == "too-few-modifiers"
        assert response.json()["path"] == ["Chicken Biryani", "Add a drink", "Lassi"]
        both = opt(biryani, "Lassi", opt(biryani, "Sweet"), opt(biryani, "Salted"))
        response = await price(client, brand, outlet["id"], {**bare, "options": [both]})
        assert problem_type(response) == "too-many-modifiers"
        assert response.json()["group"] == "Sweetness"

    async def test_a_nested_group_is_not_required_when_its_option_is_not_chosen(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        outlet: dict[str, Any],
        biryani: dict[str, Any],
    ) -> None:
        line = {
            "item_id": biryani["id"],
            "variant_id": find(biryani, "Full")["id"],
            "options": [opt(biryani, "Cola")],
        }
        assert (await price(client, brand, outlet["id"], line)).status_code == 200

    async def test_an_option_chosen_at_the_wrong_level_is_unknown(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        outlet: dict[str, Any],
        biryani: dict[str, Any],
    ) -> None:
        full = find(biryani, "Full")["id"]
        top = {"item_id": biryani["id"], "variant_id": full, "options": [opt(biryani, "Sweet")]}
        response = await price(client, brand, outlet["id"], top)
        assert response.status_code == 422
        assert problem_type(response) == "unknown-option"
        assert response.json()["option_id"] == find(biryani, "Sweet")["id"]
        under_cola = {**top, "options": [opt(biryani, "Cola", opt(biryani, "Sweet"))]}
        response = await price(client, brand, outlet["id"], under_cola)
        assert problem_type(response) == "unknown-option"
        assert response.json()["path"] == ["Chicken Biryani", "Add a drink", "Cola"]

    async def test_an_option_of_another_item_is_unknown(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        dal, biryani = find(menu, "Dal Makhani"), find(menu, "Chicken Biryani")
        line = {"item_id": dal["id"], "options": [opt(dal, "Naan"), opt(biryani, "Raita")]}
        assert problem_type(await price(client, brand, outlet["id"], line)) == "unknown-option"

    async def test_the_same_option_twice_is_refused(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        outlet: dict[str, Any],
        biryani: dict[str, Any],
    ) -> None:
        line = {
            "item_id": biryani["id"],
            "variant_id": find(biryani, "Full")["id"],
            "options": [opt(biryani, "Raita"), opt(biryani, "Raita")],
        }
        response = await price(client, brand, outlet["id"], line)
        assert problem_type(response) == "option-chosen-twice"


class TestWhatTheOutletCannotSell:
    async def test_an_out_of_stock_item_is_refused_at_that_outlet_only(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        other = await create_restaurant(client, brand, slug="koramangala")
        chaas = find(menu, "Masala Chaas")
        response = await client.patch(
            f"/v1/restaurants/{outlet['id']}/items/{chaas['id']}",
            json={"in_stock": False},
            headers=brand.writer,
        )
        assert response.status_code == 200, response.text
        refused = await price(client, brand, outlet["id"], {"item_id": chaas["id"]})
        assert refused.status_code == 409
        assert problem_type(refused) == "item-out-of-stock"
        assert (
            await price(client, brand, other["id"], {"item_id": chaas["id"]})
        ).status_code == 200

    async def test_an_item_hidden_at_an_outlet_is_not_found_there(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        chaas = find(menu, "Masala Chaas")
        await client.patch(
            f"/v1/restaurants/{outlet['id']}/items/{chaas['id']}",
            json={"hidden": True},
            headers=brand.writer,
        )
        refused = await price(client, brand, outlet["id"], {"item_id": chaas["id"]})
        assert refused.status_code == 404
        assert problem_type(refused) == "menu-item-not-found"

    async def test_unknown_items_and_outlets_are_404s(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        nowhere = "01900000-0000-7000-8000-000000000000"
        chaas = {"item_id": find(menu, "Masala Chaas")["id"]}
        assert problem_type(await price(client, brand, nowhere, chaas)) == "restaurant-not-found"
        missing = await price(client, brand, outlet["id"], {"item_id": nowhere})
        assert problem_type(missing) == "menu-item-not-found"
