"""A brand's whole menu travels as one JSON document: export, then import it back unchanged."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from tests.catalog.conftest import DOCUMENT
from tests.catalog.factories import find, import_menu, item_names, outlet_menu, problem_type
from tests.fixtures.tenants import Brand


async def export(client: httpx.AsyncClient, brand: Brand) -> dict[str, Any]:
    response = await client.get("/v1/catalog/export", headers=brand.writer)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestRoundTrip:
    async def test_export_import_export_gives_the_same_document(
        self, client: httpx.AsyncClient, brand: Brand, menu: dict[str, Any]
    ) -> None:
        first = await export(client, brand)
        assert first == menu
        reimported = await import_menu(client, brand, first)
        second = await export(client, brand)
        assert reimported == second == first

    async def test_the_document_keeps_order_and_every_field(
        self, client: httpx.AsyncClient, brand: Brand, menu: dict[str, Any]
    ) -> None:
        document = await export(client, brand)
        assert [m["name"] for m in document["menus"]] == ["All day", "Breakfast", "Weekday lunch"]
        biryani = find(document, "Chicken Biryani")
        assert biryani["image_urls"] == ["https://img.example/biryani.jpg"]
        assert (biryani["dietary_tags"], biryani["allergens"]) == (["non_veg"], ["dairy"])
        assert [v["name"] for v in biryani["variants"]] == ["Half", "Full"]
        lassi = find(biryani, "Lassi")
        assert [o["name"] for o in lassi["modifier_groups"][0]["options"]] == ["Sweet", "Salted"]
        lunch = find(document, "Weekday lunch")
        assert lunch["schedule"] == {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "hours": [["12:00", "15:00"]],
        }

    async def test_an_import_replaces_every_menu(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        smaller = {"menus": [copy.deepcopy(DOCUMENT["menus"][1])]}
        smaller["menus"][0]["schedule"] = {}
        await import_menu(client, brand, smaller)
        document = await export(client, brand)
        assert [m["name"] for m in document["menus"]] == ["Breakfast"]
        body = await outlet_menu(client, brand, outlet["id"], "2026-01-05T20:00")
        assert item_names(body) == ["Masala Dosa"]

    async def test_overrides_of_items_kept_by_id_survive_an_import(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        chaas, dal = find(menu, "Masala Chaas"), find(menu, "Dal Makhani")
        for item, fields in ((chaas, {"price_minor": 9900}), (dal, {"in_stock": False})):
            response = await client.patch(
                f"/v1/restaurants/{outlet['id']}/items/{item['id']}",
                json=fields,
                headers=brand.writer,
            )
            assert response.status_code == 200
        document = await export(client, brand)
        mains = find(document, "Mains")
        mains["items"] = [i for i in mains["items"] if i["name"] != "Dal Makhani"]
        await import_menu(client, brand, document)
        listed = await client.get(f"/v1/restaurants/{outlet['id']}/items", headers=brand.writer)
        assert [(o["item_id"], o["price_minor"]) for o in listed.json()] == [(chaas["id"], 9900)]


class TestInvalidImports:
    async def test_every_error_of_the_document_is_listed_and_nothing_changes(
        self, client: httpx.AsyncClient, brand: Brand, menu: dict[str, Any]
    ) -> None:
        bad = copy.deepcopy(DOCUMENT)
        bad["menus"][0]["categories"][0]["items"][0]["price_minor"] = -1
        bad["menus"][0]["categories"][0]["items"][1]["modifier_groups"][0]["min_select"] = 3
        bad["menus"][0]["categories"][1]["items"][0]["currency"] = "rupees"
        bad["menus"][1]["schedule"]["hours"] = [["07:00", "07:00"]]
        bad["menus"][2]["categories"][0]["items"][0]["colour"] = "red"
        response = await client.put("/v1/catalog/import", json=bad, headers=brand.writer)
        assert response.status_code == 422
        assert problem_type(response) == "validation-error"
        locations = {tuple(e["loc"][1:6]) for e in response.json()["errors"]}
        assert locations >= {
            ("menus", 0, "categories", 0, "items"),
            ("menus", 0, "categories", 1, "items"),
            ("menus", 1, "schedule", "hours", 0),
            ("menus", 2, "categories", 0, "items"),
        }
        messages = " ".join(e["msg"] for e in response.json()["errors"])
        assert "min_select exceeds" in messages
        assert len(response.json()["errors"]) >= 5
        assert await export(client, brand) == menu

    async def test_ids_used_twice_are_listed(
        self, client: httpx.AsyncClient, brand: Brand, menu: dict[str, Any]
    ) -> None:
        document = await export(client, brand)
        drinks = find(document, "Drinks")
        twin = {**copy.deepcopy(drinks["items"][0]), "name": "Twin"}
        drinks["items"].append(twin)
        lassi = find(document, "Lassi")
        lassi["modifier_groups"][0]["options"].append(
            {**lassi["modifier_groups"][0]["options"][0], "name": "Again"}
        )
        response = await client.put("/v1/catalog/import", json=document, headers=brand.writer)
        assert response.status_code == 422
        assert problem_type(response) == "catalog-import-invalid"
        errors = response.json()["errors"]
        assert [e["type"] for e in errors] == ["duplicate_id", "duplicate_id"]
        assert errors[1]["loc"] == ["menus", 0, "categories", 1, "items", 1, "id"]

    async def test_modifiers_may_not_nest_deeper_than_three_levels(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        group: dict[str, Any] = {"name": "L4", "options": [{"name": "x"}]}
        for level in ("L3", "L2", "L1"):
            group = {"name": level, "options": [{"name": "x", "modifier_groups": [group]}]}
        item = {"name": "Deep", "price_minor": 1, "currency": "INR", "modifier_groups": [group]}
        document = {"menus": [{"name": "M", "categories": [{"name": "C", "items": [item]}]}]}
        response = await client.put("/v1/catalog/import", json=document, headers=brand.writer)
        assert response.status_code == 422
        assert "nest deeper" in response.json()["errors"][0]["msg"]
