"""Revision 0004 moves the first cut's per-restaurant items into brand menus and back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from alembic import command
from sqlalchemy.engine import make_url

from tiffin.infra.embedded import APP_ROLE
from tiffin.migrations import alembic_config, upgrade
from tiffin.settings import Settings

TENANT, OTHER = uuid.uuid4(), uuid.uuid4()
CITY, AIRPORT, LONE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


@pytest.fixture
async def legacy(settings: Settings) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A fresh database at revision 0003 holding first-cut data; dropped afterwards."""
    assert settings.database_admin_url
    server = make_url(settings.database_admin_url)
    name = f"tiffin_mig_{uuid.uuid4().hex[:12]}"
    root = await asyncpg.connect(server.set(drivername="postgresql").render_as_string(False))
    await root.execute(f'CREATE DATABASE "{name}"')
    admin = server.set(database=name)
    admin_url = admin.render_as_string(False)
    await upgrade(
        admin_url, admin.set(username=APP_ROLE, password=None).render_as_string(False), "0003"
    )
    conn = await asyncpg.connect(admin.set(drivername="postgresql").render_as_string(False))
    try:
        await _seed(conn)
        yield admin_url, conn
    finally:
        await conn.close()
        await root.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await root.close()


async def _seed(conn: asyncpg.Connection) -> None:
    restaurant = (
        "INSERT INTO restaurants (tenant_id, id, slug, name, address, latitude, longitude, "
        "prep_minutes) VALUES ($1, $2, $3, $3, 'x', 0, 0, 10)"
    )
    await conn.execute(restaurant, TENANT, CITY, "city")
    await conn.execute(restaurant, TENANT, AIRPORT, "airport")
    await conn.execute(restaurant, OTHER, LONE, "lone")
    item = (
        "INSERT INTO menu_items (tenant_id, id, restaurant_id, name, description, price_minor, "
        "currency, veg, in_stock, created_at) "
        "VALUES ($1, $2, $3, $4, '', $5, 'INR', $6, $7, now() + $8 * interval '1 second')"
    )
    rows: list[tuple[Any, ...]] = [
        (TENANT, uuid.uuid4(), CITY, "Paneer Tikka", 24900, True, True, 0),
        (TENANT, uuid.uuid4(), AIRPORT, "Paneer Tikka", 29900, True, False, 1),
        (TENANT, uuid.uuid4(), CITY, "Chicken Biryani", 32900, False, True, 2),
        (TENANT, uuid.uuid4(), AIRPORT, "Cold Coffee", 15900, True, True, 3),
        (OTHER, uuid.uuid4(), LONE, "Falafel Wrap", 19900, True, True, 4),
    ]
    for row in rows:
        await conn.execute(item, *row)


async def test_items_become_brand_menus_with_outlet_overrides_and_back(
    legacy: tuple[str, asyncpg.Connection],
) -> None:
    admin_url, conn = legacy
    paneer_id = await conn.fetchval("SELECT id FROM menu_items WHERE restaurant_id = $1", CITY)
    await asyncio.to_thread(command.upgrade, alembic_config(admin_url), "0004")

    menus = await conn.fetch("SELECT tenant_id, name FROM menus ORDER BY name")
    assert sorted(m["tenant_id"] for m in menus) == sorted([TENANT, OTHER])
    items = await conn.fetch(
        "SELECT i.id, i.name, i.price_minor, i.dietary_tags, c.name AS category "
        "FROM menu_items i JOIN menu_categories c ON c.id = i.category_id "
        "WHERE i.tenant_id = $1 ORDER BY i.position",
        TENANT,
    )
    assert [(i["name"], i["price_minor"], i["dietary_tags"]) for i in items] == [
        ("Chicken Biryani", 32900, []),
        ("Cold Coffee", 15900, ["veg"]),
        ("Paneer Tikka", 24900, ["veg"]),
    ]
    assert {i["category"] for i in items} == {"All items"}
    by_name = {i["name"]: i["id"] for i in items}
    assert by_name["Paneer Tikka"] == paneer_id  # the earliest row lends its id

    overrides = await conn.fetch(
        "SELECT restaurant_id, item_id, price_minor, in_stock, hidden FROM outlet_items "
        "WHERE tenant_id = $1",
        TENANT,
    )
    assert {
        (o["restaurant_id"], o["item_id"]): (o["price_minor"], o["in_stock"], o["hidden"])
        for o in overrides
    } == {
        (AIRPORT, by_name["Paneer Tikka"]): (29900, False, False),
        (AIRPORT, by_name["Chicken Biryani"]): (None, True, True),
        (CITY, by_name["Cold Coffee"]): (None, True, True),
    }
    restaurant = await conn.fetchrow(
        "SELECT timezone, accepting_orders, opening_hours FROM restaurants WHERE id = $1", CITY
    )
    assert restaurant is not None
    assert (restaurant["timezone"], restaurant["accepting_orders"]) == ("Asia/Kolkata", True)
    forced = await conn.fetch(
        "SELECT relname FROM pg_class WHERE relname = ANY($1) AND relforcerowsecurity",
        ["restaurants", "menus", "menu_items", "outlet_items", "catalog_revisions"],
    )
    assert len(forced) == 5

    await asyncio.to_thread(command.downgrade, alembic_config(admin_url), "0003")
    restored = await conn.fetch(
        "SELECT restaurant_id, name, price_minor, veg, in_stock FROM menu_items "
        "WHERE tenant_id = $1 ORDER BY restaurant_id, name",
        TENANT,
    )
    assert {
        (r["restaurant_id"], r["name"]): (r["price_minor"], r["in_stock"]) for r in restored
    } == {
        (CITY, "Paneer Tikka"): (24900, True),
        (CITY, "Chicken Biryani"): (32900, True),
        (AIRPORT, "Paneer Tikka"): (29900, False),
        (AIRPORT, "Cold Coffee"): (15900, True),
    }
