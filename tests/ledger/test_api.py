"""The ledger over HTTP: balances, statements with a running balance, lookups, adjustments."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.fixtures.tenants import Brand


async def account(
    client: httpx.AsyncClient, brand: Brand, type_: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/ledger/accounts", json={"ledger": "INR", "type": type_, **extra}, headers=brand.writer
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def transfer(
    client: httpx.AsyncClient,
    brand: Brand,
    debit: dict[str, Any],
    credit: dict[str, Any],
    amount: int,
    **extra: Any,
) -> str:
    response = await client.post(
        "/v1/ledger/transfers",
        json={
            "transfers": [
                {
                    "id": str(uuid.uuid4()),
                    "debit_account_id": debit["id"],
                    "credit_account_id": credit["id"],
                    "amount": amount,
                    "ledger": "INR",
                    "code": "api",
                    **extra,
                }
            ]
        },
        headers=brand.writer,
    )
    assert response.status_code == 200, response.text
    result: str = response.json()[0]["result"]
    return result


async def test_balances_and_available(client: httpx.AsyncClient, brand: Brand) -> None:
    gateway = await account(client, brand, "gateway_clearing")
    wallet = await account(client, brand, "customer_wallet", debits_must_not_exceed_credits=True)
    revenue = await account(client, brand, "platform_revenue")
    assert await transfer(client, brand, gateway, wallet, 1_000) == "ok"
    assert await transfer(client, brand, wallet, revenue, 300, kind="pending") == "ok"
    view = (await client.get(f"/v1/ledger/accounts/{wallet['id']}", headers=brand.writer)).json()
    assert (view["balance"], view["available"], view["debits_pending"]) == (1_000, 700, 300)


async def test_statement_pages_carry_the_running_balance(
    client: httpx.AsyncClient, brand: Brand
) -> None:
    gateway = await account(client, brand, "gateway_clearing")
    wallet = await account(client, brand, "customer_wallet")
    for amount in (100, 200, 300, 400, 500):
        await transfer(client, brand, gateway, wallet, amount)
    url = f"/v1/ledger/accounts/{wallet['id']}/statement"
    first = (await client.get(url, params={"limit": 2}, headers=brand.writer)).json()
    second = (
        await client.get(
            url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=brand.writer
        )
    ).json()
    third = (
        await client.get(
            url, params={"limit": 2, "cursor": second["next_cursor"]}, headers=brand.writer
        )
    ).json()
    entries = first["entries"] + second["entries"] + third["entries"]
    assert [e["amount"] for e in entries] == [500, 400, 300, 200, 100]
    assert [e["balance_after"] for e in entries] == [1_500, 1_000, 600, 300, 100]
    assert third["next_cursor"] is None


async def test_lookup_and_unknowns(client: httpx.AsyncClient, brand: Brand) -> None:
    gateway = await account(client, brand, "gateway_clearing")
    wallet = await account(client, brand, "customer_wallet")
    transfer_id = str(uuid.uuid4())
    await client.post(
        "/v1/ledger/transfers",
        json={
            "transfers": [
                {
                    "id": transfer_id,
                    "debit_account_id": gateway["id"],
                    "credit_account_id": wallet["id"],
                    "amount": 5,
                    "ledger": "INR",
                    "code": "lookup",
                    "user_data": {"order_id": "o-9"},
                }
            ]
        },
        headers=brand.writer,
    )
    found = (await client.get(f"/v1/ledger/transfers/{transfer_id}", headers=brand.writer)).json()
    assert found["user_data"] == {"order_id": "o-9"} and found["amount"] == 5
    missing = await client.get(f"/v1/ledger/transfers/{uuid.uuid4()}", headers=brand.writer)
    assert missing.status_code == 404


async def test_an_adjustment_needs_a_reason_and_is_audited(
    client: httpx.AsyncClient, brand: Brand
) -> None:
    adjustments = await account(client, brand, "adjustments")
    wallet = await account(client, brand, "customer_wallet")
    body = {
        "id": str(uuid.uuid4()),
        "debit_account_id": adjustments["id"],
        "credit_account_id": wallet["id"],
        "amount": 250,
    }
    assert (
        await client.post("/v1/ledger/adjustments", json=body, headers=brand.writer)
    ).status_code == 422
    done = await client.post(
        "/v1/ledger/adjustments",
        json={**body, "reason": "goodwill for a late order"},
        headers=brand.writer,
    )
    assert done.json()["result"] == "ok"
    log = (
        await client.get(
            "/v1/audit-log", params={"entity": "ledger_transfer"}, headers=brand.writer
        )
    ).json()
    assert log[0]["action"] == "adjusted"
    assert log[0]["after"]["reason"] == "goodwill for a late order"


async def test_the_ledger_is_not_for_customers(client: httpx.AsyncClient, brand: Brand) -> None:
    response = await client.get(f"/v1/ledger/accounts/{uuid.uuid4()}", headers=brand.headers)
    assert response.status_code == 401


async def test_another_brand_cannot_see_the_accounts(
    client: httpx.AsyncClient, brand: Brand, other_brand: Brand
) -> None:
    wallet = await account(client, brand, "customer_wallet")
    response = await client.get(f"/v1/ledger/accounts/{wallet['id']}", headers=other_brand.writer)
    assert response.status_code == 404
