"""Bad input gets problem+json with the right status, never a 500."""

from __future__ import annotations

import asyncio

import httpx

from tests.fixtures.tenants import Brand

PROBLEM = "application/problem+json"
RESTAURANT = {
    "slug": "koramangala",
    "name": "K",
    "address": "80 Feet Rd",
    "latitude": 12.9,
    "longitude": 77.6,
}


def assert_problem(response: httpx.Response, status: int, type_: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert str(body["type"]).endswith("/" + type_)
    assert body["title"]
    return body


class TestProblemDetails:
    async def test_malformed_json_is_a_400(self, client: httpx.AsyncClient, brand: Brand) -> None:
        response = await client.post(
            "/v1/restaurants",
            content=b'{"slug": "a",',
            headers={**brand.writer, "content-type": "application/json"},
        )
        assert_problem(response, 400, "malformed-json")

    async def test_unknown_tenant_is_a_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/restaurants", headers={"X-Tenant-ID": "no-such-brand"})
        assert_problem(response, 404, "unknown-tenant")

    async def test_unknown_host_without_a_tenant_is_a_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/restaurants", headers={"Host": "nobody.example.test"})
        assert_problem(response, 404, "unknown-tenant")

    async def test_oversized_body_by_content_length_is_a_413(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        body = b'{"name": "' + b"x" * 70_000 + b'"}'
        response = await client.post(
            "/v1/restaurants",
            content=body,
            headers={**brand.writer, "content-type": "application/json"},
        )
        assert_problem(response, 413, "payload-too-large")

    async def test_oversized_chunked_body_is_a_413(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(20):
                yield b"x" * 8192

        response = await client.post(
            "/v1/restaurants",
            content=chunks(),
            headers={**brand.writer, "content-type": "application/json"},
        )
        assert "content-length" not in response.request.headers
        assert_problem(response, 413, "payload-too-large")

    async def test_invalid_payload_lists_the_errors_as_422(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        response = await client.post(
            "/v1/restaurants", json={**RESTAURANT, "latitude": 200}, headers=brand.writer
        )
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"] == [
            {
                "loc": ["body", "latitude"],
                "msg": "Input should be less than or equal to 90",
                "type": "less_than_equal",
            }
        ]

    async def test_unknown_route_is_a_404_problem(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.get("/nope"), 404, "not-found")

    async def test_missing_credentials_is_a_401(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        response = await client.post("/v1/restaurants", json=RESTAURANT, headers=brand.headers)
        assert_problem(response, 401, "unauthenticated")

    async def test_problems_carry_the_request_id(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/v1/restaurants", headers={"X-Tenant-ID": "nope", "X-Request-ID": "req-42"}
        )
        assert response.headers["x-request-id"] == "req-42"
        assert response.json()["request_id"] == "req-42"


class TestTenantResolution:
    async def test_by_host(self, client: httpx.AsyncClient, brand: Brand) -> None:
        response = await client.get("/v1/tenant", headers={"Host": brand.host})
        assert response.json()["id"] == str(brand.id)

    async def test_by_header_slug_or_id(self, client: httpx.AsyncClient, brand: Brand) -> None:
        for ref in (brand.slug, str(brand.id)):
            response = await client.get("/v1/tenant", headers={"X-Tenant-ID": ref})
            assert response.json()["slug"] == brand.slug

    async def test_by_api_key(self, client: httpx.AsyncClient, brand: Brand) -> None:
        for headers in (brand.writer, {"Authorization": f"Bearer {brand.api_key}"}):
            response = await client.get("/v1/tenant", headers=headers)
            assert response.json()["id"] == str(brand.id)

    async def test_a_key_of_one_brand_on_another_brands_host_is_refused(
        self, client: httpx.AsyncClient, brand: Brand, other_brand: Brand
    ) -> None:
        response = await client.get(
            "/v1/tenant", headers={**brand.writer, "Host": other_brand.host}
        )
        assert_problem(response, 400, "tenant-mismatch")

    async def test_an_unknown_api_key_is_a_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/tenant", headers={"X-API-Key": "tfn_dead_beef"})
        assert_problem(response, 401, "invalid-api-key")


class TestIdempotencyKey:
    async def test_a_retry_replays_the_first_response(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        headers = {**brand.writer, "Idempotency-Key": "create-k-1"}
        first = await client.post("/v1/restaurants", json=RESTAURANT, headers=headers)
        again = await client.post("/v1/restaurants", json=RESTAURANT, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        listed = await client.get("/v1/restaurants", headers=brand.headers)
        assert len(listed.json()) == 1

    async def test_concurrent_retries_create_once(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        headers = {**brand.writer, "Idempotency-Key": "create-k-2"}
        responses = await asyncio.gather(
            *(client.post("/v1/restaurants", json=RESTAURANT, headers=headers) for _ in range(8))
        )
        assert {r.status_code for r in responses} == {201}
        assert len({r.json()["id"] for r in responses}) == 1

    async def test_the_same_key_with_another_body_is_refused(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        headers = {**brand.writer, "Idempotency-Key": "create-k-3"}
        await client.post("/v1/restaurants", json=RESTAURANT, headers=headers)
        changed = await client.post(
            "/v1/restaurants", json={**RESTAURANT, "name": "other"}, headers=headers
        )
        assert_problem(changed, 422, "idempotency-key-reused")

    async def test_keys_are_per_tenant(
        self, client: httpx.AsyncClient, brand: Brand, other_brand: Brand
    ) -> None:
        for b in (brand, other_brand):
            response = await client.post(
                "/v1/restaurants",
                json=RESTAURANT,
                headers={**b.writer, "Idempotency-Key": "shared"},
            )
            assert response.status_code == 201
            assert "idempotent-replayed" not in response.headers
