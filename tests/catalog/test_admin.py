"""The brand's admin API builds menus piece by piece; every write is audited and announced."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from tests.catalog.factories import create_restaurant, find, outlet_menu, problem_type
from tests.fixtures.tenants import Brand, make_brand
from tiffin.infra.bus.outbox import OutboxRow
from tiffin.infra.resources import Resources


async def post(client: httpx.AsyncClient, brand: Brand, path: str, body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body, headers=brand.writer)
    assert response.status_code == 201, response.text
    return response.json()


async def patch(client: httpx.AsyncClient, brand: Brand, path: str, body: dict[str, Any]) -> Any:
    response = await client.patch(path, json=body, headers=brand.writer)
    assert response.status_code == 200, response.text
    return response.json()


async def build(client: httpx.AsyncClient, brand: Brand) -> dict[str, Any]:
    """A menu → category → item → variant, group → option → nested group → option."""
    menu = await post(client, brand, "/v1/menus", {"name": "Dinner"})
    category = await post(client, brand, f"/v1/menus/{menu['id']}/categories", {"name": "Mains"})
    item = await post(
        client,
        brand,
        f"/v1/categories/{category['id']}/items",
        {"name": "Thali", "price_minor": 25000, "currency": "INR", "dietary_tags": ["veg"]},
    )
    variant = await post(
        client, brand, f"/v1/items/{item['id']}/variants", {"name": "Mini", "price_minor": 18000}
    )
    group = await post(
        client, brand, f"/v1/items/{item['id']}/modifier-groups", {"name": "Add a drink"}
    )
    option = await post(
        client,
        brand,
        f"/v1/modifier-groups/{group['id']}/options",
        {"name": "Lassi", "price_minor": 6000},
    )
    nested = await post(
        client,
        brand,
        f"/v1/modifier-options/{option['id']}/modifier-groups",
        {"name": "Sweetness", "min_select": 1, "max_select": 1},
    )
    sweet = await post(
        client, brand, f"/v1/modifier-groups/{nested['id']}/options", {"name": "Sweet"}
    )
    return {
        "menu": menu,
        "category": category,
        "item": item,
        "variant": variant,
        "group": group,
        "option": option,
        "nested": nested,
        "sweet": sweet,
    }


class TestBuildingAMenu:
    async def test_the_pieces_make_one_tree(self, client: httpx.AsyncClient, brand: Brand) -> None:
        made = await build(client, brand)
        item = (await client.get(f"/v1/items/{made['item']['id']}", headers=brand.writer)).json()
        assert item["variants"] == [
            {"id": made["variant"]["id"], "name": "Mini", "price_minor": 18000}
        ]
        lassi = item["modifier_groups"][0]["options"][0]
        assert lassi["modifier_groups"][0]["name"] == "Sweetness"
        assert lassi["modifier_groups"][0]["options"][0]["id"] == made["sweet"]["id"]
        menu = (await client.get(f"/v1/menus/{made['menu']['id']}", headers=brand.writer)).json()
        assert find(menu, "Thali")["id"] == made["item"]["id"]

    async def test_updates_change_only_what_is_sent(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        made = await build(client, brand)
        item = await patch(
            client, brand, f"/v1/items/{made['item']['id']}", {"description": "Daily"}
        )
        assert (item["name"], item["price_minor"], item["description"]) == ("Thali", 25000, "Daily")
        refused = await client.patch(
            f"/v1/items/{made['item']['id']}", json={"name": None}, headers=brand.writer
        )
        assert refused.status_code == 422
        schedule = {"days": ["sat", "mon"], "hours": [["19:00", "23:00"]]}
        menu = await patch(client, brand, f"/v1/menus/{made['menu']['id']}", {"schedule": schedule})
        assert menu["schedule"] == {"days": ["mon", "sat"], "hours": [["19:00", "23:00"]]}

    async def test_a_position_moves_a_node_among_its_siblings(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        made = await build(client, brand)
        path = f"/v1/items/{made['item']['id']}/variants"
        regular = await post(client, brand, path, {"name": "Regular", "price_minor": 25000})
        assert regular["position"] == 1
        await patch(client, brand, f"/v1/variants/{regular['id']}", {"position": 0})
        item = (await client.get(f"/v1/items/{made['item']['id']}", headers=brand.writer)).json()
        assert [v["name"] for v in item["variants"]] == ["Regular", "Mini"]

    async def test_an_item_moves_to_the_end_of_another_category(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        made = await build(client, brand)
        sides = await post(
            client, brand, f"/v1/menus/{made['menu']['id']}/categories", {"name": "Sides"}
        )
        await post(
            client,
            brand,
            f"/v1/categories/{sides['id']}/items",
            {"name": "Papad", "price_minor": 3000, "currency": "INR"},
        )
        moved = await patch(
            client, brand, f"/v1/items/{made['item']['id']}", {"category_id": sides["id"]}
        )
        assert (moved["category_id"], moved["position"]) == (sides["id"], 1)

    async def test_deleting_a_category_takes_its_items_along(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        made = await build(client, brand)
        deleted = await client.delete(
            f"/v1/categories/{made['category']['id']}", headers=brand.writer
        )
        assert deleted.status_code == 204
        gone = await client.get(f"/v1/items/{made['item']['id']}", headers=brand.writer)
        assert problem_type(gone) == "menu-item-not-found"
        option = await client.patch(
            f"/v1/modifier-options/{made['sweet']['id']}", json={"name": "x"}, headers=brand.writer
        )
        assert problem_type(option) == "modifier-option-not-found"

    async def test_modifier_groups_nest_at_most_three_deep(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        made = await build(client, brand)
        third = await post(
            client,
            brand,
            f"/v1/modifier-options/{made['sweet']['id']}/modifier-groups",
            {"name": "L3"},
        )
        leaf = await post(
            client, brand, f"/v1/modifier-groups/{third['id']}/options", {"name": "x"}
        )
        response = await client.post(
            f"/v1/modifier-options/{leaf['id']}/modifier-groups",
            json={"name": "L4"},
            headers=brand.writer,
        )
        assert response.status_code == 409
        assert problem_type(response) == "modifier-nesting-too-deep"

    async def test_a_group_cannot_require_more_than_it_allows(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        made = await build(client, brand)
        response = await client.patch(
            f"/v1/modifier-groups/{made['group']['id']}",
            json={"min_select": 2},
            headers=brand.writer,
        )
        assert response.status_code == 422
        assert problem_type(response) == "invalid-modifier-group"

    async def test_a_create_retried_with_its_idempotency_key_happens_once(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        headers = {**brand.writer, "Idempotency-Key": "menu-1"}
        first = await client.post("/v1/menus", json={"name": "Once"}, headers=headers)
        again = await client.post("/v1/menus", json={"name": "Once"}, headers=headers)
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        menus = (await client.get("/v1/menus", headers=brand.writer)).json()
        assert [m["name"] for m in menus] == ["Once"]

    async def test_new_items_show_on_every_outlets_menu(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        outlet = await create_restaurant(client, brand)
        made = await build(client, brand)
        body = await outlet_menu(client, brand, outlet["id"], "2026-01-05T20:00")
        assert find(body, "Thali")["id"] == made["item"]["id"]


class TestWriteAccess:
    async def test_writes_need_the_catalog_write_scope(
        self, client: httpx.AsyncClient, brand: Brand, resources: Resources
    ) -> None:
        anonymous = await client.post("/v1/menus", json={"name": "x"}, headers=brand.headers)
        assert problem_type(anonymous) == "unauthenticated"
        reader = await make_brand(resources.sessionmaker, scopes=["audit:read"])
        refused = await client.post("/v1/menus", json={"name": "x"}, headers=reader.writer)
        assert problem_type(refused) == "insufficient-scope"
        export = await client.get("/v1/catalog/export", headers=brand.headers)
        assert problem_type(export) == "unauthenticated"


class TestAuditAndEvents:
    async def test_every_write_leaves_an_audit_entry_by_the_caller(
        self, client: httpx.AsyncClient, brand: Brand, menu: dict[str, Any], outlet: dict[str, Any]
    ) -> None:
        made = await build(client, brand)
        await patch(client, brand, f"/v1/items/{made['item']['id']}", {"price_minor": 26000})
        await patch(
            client,
            brand,
            f"/v1/restaurants/{outlet['id']}/items/{made['item']['id']}",
            {"in_stock": False},
        )
        await patch(client, brand, f"/v1/restaurants/{outlet['id']}", {"prep_minutes": 25})
        await client.delete(f"/v1/menus/{made['menu']['id']}", headers=brand.writer)
        log = await client.get("/v1/audit-log", params={"limit": 200}, headers=brand.writer)
        entries = log.json()
        seen = {(e["entity"], e["action"]) for e in entries}
        assert seen >= {
            ("catalog", "imported"),
            ("restaurant", "created"),
            ("restaurant", "updated"),
            ("menu", "created"),
            ("menu", "deleted"),
            ("menu_category", "created"),
            ("menu_item", "created"),
            ("menu_item", "updated"),
            ("item_variant", "created"),
            ("modifier_group", "created"),
            ("modifier_option", "created"),
            ("outlet_item", "updated"),
        }
        assert {e["actor"].split(":")[0] for e in entries} == {"api_key"}
        price_change = next(
            e for e in entries if (e["entity"], e["action"]) == ("menu_item", "updated")
        )
        assert (price_change["before"]["price_minor"], price_change["after"]["price_minor"]) == (
            25000,
            26000,
        )

    async def test_every_write_appends_a_catalog_event(
        self, client: httpx.AsyncClient, brand: Brand, resources: Resources, outlet: dict[str, Any]
    ) -> None:
        made = await build(client, brand)
        await patch(
            client,
            brand,
            f"/v1/restaurants/{outlet['id']}/items/{made['item']['id']}",
            {"hidden": True},
        )
        async with resources.sessionmaker() as session:
            rows = (
                await session.scalars(
                    select(OutboxRow)
                    .where(OutboxRow.tenant_id == brand.id)
                    .order_by(OutboxRow.position)
                )
            ).all()
        types = [row.type for row in rows]
        assert types.count("catalog.menu_changed") == 8
        assert "catalog.outlet_item_changed" in types
        changed = [row.payload for row in rows if row.type == "catalog.menu_changed"]
        assert {p["menu_id"] for p in changed} == {made["menu"]["id"]}
        revisions = [p["revision"] for p in changed]
        assert revisions == sorted(revisions) and len(set(revisions)) == len(revisions)
