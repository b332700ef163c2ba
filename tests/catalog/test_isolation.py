"""Another brand can neither see nor change this brand's outlets and menus."""

from __future__ import annotations

from typing import Any

import httpx

from tests.catalog.factories import create_restaurant, find, price, problem_type
from tests.fixtures.tenants import Brand


class TestAnotherBrand:
    async def test_cannot_see_the_outlets_or_their_menus(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        other_brand: Brand,
        outlet: dict[str, Any],
        menu: dict[str, Any],
    ) -> None:
        listed = await client.get("/v1/restaurants", headers=other_brand.headers)
        assert listed.json() == []
        response = await client.get(
            f"/v1/restaurants/{outlet['id']}/menu", headers=other_brand.headers
        )
        assert problem_type(response) == "restaurant-not-found"
        exported = await client.get("/v1/catalog/export", headers=other_brand.writer)
        assert exported.json() == {"menus": []}
        item = await client.get(
            f"/v1/items/{find(menu, 'Masala Chaas')['id']}", headers=other_brand.writer
        )
        assert problem_type(item) == "menu-item-not-found"

    async def test_cannot_price_this_brands_items_even_at_its_own_outlet(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        other_brand: Brand,
        outlet: dict[str, Any],
        menu: dict[str, Any],
    ) -> None:
        theirs = await create_restaurant(client, other_brand, slug="theirs")
        chaas = {"item_id": find(menu, "Masala Chaas")["id"]}
        assert problem_type(await price(client, other_brand, theirs["id"], chaas)) == (
            "menu-item-not-found"
        )
        assert problem_type(await price(client, other_brand, outlet["id"], chaas)) == (
            "restaurant-not-found"
        )

    async def test_cannot_change_this_brands_menu_or_outlets(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        other_brand: Brand,
        outlet: dict[str, Any],
        menu: dict[str, Any],
    ) -> None:
        chaas = find(menu, "Masala Chaas")
        menu_id = menu["menus"][0]["id"]
        writes = [
            ("PATCH", f"/v1/items/{chaas['id']}", {"price_minor": 1}),
            ("DELETE", f"/v1/menus/{menu_id}", None),
            ("POST", f"/v1/menus/{menu_id}/categories", {"name": "x"}),
            ("PATCH", f"/v1/restaurants/{outlet['id']}", {"accepting_orders": False}),
            ("PATCH", f"/v1/restaurants/{outlet['id']}/items/{chaas['id']}", {"in_stock": False}),
        ]
        for method, path, body in writes:
            response = await client.request(method, path, json=body, headers=other_brand.writer)
            assert response.status_code == 404, (method, path)
        # A brand's key on another brand's host is refused before any route runs.
        crossed = await client.patch(
            f"/v1/items/{chaas['id']}",
            json={"price_minor": 1},
            headers={**other_brand.writer, "X-Tenant-ID": brand.slug},
        )
        assert problem_type(crossed) == "tenant-mismatch"
        exported = await client.get("/v1/catalog/export", headers=brand.writer)
        assert exported.json() == menu

    async def test_an_import_replaces_only_the_importers_menus(
        self,
        client: httpx.AsyncClient,
        brand: Brand,
        other_brand: Brand,
        menu: dict[str, Any],
    ) -> None:
        # The same document, ids and all, imported by another brand: its own copy.
        copied = await client.put("/v1/catalog/import", json=menu, headers=other_brand.writer)
        assert copied.status_code == 200
        emptied = await client.put(
            "/v1/catalog/import", json={"menus": []}, headers=other_brand.writer
        )
        assert emptied.json() == {"menus": []}
        assert (await client.get("/v1/catalog/export", headers=brand.writer)).json() == menu
