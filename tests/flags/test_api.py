"""Flags over HTTP: definitions, the feature gate, evaluation, audit, OpenFeature."""

from __future__ import annotations

from typing import Any

import httpx
from openfeature import api as openfeature_api
from openfeature.evaluation_context import EvaluationContext as OFContext

from tests.fixtures.tenants import Brand
from tiffin.flags.openfeature import TiffinProvider
from tiffin.flags.service import flags
from tiffin.infra.resources import Resources

ANDROID_ONLY = {
    "environments": {
        "production": {
            "enabled": True,
            "rules": [
                {
                    "conditions": [{"attribute": "platform", "op": "eq", "value": "android"}],
                    "serve": {"variant": "on"},
                }
            ],
            "fallthrough": {"variant": "off"},
        }
    }
}
OFF = {"environments": {"production": {"enabled": False}}}


async def put_flag(
    client: httpx.AsyncClient, brand: Brand, key: str, definition: dict[str, Any]
) -> httpx.Response:
    return await client.put(f"/v1/flags/{key}", json=definition, headers=brand.writer)


async def send_otp(client: httpx.AsyncClient, brand: Brand, **headers: str) -> httpx.Response:
    return await client.post(
        "/v1/auth/otp", json={"phone": "+919811111111"}, headers={**brand.headers, **headers}
    )


class TestFeatureGate:
    async def test_a_flag_turned_off_answers_403_feature_disabled_on_the_next_request(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        assert (await send_otp(client, brand)).status_code == 202  # platform default: on
        assert (await put_flag(client, brand, "otp_login", OFF)).status_code == 200
        response = await send_otp(client, brand)
        assert response.status_code == 403
        assert response.json()["type"].endswith("/feature-disabled")

    async def test_the_gate_follows_targeting(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        await put_flag(client, brand, "otp_login", ANDROID_ONLY)
        assert (await send_otp(client, brand, **{"X-Platform": "ios"})).status_code == 403
        assert (await send_otp(client, brand, **{"X-Platform": "android"})).status_code == 202

    async def test_the_kill_switch_and_its_release(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        await put_flag(
            client, brand, "password_login", {"environments": {"production": {"enabled": True}}}
        )
        login = {"identifier": "nobody@example.com", "password": "x"}
        assert (
            await client.post("/v1/auth/login", json=login, headers=brand.headers)
        ).status_code == 401
        assert (await client.post("/v1/flags/password_login/kill", headers=brand.writer)).json()[
            "killed"
        ] is True
        assert (
            await client.post("/v1/auth/login", json=login, headers=brand.headers)
        ).status_code == 403
        await client.delete("/v1/flags/password_login/kill", headers=brand.writer)
        assert (
            await client.post("/v1/auth/login", json=login, headers=brand.headers)
        ).status_code == 401

    async def test_flags_are_per_brand(
        self, client: httpx.AsyncClient, brand: Brand, other_brand: Brand
    ) -> None:
        await put_flag(client, brand, "otp_login", OFF)
        assert (await send_otp(client, other_brand)).status_code == 202


class TestDefinitions:
    async def test_round_trip_revision_and_audit(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        first = (await put_flag(client, brand, "new_menu", ANDROID_ONLY)).json()
        second = (await put_flag(client, brand, "new_menu", OFF)).json()
        assert second["revision"] > first["revision"]
        assert (await client.get("/v1/flags/new_menu", headers=brand.writer)).json() == second
        log = (
            await client.get("/v1/audit-log", params={"entity": "flag"}, headers=brand.writer)
        ).json()
        assert [e["action"] for e in log] == ["updated", "created"]
        assert log[0]["actor"].startswith("api_key:")

    async def test_invalid_definitions_are_refused_with_reasons(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        bad = {"environments": {"production": {"fallthrough": {"variant": "maybe"}}}}
        response = await put_flag(client, brand, "f", bad)
        assert response.status_code == 422
        semver = {
            "environments": {
                "production": {
                    "rules": [
                        {
                            "conditions": [
                                {"attribute": "app_version", "op": "semver_gte", "value": "five"}
                            ],
                            "serve": {"variant": "on"},
                        }
                    ]
                }
            }
        }
        assert (await put_flag(client, brand, "g", semver)).status_code == 422

    async def test_prerequisite_cycles_are_refused(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        def needing(flag: str) -> dict[str, Any]:
            return {"environments": {"production": {"prerequisites": [{"flag": flag}]}}}

        assert (await put_flag(client, brand, "a", needing("wallet"))).status_code == 200
        assert (await put_flag(client, brand, "b", needing("a"))).status_code == 200
        cycle = await put_flag(client, brand, "a", needing("b"))
        assert cycle.status_code == 422
        assert "cycle" in cycle.json()["detail"]

    async def test_customers_cannot_write_flags(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        response = await client.put("/v1/flags/x", json=OFF, headers=brand.headers)
        assert response.status_code == 401

    async def test_evaluating_every_flag_for_the_caller(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        await put_flag(client, brand, "dark_menu", ANDROID_ONLY)
        evaluated = (
            await client.get("/v1/features", headers={**brand.headers, "X-Platform": "Android"})
        ).json()
        assert evaluated["dark_menu"]["value"] is True
        assert evaluated["wallet"]["reason"] == "platform_default"


async def test_the_openfeature_provider_evaluates_tiffin_flags(
    client: httpx.AsyncClient, brand: Brand, resources: Resources
) -> None:
    await put_flag(client, brand, "dark_menu", ANDROID_ONLY)
    provider = TiffinProvider(flags, resources.sessionmaker, brand.id)
    await provider.refresh()
    openfeature_api.set_provider(provider, domain=brand.slug)
    of = openfeature_api.get_client(domain=brand.slug)
    android = OFContext(targeting_key="u1", attributes={"platform": "android"})
    ios = OFContext(targeting_key="u1", attributes={"platform": "ios"})
    assert of.get_boolean_value("dark_menu", False, android) is True
    assert of.get_boolean_value("dark_menu", True, ios) is False
    details = of.get_boolean_details("no_such_flag", True, android)
    assert details.value is True and details.error_code is not None
    assert of.get_string_value("dark_menu", "fallback", android) == "fallback"  # type mismatch
    openfeature_api.clear_providers()
