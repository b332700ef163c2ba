"""Password sign-in: argon2id, uniform failures, lockout with backoff, rate limits."""

from __future__ import annotations

import statistics
import time

import httpx
from sqlalchemy import select

from tests.fixtures.identity import PASSWORD, login, new_customer, register, unique_email
from tests.fixtures.tenants import Brand
from tiffin.identity.models import Account
from tiffin.identity.passwords import Passwords
from tiffin.identity.service import identity
from tiffin.infra.db import tenant_transaction
from tiffin.infra.resources import Resources


def _problem_shape(response: httpx.Response) -> tuple[int, str, dict[str, object]]:
    body = response.json()
    for volatile in ("request_id", "instance"):
        body.pop(volatile, None)
    return response.status_code, response.headers["content-type"], body


class TestSignIn:
    async def test_register_then_sign_in_then_read_me(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        email = unique_email()
        account = await register(client, brand, email=email.upper())
        assert account["email"] == email  # normalised
        response = await login(client, brand, f"  {email.upper()} ")
        assert response.status_code == 200
        token = response.json()["access_token"]
        me = await client.get(
            "/v1/me", headers={**brand.headers, "Authorization": f"Bearer {token}"}
        )
        assert me.json()["id"] == account["id"]

    async def test_passwords_are_argon2id_and_never_stored_plain(
        self, client: httpx.AsyncClient, brand: Brand, resources: Resources
    ) -> None:
        email = unique_email()
        await register(client, brand, email=email)
        async with tenant_transaction(resources.sessionmaker, brand.id) as session:
            stored = await session.scalar(
                select(Account.password_hash).where(Account.email == email)
            )
        assert stored and stored.startswith("$argon2id$")
        assert PASSWORD not in stored

    async def test_a_hash_made_with_old_parameters_is_upgraded_at_sign_in(
        self, client: httpx.AsyncClient, brand: Brand, resources: Resources
    ) -> None:
        email = unique_email()
        await register(client, brand, email=email)
        weaker = Passwords(
            pepper=resources.settings.password_pepper.get_secret_value(),
            time_cost=1,
            memory_kib=8192,
            parallelism=1,
        )
        async with tenant_transaction(resources.sessionmaker, brand.id) as session:
            account = await session.scalar(select(Account).where(Account.email == email))
            assert account is not None
            account.password_hash = await weaker.hash(PASSWORD)
        assert (await login(client, brand, email)).status_code == 200
        async with tenant_transaction(resources.sessionmaker, brand.id) as session:
            upgraded = await session.scalar(
                select(Account.password_hash).where(Account.email == email)
            )
        assert upgraded and not identity.passwords.needs_rehash(upgraded)
        assert "m=8192" not in upgraded


class TestUniformFailures:
    async def test_unknown_account_and_wrong_password_answer_alike(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        email = unique_email()
        await register(client, brand, email=email)
        wrong = await login(client, brand, email, "not the password")
        unknown = await login(client, brand, unique_email(), "not the password")
        assert _problem_shape(wrong) == _problem_shape(unknown)
        assert wrong.status_code == 401

    async def test_unknown_account_and_wrong_password_take_about_as_long(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        emails = [unique_email() for _ in range(4)]
        for email in emails:
            await register(client, brand, email=email)

        async def timed(identifier: str) -> float:
            started = time.perf_counter()
            assert (await login(client, brand, identifier, "wrong password")).status_code == 401
            return time.perf_counter() - started

        # Each identifier fails at most 3 times here: below the lockout threshold.
        known = [await timed(e) for e in emails for _ in range(2)]
        unknown = [await timed(unique_email()) for _ in range(8)]
        ratio = statistics.median(unknown) / statistics.median(known)
        assert 0.5 < ratio < 2.0, (known, unknown)


class TestLockout:
    async def test_repeated_failures_lock_the_identifier_with_backoff(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        email = unique_email()
        await register(client, brand, email=email)
        for _ in range(5):
            assert (await login(client, brand, email, "wrong")).status_code == 401
        locked = await login(client, brand, email)  # even the right password
        assert locked.status_code == 429
        assert locked.json()["type"].endswith("/too-many-attempts")
        assert 1 <= int(locked.headers["retry-after"]) <= 30

    async def test_an_unknown_identifier_locks_exactly_the_same_way(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        ghost = unique_email()
        for _ in range(5):
            assert (await login(client, brand, ghost, "wrong")).status_code == 401
        locked = await login(client, brand, ghost, "wrong")
        assert locked.status_code == 429
        assert locked.json()["type"].endswith("/too-many-attempts")

    async def test_the_second_lockout_lasts_twice_as_long(
        self, resources: Resources, brand: Brand
    ) -> None:
        lockout = identity.lockout
        for _ in range(5):
            await lockout.failed(brand.id, "someone@example.com")
        first = await lockout.retry_after(brand.id, "someone@example.com")
        for _ in range(5):
            await lockout.failed(brand.id, "someone@example.com")
        second = await lockout.retry_after(brand.id, "someone@example.com")
        assert first == 30 and second == 60


class TestRateLimits:
    async def test_too_many_logins_from_one_address_get_429_with_retry_after(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        statuses = []
        for _ in range(31):
            response = await login(client, brand, unique_email(), "wrong")
            statuses.append(response.status_code)
        assert statuses[:30] == [401] * 30
        assert statuses[30] == 429
        assert response.json()["type"].endswith("/rate-limited")
        assert 1 <= int(response.headers["retry-after"]) <= 60

    async def test_sign_in_works_for_a_customer(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        me = await new_customer(client, brand)
        assert (await client.get("/v1/me", headers=me.headers)).status_code == 200
