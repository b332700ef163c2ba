"""Authorization: roles and permissions per tenant, ownership, API keys, plans."""

from __future__ import annotations

import uuid
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.identity import PASSWORD, SignedIn, login, new_customer, signed_in, unique_email
from tests.fixtures.tenants import Brand
from tiffin.identity.api import entitled
from tiffin.identity.errors import AccountNotFound, Forbidden
from tiffin.identity.schemas import AccountPrincipal
from tiffin.identity.service import identity
from tiffin.infra.resources import Resources


async def _admin(client: httpx.AsyncClient, brand: Brand) -> SignedIn:
    email = unique_email()
    created = await client.post(
        "/v1/accounts",
        json={"kind": "admin", "name": "Brand Admin", "email": email, "password": PASSWORD},
        headers=brand.writer,
    )
    assert created.status_code == 201, created.text
    return signed_in(brand, await login(client, brand, email))


class TestOwnership:
    async def test_a_customer_never_reads_another_customers_account(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        alice = await new_customer(client, brand)
        others = [(await new_customer(client, brand)).account_id for _ in range(3)]

        @settings(
            max_examples=60,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(st.one_of(st.sampled_from(others), st.uuids()))
        def probe(account_id: uuid.UUID) -> None:
            probes.append(account_id)

        probes: list[uuid.UUID] = []
        probe()
        for account_id in probes:
            response = await client.get(f"/v1/accounts/{account_id}", headers=alice.headers)
            # The same 404 whether the id exists or not: nothing leaks.
            assert response.status_code == 404, account_id
            assert response.json()["type"].endswith("/account-not-found")
        mine = await client.get(f"/v1/accounts/{alice.account_id}", headers=alice.headers)
        assert mine.status_code == 200

    async def test_an_admin_reads_any_account_of_its_brand_only(
        self, client: httpx.AsyncClient, brand: Brand, other_brand: Brand
    ) -> None:
        admin = await _admin(client, brand)
        customer = await new_customer(client, brand)
        stranger = await new_customer(client, other_brand)
        ok = await client.get(f"/v1/accounts/{customer.account_id}", headers=admin.headers)
        assert ok.status_code == 200
        hidden = await client.get(f"/v1/accounts/{stranger.account_id}", headers=admin.headers)
        assert hidden.status_code == 404  # row-level security: another brand does not exist


class TestRoles:
    async def test_a_customer_lacks_admin_permissions(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        me = await new_customer(client, brand)
        response = await client.post(
            "/v1/roles", json={"name": "x", "permissions": []}, headers=me.headers
        )
        assert response.status_code == 403
        assert response.json()["type"].endswith("/insufficient-scope")

    async def test_a_custom_role_grants_its_permissions_at_the_next_sign_in(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        admin = await _admin(client, brand)
        created = await client.post(
            "/v1/roles",
            json={"name": "auditor", "permissions": ["audit:read"]},
            headers=admin.headers,
        )
        assert created.status_code == 201
        email = unique_email()
        await client.post(
            "/v1/auth/register",
            headers=brand.headers,
            json={"email": email, "password": PASSWORD, "name": "A"},
        )
        before = signed_in(brand, await login(client, brand, email))
        assigned = await client.put(
            f"/v1/accounts/{before.account_id}/roles",
            json={"roles": ["auditor"]},
            headers=admin.headers,
        )
        assert assigned.json() == ["auditor"]
        after = signed_in(brand, await login(client, brand, email))
        assert (await client.get("/v1/security-events", headers=before.headers)).status_code == 403
        assert (await client.get("/v1/security-events", headers=after.headers)).status_code == 200
        types = [
            e["type"]
            for e in (
                await client.get(
                    "/v1/security-events", params={"type": "role_changed"}, headers=admin.headers
                )
            ).json()["items"]
        ]
        assert types == ["role_changed"]

    async def test_unknown_permissions_and_roles_are_refused(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        admin = await _admin(client, brand)
        bad = await client.post(
            "/v1/roles", json={"name": "x", "permissions": ["launch:nukes"]}, headers=admin.headers
        )
        assert bad.status_code == 422
        response = await client.put(
            f"/v1/accounts/{admin.account_id}/roles",
            json={"roles": ["emperor"]},
            headers=admin.headers,
        )
        assert response.status_code == 422


class TestApiKeys:
    async def test_keys_are_scoped_and_revocable(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        issued = await client.post(
            "/v1/api-keys",
            json={"name": "menu sync", "scopes": ["catalog:write"]},
            headers=brand.writer,
        )
        assert issued.status_code == 201
        key = issued.json()["key"]
        restaurant = {"slug": "k", "name": "K", "address": "a", "latitude": 1, "longitude": 1}
        ok = await client.post("/v1/restaurants", json=restaurant, headers={"X-API-Key": key})
        assert ok.status_code == 201
        denied = await client.get("/v1/security-events", headers={"X-API-Key": key})
        assert denied.status_code == 403
        revoked = await client.delete(f"/v1/api-keys/{issued.json()['id']}", headers=brand.writer)
        assert revoked.status_code == 204
        after = await client.get("/v1/tenant", headers={"X-API-Key": key})
        assert after.status_code == 401


class TestPlansAndSessions:
    async def _plan(self, client: httpx.AsyncClient, brand: Brand, **plan: object) -> None:
        body = {"code": "gold", "name": "Gold", "features": ["priority_support"], **plan}
        assert (await client.post("/v1/plans", json=body, headers=brand.writer)).status_code == 201

    async def test_a_plan_of_two_devices_evicts_the_oldest_on_the_third(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        await self._plan(client, brand, max_sessions=2, session_overflow="evict_oldest")
        first = await new_customer(client, brand)
        put = await client.put(
            f"/v1/accounts/{first.account_id}/subscription",
            json={"plan_code": "gold"},
            headers=brand.writer,
        )
        assert put.json()["status"] == "active"
        me = (await client.get("/v1/me", headers=first.headers)).json()
        second = signed_in(brand, await login(client, brand, me["email"]))
        third = signed_in(brand, await login(client, brand, me["email"]))
        assert (await client.get("/v1/me", headers=first.headers)).status_code == 401
        for kept in (second, third):
            assert (await client.get("/v1/me", headers=kept.headers)).status_code == 200

    async def test_a_refusing_plan_refuses_the_extra_device(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        await self._plan(client, brand, max_sessions=1, session_overflow="refuse")
        first = await new_customer(client, brand)
        await client.put(
            f"/v1/accounts/{first.account_id}/subscription",
            json={"plan_code": "gold"},
            headers=brand.writer,
        )
        me = (await client.get("/v1/me", headers=first.headers)).json()
        refused = await login(client, brand, me["email"])
        assert refused.status_code == 409
        assert refused.json()["type"].endswith("/session-limit-reached")

    async def test_the_lifecycle_moves_only_along_its_edges(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        await self._plan(client, brand, trial_days=7)
        me = await new_customer(client, brand)
        url = f"/v1/accounts/{me.account_id}/subscription"
        sub = await client.put(url, json={"plan_code": "gold"}, headers=brand.writer)
        assert sub.json()["status"] == "trialing"
        for to, status in [
            ("active", 200),
            ("past_due", 200),
            ("trialing", 409),
            ("cancelled", 200),
            ("expired", 200),
            ("active", 409),
        ]:
            response = await client.post(f"{url}/transition", json={"to": to}, headers=brand.writer)
            assert response.status_code == status, (to, response.text)

    async def test_entitlements_follow_the_subscription(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        await self._plan(client, brand, max_sessions=3)
        me = await new_customer(client, brand)
        none = (await client.get("/v1/me/entitlements", headers=me.headers)).json()
        assert none["features"] == [] and none["max_sessions"] == 10
        await client.put(
            f"/v1/accounts/{me.account_id}/subscription",
            json={"plan_code": "gold"},
            headers=brand.writer,
        )
        gold = (await client.get("/v1/me/entitlements", headers=me.headers)).json()
        assert gold["features"] == ["priority_support"] and gold["max_sessions"] == 3
        await client.post(
            f"/v1/accounts/{me.account_id}/subscription/transition",
            json={"to": "cancelled"},
            headers=brand.writer,
        )
        await client.post(
            f"/v1/accounts/{me.account_id}/subscription/transition",
            json={"to": "expired"},
            headers=brand.writer,
        )
        lapsed = (await client.get("/v1/me/entitlements", headers=me.headers)).json()
        assert lapsed["features"] == []

    async def test_a_gated_route_answers_403_without_the_feature(
        self, client: httpx.AsyncClient, brand: Brand, app: FastAPI
    ) -> None:
        router = APIRouter()

        @router.get("/v1/test-priority-support")
        async def gated(me: Annotated[AccountPrincipal, entitled("priority_support")]) -> str:
            return "ok"

        app.include_router(router)
        await self._plan(client, brand)
        me = await new_customer(client, brand)
        before = await client.get("/v1/test-priority-support", headers=me.headers)
        assert before.status_code == 403
        assert before.json()["type"].endswith("/not-entitled")
        await client.put(
            f"/v1/accounts/{me.account_id}/subscription",
            json={"plan_code": "gold"},
            headers=brand.writer,
        )
        after = await client.get("/v1/test-priority-support", headers=me.headers)
        assert after.status_code == 200


class TestStaffAndRiders:
    async def test_staff_tokens_name_their_restaurant_and_act_only_for_it(
        self, client: httpx.AsyncClient, brand: Brand, resources: Resources
    ) -> None:
        restaurant, elsewhere = uuid.uuid4(), uuid.uuid4()
        email = unique_email()
        created = await client.post(
            "/v1/accounts",
            json={
                "kind": "staff",
                "name": "Cook",
                "email": email,
                "password": PASSWORD,
                "restaurant_id": str(restaurant),
            },
            headers=brand.writer,
        )
        assert created.status_code == 201
        staff = signed_in(brand, await login(client, brand, email))
        principal = await identity.authenticate(
            resources.sessionmaker, staff.access_token, brand.id
        )
        assert principal.restaurant_id == restaurant
        assert "restaurant:orders" in principal.scopes
        identity.ensure_restaurant_staff(principal, restaurant)
        with pytest.raises(Forbidden):
            identity.ensure_restaurant_staff(principal, elsewhere)

    async def test_a_rider_reaches_only_their_own_assignments(
        self, client: httpx.AsyncClient, brand: Brand, resources: Resources
    ) -> None:
        email = unique_email()
        await client.post(
            "/v1/accounts",
            json={"kind": "rider", "name": "Rider", "email": email, "password": PASSWORD},
            headers=brand.writer,
        )
        rider = signed_in(brand, await login(client, brand, email))
        principal = await identity.authenticate(
            resources.sessionmaker, rider.access_token, brand.id
        )
        identity.ensure_owner(principal, rider.account_id, any_permission="orders:read_any")
        with pytest.raises(AccountNotFound):
            identity.ensure_owner(principal, uuid.uuid4(), any_permission="orders:read_any")
