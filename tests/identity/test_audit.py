"""Security events are recorded per tenant and can be queried page by page."""

from __future__ import annotations

import httpx

from tests.fixtures.identity import login, new_customer, register, unique_email
from tests.fixtures.tenants import Brand


async def events_of(client: httpx.AsyncClient, brand: Brand, **params: str) -> list[str]:
    response = await client.get("/v1/security-events", params=params, headers=brand.writer)
    assert response.status_code == 200, response.text
    return [e["type"] for e in response.json()["items"]]


async def test_logins_failures_and_revocations_are_recorded(
    client: httpx.AsyncClient, brand: Brand
) -> None:
    email = unique_email()
    await register(client, brand, email=email)
    await login(client, brand, email, "wrong")
    me = await new_customer(client, brand)
    await client.post("/v1/auth/logout", headers=me.headers)
    types = await events_of(client, brand)
    assert {"account_created", "login_failed", "login", "session_revoked"} <= set(types)


async def test_events_are_per_tenant(
    client: httpx.AsyncClient, brand: Brand, other_brand: Brand
) -> None:
    await new_customer(client, brand)
    assert await events_of(client, other_brand) == []


async def test_pages_follow_the_cursor_newest_first(
    client: httpx.AsyncClient, brand: Brand
) -> None:
    for _ in range(3):
        await login(client, brand, unique_email(), "wrong")
    first = (
        await client.get("/v1/security-events", params={"limit": 2}, headers=brand.writer)
    ).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = (
        await client.get(
            "/v1/security-events",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=brand.writer,
        )
    ).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    stamps = [e["created_at"] for e in first["items"] + second["items"]]
    assert stamps == sorted(stamps, reverse=True)


async def test_a_customer_cannot_read_the_audit(client: httpx.AsyncClient, brand: Brand) -> None:
    me = await new_customer(client, brand)
    response = await client.get("/v1/security-events", headers=me.headers)
    assert response.status_code == 403
    assert response.json()["type"].endswith("/insufficient-scope")
