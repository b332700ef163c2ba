"""Small helpers for catalog tests: make outlets and menus over HTTP, find things by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from tests.fixtures.tenants import Brand

IST = "+05:30"


def at(local: str) -> str:
    """An ISO moment from an outlet-local "2026-01-05T08:00"."""
    return f"{local}:00{IST}"


async def create_restaurant(
    client: httpx.AsyncClient, brand: Brand, *, slug: str = "outlet", **fields: Any
) -> dict[str, Any]:
    body = {
        "slug": slug,
        "name": slug.title(),
        "address": "100 Feet Rd, Bengaluru",
        "latitude": 12.97,
        "longitude": 77.64,
        **fields,
    }
    response = await client.post("/v1/restaurants", json=body, headers=brand.writer)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def import_menu(
    client: httpx.AsyncClient, brand: Brand, document: dict[str, Any]
) -> dict[str, Any]:
    response = await client.put("/v1/catalog/import", json=document, headers=brand.writer)
    assert response.status_code == 200, response.text
    imported: dict[str, Any] = response.json()
    return imported


async def outlet_menu(
    client: httpx.AsyncClient, brand: Brand, restaurant_id: str, when: str | None = None
) -> dict[str, Any]:
    params = {"at": at(when)} if when else {}
    response = await client.get(
        f"/v1/restaurants/{restaurant_id}/menu", params=params, headers=brand.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def price(
    client: httpx.AsyncClient,
    brand: Brand,
    restaurant_id: str,
    line: dict[str, Any],
    when: str = "2026-01-05T13:00",
) -> httpx.Response:
    return await client.post(
        f"/v1/restaurants/{restaurant_id}/cart-lines",
        json=line,
        params={"at": at(when)},
        headers=brand.headers,
    )


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def find(document: Any, name: str) -> dict[str, Any]:
    """The first node (menu, category, item, variant, group or option) called `name`."""
    for node in _nodes(document):
        if node.get("name") == name:
            return node
    raise KeyError(name)


def menu_names(outlet_menu: dict[str, Any]) -> list[str]:
    return [m["name"] for m in outlet_menu["menus"]]


def item_names(outlet_menu: dict[str, Any]) -> list[str]:
    return [i["name"] for m in outlet_menu["menus"] for c in m["categories"] for i in c["items"]]


def problem_type(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return str(response.json()["type"]).rsplit("/", 1)[-1]
