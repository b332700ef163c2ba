"""Brand configuration: versions, validation, rollback, diff, and what apps receive."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from tests.fixtures.tenants import Brand

DOCUMENT: dict[str, Any] = {
    "theme": {
        "palette": {"primary": "#E23744"},
        "logo_url": "https://cdn.example.com/spice/logo.png",
        "typography": {"font_family": "Poppins"},
        "dark_mode": {"enabled": True},
    },
    "pages": {
        "home": {
            "sections": [
                {"id": "hero", "type": "banner", "props": {"image": "hero.jpg"}},
                {"id": "wallet_card", "type": "wallet_card", "feature": "wallet"},
                {"id": "rewards_strip", "type": "rewards_strip", "feature": "rewards"},
            ]
        },
        "checkout": {"sections": [], "features": {"cash_on_delivery": False}},
    },
    "features": {"rewards": True},
}


async def draft(
    client: httpx.AsyncClient, brand: Brand, document: dict[str, Any], note: str = ""
) -> httpx.Response:
    return await client.post(
        "/v1/config/versions", json={"document": document, "note": note}, headers=brand.writer
    )


async def publish(client: httpx.AsyncClient, brand: Brand, document: dict[str, Any]) -> int:
    version = (await draft(client, brand, document)).json()["version"]
    response = await client.post(f"/v1/config/versions/{version}/publish", headers=brand.writer)
    assert response.status_code == 200, response.text
    return int(version)


class TestVersions:
    async def test_draft_then_publish_then_app_config(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        created = await draft(client, brand, DOCUMENT, "first look")
        assert created.status_code == 201
        assert created.json()["status"] == "draft" and created.json()["live"] is False
        no_config = await client.get("/v1/app-config", headers=brand.headers)
        assert no_config.status_code == 404
        version = created.json()["version"]
        await client.post(f"/v1/config/versions/{version}/publish", headers=brand.writer)
        app = (await client.get("/v1/app-config", headers=brand.headers)).json()
        assert app["version"] == version
        assert app["theme"]["palette"]["primary"] == "#E23744"

    async def test_an_invalid_document_is_refused_with_every_schema_error(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        broken = copy.deepcopy(DOCUMENT)
        broken["theme"]["palette"]["primary"] = "red"
        broken["theme"]["logo_url"] = "not a url"
        broken["pages"]["nowhere"] = {}
        response = await draft(client, brand, broken)
        assert response.status_code == 422
        body = response.json()
        assert body["type"].endswith("/invalid-config")
        locations = {tuple(e["loc"]) for e in body["errors"]}
        assert ("theme", "palette", "primary") in locations
        assert ("theme", "logo_url") in locations
        assert any("nowhere" in loc for loc in locations)

    async def test_the_schema_is_published(self, client: httpx.AsyncClient, brand: Brand) -> None:
        schema = (await client.get("/v1/config/schema", headers=brand.headers)).json()
        assert "theme" in schema["properties"] and "$defs" in schema

    async def test_rollback_restores_the_earlier_document_byte_for_byte(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        first = await publish(client, brand, DOCUMENT)
        original = (
            await client.get(f"/v1/config/versions/{first}/document", headers=brand.writer)
        ).content
        changed = copy.deepcopy(DOCUMENT)
        changed["theme"]["palette"]["primary"] = "#000000"
        second = await publish(client, brand, changed)
        live = (await client.get("/v1/app-config", headers=brand.headers)).json()
        assert live["version"] == second
        back = await client.post(
            "/v1/config/rollback", json={"version": first}, headers=brand.writer
        )
        assert back.json()["live"] is True
        again = (
            await client.get(f"/v1/config/versions/{first}/document", headers=brand.writer)
        ).content
        assert again == original
        live = (await client.get("/v1/app-config", headers=brand.headers)).json()
        assert live["version"] == first
        assert live["theme"]["palette"]["primary"] == "#E23744"

    async def test_a_draft_cannot_be_rolled_back_to_and_a_published_one_is_frozen(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        version = (await draft(client, brand, DOCUMENT)).json()["version"]
        refused = await client.post(
            "/v1/config/rollback", json={"version": version}, headers=brand.writer
        )
        assert refused.status_code == 409
        await client.post(f"/v1/config/versions/{version}/publish", headers=brand.writer)
        frozen = await client.put(
            f"/v1/config/versions/{version}", json={"document": DOCUMENT}, headers=brand.writer
        )
        assert frozen.status_code == 409

    async def test_diff_and_audit(self, client: httpx.AsyncClient, brand: Brand) -> None:
        a = await publish(client, brand, DOCUMENT)
        changed = copy.deepcopy(DOCUMENT)
        changed["theme"]["palette"]["primary"] = "#111111"
        changed["features"]["rewards"] = False
        b = await publish(client, brand, changed)
        ops = (
            await client.get("/v1/config/diff", params={"from": a, "to": b}, headers=brand.writer)
        ).json()
        assert {(op["op"], op["path"]) for op in ops} == {
            ("replace", "/theme/palette/primary"),
            ("replace", "/features/rewards"),
        }
        log = (
            await client.get("/v1/audit-log", params={"entity": "config"}, headers=brand.writer)
        ).json()
        assert [e["action"] for e in log][:2] == ["published", "drafted"]


class TestAppConfig:
    async def test_sections_follow_flags_and_switches(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        await publish(client, brand, DOCUMENT)
        app = (await client.get("/v1/app-config", headers=brand.headers)).json()
        assert [s["id"] for s in app["pages"]["home"]["sections"]] == [
            "hero",
            "wallet_card",
            "rewards_strip",
        ]
        assert app["pages"]["checkout"]["features"] == {"cash_on_delivery": False}
        await client.put(
            "/v1/flags/wallet",
            json={"environments": {"production": {"enabled": False}}},
            headers=brand.writer,
        )
        app = (await client.get("/v1/app-config", headers=brand.headers)).json()
        assert [s["id"] for s in app["pages"]["home"]["sections"]] == ["hero", "rewards_strip"]
        assert app["features"]["wallet"] is False

    async def test_flags_are_evaluated_for_the_caller(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        await publish(client, brand, DOCUMENT)
        await client.put(
            "/v1/flags/rewards",
            json={
                "environments": {
                    "production": {
                        "enabled": True,
                        "rules": [
                            {
                                "conditions": [
                                    {
                                        "attribute": "app_version",
                                        "op": "semver_gte",
                                        "value": "5.2.0",
                                    }
                                ],
                                "serve": {"variant": "on"},
                            }
                        ],
                        "fallthrough": {"variant": "off"},
                    }
                }
            },
            headers=brand.writer,
        )
        old = (
            await client.get("/v1/app-config", headers={**brand.headers, "X-App-Version": "5.1.0"})
        ).json()
        new = (
            await client.get("/v1/app-config", headers={**brand.headers, "X-App-Version": "5.3.0"})
        ).json()
        assert "rewards_strip" not in [s["id"] for s in old["pages"]["home"]["sections"]]
        assert "rewards_strip" in [s["id"] for s in new["pages"]["home"]["sections"]]

    async def test_etag_and_304_then_a_new_etag_after_publishing(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        await publish(client, brand, DOCUMENT)
        first = await client.get("/v1/app-config", headers=brand.headers)
        etag = first.headers["etag"]
        cached = await client.get(
            "/v1/app-config", headers={**brand.headers, "If-None-Match": etag}
        )
        assert cached.status_code == 304 and not cached.content
        changed = copy.deepcopy(DOCUMENT)
        changed["theme"]["corner_radius"] = 16
        await publish(client, brand, changed)
        fresh = await client.get("/v1/app-config", headers={**brand.headers, "If-None-Match": etag})
        assert fresh.status_code == 200 and fresh.headers["etag"] != etag
