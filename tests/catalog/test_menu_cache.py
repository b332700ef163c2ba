"""The public menu carries a strong ETag, answers 304 to a matching If-None-Match, and is
re-rendered after any catalog write, wherever that write happened."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.catalog.factories import at, find, menu_names
from tests.fixtures.tenants import Brand
from tiffin.catalog.schemas import MenuItemUpdate
from tiffin.catalog.service import CatalogService, catalog
from tiffin.infra.clock import FrozenClock, clock
from tiffin.infra.db import tenant_transaction
from tiffin.infra.resources import Resources

WHEN = at("2026-01-05T13:00")


async def get(
    client: httpx.AsyncClient, brand: Brand, outlet_id: str, etag: str | None = None
) -> httpx.Response:
    headers = {**brand.headers, **({"If-None-Match": etag} if etag else {})}
    return await client.get(
        f"/v1/restaurants/{outlet_id}/menu", params={"at": WHEN}, headers=headers
    )


class TestETag:
    async def test_a_matching_etag_gets_a_304_without_a_body(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        first = await get(client, brand, outlet["id"])
        etag = first.headers["etag"]
        assert etag.startswith('"') and not etag.startswith("W/")
        again = await get(client, brand, outlet["id"], etag)
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        for listed in (f'"nope", {etag}', f"W/{etag}", "*"):
            assert (await get(client, brand, outlet["id"], listed)).status_code == 304
        assert (await get(client, brand, outlet["id"], '"stale"')).status_code == 200

    async def test_the_etag_is_a_hash_of_the_body(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        first, second = (
            await get(client, brand, outlet["id"]),
            await get(client, brand, outlet["id"]),
        )
        assert first.headers["etag"] == second.headers["etag"]
        assert first.content == second.content

    async def test_a_write_over_http_changes_the_etag_and_the_body(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        etag = (await get(client, brand, outlet["id"])).headers["etag"]
        chaas = find(menu, "Masala Chaas")
        patched = await client.patch(
            f"/v1/items/{chaas['id']}", json={"price_minor": 8900}, headers=brand.writer
        )
        assert patched.status_code == 200, patched.text
        fresh = await get(client, brand, outlet["id"], etag)
        assert fresh.status_code == 200
        assert fresh.headers["etag"] != etag
        assert find(fresh.json(), "Masala Chaas")["price_minor"] == 8900

    async def test_an_outlet_override_changes_the_etag(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        etag = (await get(client, brand, outlet["id"])).headers["etag"]
        chaas = find(menu, "Masala Chaas")
        await client.patch(
            f"/v1/restaurants/{outlet['id']}/items/{chaas['id']}",
            json={"in_stock": False},
            headers=brand.writer,
        )
        assert (await get(client, brand, outlet["id"], etag)).status_code == 200


class TestAcrossProcesses:
    async def test_a_write_committed_elsewhere_is_served_on_the_next_request(
        self,
        client: httpx.AsyncClient,
        resources: Resources,
        brand: Brand,
        outlet: dict[str, Any],
        menu: dict[str, Any],
    ) -> None:
        etag = (await get(client, brand, outlet["id"])).headers["etag"]
        # Another api process: its own service instance and cache, its own transaction.
        elsewhere = CatalogService()
        chaas = uuid.UUID(find(menu, "Masala Chaas")["id"])
        async with tenant_transaction(resources.sessionmaker, brand.id) as session:
            await elsewhere.update_item(
                session, brand.id, chaas, data=MenuItemUpdate(name="Chaas"), actor="system"
            )
        fresh = await get(client, brand, outlet["id"], etag)
        assert fresh.status_code == 200
        assert "Chaas" in [i["name"] for i in find(fresh.json(), "Drinks")["items"]]

    async def test_two_processes_render_the_same_etag(
        self, resources: Resources, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        moment = datetime(2026, 1, 5, 13, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
        restaurant_id = uuid.UUID(outlet["id"])
        async with tenant_transaction(resources.sessionmaker, brand.id) as session:
            here = await catalog.render_menu(session, brand.id, restaurant_id, at=moment)
            there = await CatalogService().render_menu(session, brand.id, restaurant_id, at=moment)
        assert here.etag == there.etag and here.body == there.body


class TestTime:
    async def test_the_cache_follows_the_clock_minute_by_minute(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        path = f"/v1/restaurants/{outlet['id']}/menu"
        with clock.use(
            FrozenClock(datetime(2026, 1, 5, 10, 59, 30, tzinfo=ZoneInfo("Asia/Kolkata")))
        ) as now:
            before = await client.get(path, headers=brand.headers)
            assert isinstance(now, FrozenClock)
            now.advance(timedelta(seconds=30))
            after = await client.get(
                path, headers={**brand.headers, "If-None-Match": before.headers["etag"]}
            )
        assert "Breakfast" in menu_names(before.json())
        assert after.status_code == 200
        assert "Breakfast" not in menu_names(after.json())
