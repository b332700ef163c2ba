"""Phone OTP sign-in, end to end through the Twilio-protocol SMS sandbox."""

from __future__ import annotations

import random
import re

import httpx
import pytest

from tests.fixtures.tenants import Brand
from tiffin.identity.service import identity
from tiffin.infra.resources import Resources
from tiffin.sandbox.server import SandboxServer


def new_phone() -> str:
    return "+9198" + "".join(random.choices("0123456789", k=8))


@pytest.fixture
def sms(sms_sandbox: SandboxServer) -> httpx.Client:
    with httpx.Client(base_url=sms_sandbox.url) as http:
        yield http  # type: ignore[misc]


def last_code(sms: httpx.Client, phone: str) -> str:
    messages = sms.get("/sandbox/messages", params={"to": phone}).json()
    match = re.search(r"\b(\d{6})\b", messages[-1]["body"])
    assert match
    return match.group(1)


async def _send(client: httpx.AsyncClient, brand: Brand, phone: str) -> httpx.Response:
    return await client.post("/v1/auth/otp", json={"phone": phone}, headers=brand.headers)


async def _verify(client: httpx.AsyncClient, brand: Brand, phone: str, code: str) -> httpx.Response:
    return await client.post(
        "/v1/auth/otp/verify", json={"phone": phone, "code": code}, headers=brand.headers
    )


class TestOtpSignIn:
    async def test_a_code_by_sms_signs_in_and_creates_the_customer(
        self, client: httpx.AsyncClient, brand: Brand, sms: httpx.Client
    ) -> None:
        phone = new_phone()
        sent = await _send(client, brand, phone)
        assert sent.status_code == 202
        assert sent.json() == {"expires_in": 300, "resend_after": 30}
        response = await _verify(client, brand, phone, last_code(sms, phone))
        assert response.status_code == 200, response.text
        me = await client.get(
            "/v1/me",
            headers={**brand.headers, "Authorization": f"Bearer {response.json()['access_token']}"},
        )
        assert me.json()["phone"] == phone and me.json()["phone_verified"] is True

    async def test_national_format_is_normalised_to_e164(
        self, client: httpx.AsyncClient, brand: Brand, sms: httpx.Client
    ) -> None:
        phone = new_phone()
        await _send(client, brand, phone[3:])  # "98xxxxxxxx"
        response = await _verify(client, brand, phone, last_code(sms, phone))
        assert response.status_code == 200

    async def test_a_code_works_once(
        self, client: httpx.AsyncClient, brand: Brand, sms: httpx.Client
    ) -> None:
        phone = new_phone()
        await _send(client, brand, phone)
        code = last_code(sms, phone)
        assert (await _verify(client, brand, phone, code)).status_code == 200
        again = await _verify(client, brand, phone, code)
        assert again.status_code == 401
        assert again.json()["type"].endswith("/invalid-otp")

    async def test_five_wrong_codes_burn_the_challenge(
        self, client: httpx.AsyncClient, brand: Brand, sms: httpx.Client
    ) -> None:
        phone = new_phone()
        await _send(client, brand, phone)
        code = last_code(sms, phone)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for _ in range(5):
            response = await _verify(client, brand, phone, wrong)
            assert response.json()["type"].endswith("/invalid-otp")
        exceeded = await _verify(client, brand, phone, code)  # even the right one
        assert exceeded.status_code == 401
        assert exceeded.json()["type"].endswith("/otp-attempts-exceeded")

    async def test_an_expired_code_is_refused(
        self, client: httpx.AsyncClient, brand: Brand, sms: httpx.Client, resources: Resources
    ) -> None:
        phone = new_phone()
        await _send(client, brand, phone)
        challenge, _ = identity.otp._keys(brand.id, phone)
        await resources.redis.delete(challenge)  # what Redis does at the 5-minute TTL
        assert await resources.redis.ttl(challenge) == -2
        response = await _verify(client, brand, phone, last_code(sms, phone))
        assert response.json()["type"].endswith("/invalid-otp")

    async def test_codes_are_stored_hashed_and_expire_in_five_minutes(
        self, client: httpx.AsyncClient, brand: Brand, sms: httpx.Client, resources: Resources
    ) -> None:
        phone = new_phone()
        await _send(client, brand, phone)
        challenge, _ = identity.otp._keys(brand.id, phone)
        stored = await resources.redis.hgetall(challenge)
        assert last_code(sms, phone).encode() not in b"".join(stored.values())
        assert 290 <= await resources.redis.ttl(challenge) <= 300

    async def test_resending_too_soon_is_429_with_retry_after(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        phone = new_phone()
        assert (await _send(client, brand, phone)).status_code == 202
        again = await _send(client, brand, phone)
        assert again.status_code == 429
        assert 1 <= int(again.headers["retry-after"]) <= 30

    async def test_a_failing_sms_provider_is_retried(
        self, client: httpx.AsyncClient, brand: Brand, sms: httpx.Client
    ) -> None:
        sms.post("/sandbox/fail-next", json={"status": 503, "count": 2})
        phone = new_phone()
        assert (await _send(client, brand, phone)).status_code == 202
        assert last_code(sms, phone)

    async def test_a_down_sms_provider_is_a_503_not_a_500(
        self, client: httpx.AsyncClient, brand: Brand, sms: httpx.Client
    ) -> None:
        sms.post("/sandbox/fail-next", json={"status": 500, "count": 3})
        response = await _send(client, brand, new_phone())
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"

    async def test_an_invalid_phone_is_a_422(self, client: httpx.AsyncClient, brand: Brand) -> None:
        response = await _send(client, brand, "12")
        assert response.status_code == 422
