"""Access tokens, refresh rotation with reuse detection, key rotation, sessions."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import jwt

from tests.fixtures.identity import SignedIn, login, new_customer, register, signed_in, unique_email
from tests.fixtures.tenants import Brand
from tiffin.identity.service import REVOKED_KEY, identity
from tiffin.infra.clock import FrozenClock, clock
from tiffin.infra.resources import Resources


async def _refresh(
    client: httpx.AsyncClient, me: SignedIn, token: str | None = None
) -> httpx.Response:
    return await client.post(
        "/v1/auth/refresh",
        json={"refresh_token": token or me.refresh_token},
        headers=me.brand.headers,
    )


async def _me(client: httpx.AsyncClient, brand: Brand, access_token: str) -> httpx.Response:
    return await client.get(
        "/v1/me", headers={**brand.headers, "Authorization": f"Bearer {access_token}"}
    )


class TestAccessTokens:
    async def test_claims_are_standard_and_verify_with_any_jwt_library_against_the_jwks(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        me = await new_customer(client, brand)
        jwks = (await client.get("/.well-known/jwks.json")).json()
        kid = jwt.get_unverified_header(me.access_token)["kid"]
        [jwk] = [k for k in jwks["keys"] if k["kid"] == kid]
        claims = jwt.decode(
            me.access_token, jwt.PyJWK(jwk).key, algorithms=["RS256"], issuer="tiffin"
        )
        assert set(claims) >= {"sub", "tenant", "roles", "sid", "exp", "iat", "jti", "iss"}
        assert claims["sub"] == str(me.account_id)
        assert claims["tenant"] == str(brand.id)
        assert claims["sid"] == str(me.session_id)
        assert claims["roles"] == ["customer"]
        assert claims["exp"] - claims["iat"] == 600

    async def test_a_forged_or_garbled_token_is_refused(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        me = await new_customer(client, brand)
        head, payload, signature = me.access_token.split(".")
        forged = f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
        for token in (forged, "not-a-jwt", f"{head}.{payload}"):
            response = await _me(client, brand, token)
            assert response.status_code == 401
            assert response.json()["type"].endswith("/invalid-token")

    async def test_a_token_of_one_brand_is_refused_on_another_brands_host(
        self, client: httpx.AsyncClient, brand: Brand, other_brand: Brand
    ) -> None:
        me = await new_customer(client, brand)
        response = await client.get(
            "/v1/me",
            headers={"Host": other_brand.host, "Authorization": f"Bearer {me.access_token}"},
        )
        assert response.status_code == 401
        assert response.json()["type"].endswith("/invalid-token")

    async def test_an_expired_token_is_refused(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        with clock.use(FrozenClock(clock.now() - timedelta(minutes=11))):
            me = await new_customer(client, brand)
        assert (await _me(client, brand, me.access_token)).status_code == 401


class TestRefreshRotation:
    async def test_each_refresh_spends_the_token_and_returns_a_new_pair(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        me = await new_customer(client, brand)
        first = (await _refresh(client, me)).json()
        second = (await _refresh(client, me, first["refresh_token"])).json()
        assert len({me.refresh_token, first["refresh_token"], second["refresh_token"]}) == 3
        assert first["session_id"] == second["session_id"] == str(me.session_id)
        assert (await _me(client, brand, second["access_token"])).status_code == 200

    async def test_reuse_after_the_grace_window_revokes_the_session(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        me = await new_customer(client, brand)
        with clock.use(FrozenClock()) as frozen:
            rotated = (await _refresh(client, me)).json()
            frozen.advance(timedelta(seconds=6))  # the grace window is 5 s
            reused = await _refresh(client, me)
        assert reused.status_code == 401
        assert reused.json()["type"].endswith("/invalid-refresh-token")
        # Both the thief's and the owner's tokens are dead now.
        after = await _refresh(client, me, rotated["refresh_token"])
        assert after.status_code == 401
        assert after.json()["type"].endswith("/session-revoked")
        assert (await _me(client, brand, rotated["access_token"])).status_code == 401
        assert (await _me(client, brand, me.access_token)).status_code == 401

    async def test_two_concurrent_refreshes_within_the_window_get_the_same_pair(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        me = await new_customer(client, brand)
        a, b = await asyncio.gather(_refresh(client, me), _refresh(client, me))
        assert a.status_code == b.status_code == 200
        assert a.json() == b.json()
        assert (await _me(client, brand, a.json()["access_token"])).status_code == 200

    async def test_a_retry_within_the_window_gets_the_same_pair(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        me = await new_customer(client, brand)
        with clock.use(FrozenClock()) as frozen:
            first = (await _refresh(client, me)).json()
            frozen.advance(timedelta(seconds=4))
            again = (await _refresh(client, me)).json()
        assert again == first

    async def test_an_unknown_refresh_token_is_refused(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        me = await new_customer(client, brand)
        response = await _refresh(client, me, "no-such-token")
        assert response.status_code == 401


class TestKeyRotation:
    async def test_old_tokens_verify_until_expiry_and_new_ones_carry_the_new_kid(
        self, client: httpx.AsyncClient, brand: Brand, resources: Resources
    ) -> None:
        me = await new_customer(client, brand)
        old_kid = jwt.get_unverified_header(me.access_token)["kid"]
        new_kid = await identity.rotate_signing_key(resources.sessionmaker)
        identity.verifier.forget()  # prove it verifies again, not from the cache
        assert (await _me(client, brand, me.access_token)).status_code == 200
        fresh = await new_customer(client, brand)
        assert jwt.get_unverified_header(fresh.access_token)["kid"] == new_kid
        kids = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
        assert {old_kid, new_kid} <= kids


class TestSessions:
    async def test_one_session_per_device_listed_with_the_current_one_marked(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        email = unique_email()
        await register(client, brand, email=email)
        phone = signed_in(brand, await login(client, brand, email, user_agent="phone"))
        laptop = signed_in(brand, await login(client, brand, email, user_agent="laptop"))
        sessions = (await client.get("/v1/me/sessions", headers=laptop.headers)).json()
        assert {s["user_agent"] for s in sessions} == {"phone", "laptop"}
        assert [s["user_agent"] for s in sessions if s["current"]] == ["laptop"]
        assert phone.session_id != laptop.session_id

    async def test_revoking_a_session_stops_its_tokens_at_once(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        email = unique_email()
        await register(client, brand, email=email)
        phone = signed_in(brand, await login(client, brand, email))
        laptop = signed_in(brand, await login(client, brand, email))
        response = await client.delete(
            f"/v1/me/sessions/{phone.session_id}", headers=laptop.headers
        )
        assert response.status_code == 204
        assert (await _me(client, brand, phone.access_token)).status_code == 401
        assert (await _refresh(client, phone)).status_code == 401
        assert (await _me(client, brand, laptop.access_token)).status_code == 200

    async def test_revoke_others_keeps_only_this_device(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        email = unique_email()
        await register(client, brand, email=email)
        others = [signed_in(brand, await login(client, brand, email)) for _ in range(2)]
        keep = signed_in(brand, await login(client, brand, email))
        response = await client.post("/v1/me/sessions/revoke-others", headers=keep.headers)
        assert response.json() == {"revoked": 2}
        for other in others:
            assert (await _me(client, brand, other.access_token)).status_code == 401
        assert (await _me(client, brand, keep.access_token)).status_code == 200

    async def test_logout_everywhere_includes_this_device(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        me = await new_customer(client, brand)
        response = await client.post("/v1/me/logout-all", headers=me.headers)
        assert response.json() == {"revoked": 1}
        assert (await _me(client, brand, me.access_token)).status_code == 401

    async def test_a_sensitive_route_sees_a_revocation_this_process_has_not_heard_of(
        self, client: httpx.AsyncClient, brand: Brand, resources: Resources
    ) -> None:
        me = await new_customer(client, brand)
        # Another api process revoked it: only Redis knows, not this process's mirror.
        await resources.redis.zadd(REVOKED_KEY, {str(me.session_id): 9e9})
        sensitive = await client.post(
            "/v1/me/password",
            json={"current_password": "x", "new_password": "a new password 1"},
            headers=me.headers,
        )
        assert sensitive.status_code == 401
        assert sensitive.json()["type"].endswith("/invalid-token")

    async def test_changing_the_password_signs_out_other_devices(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        email = unique_email()
        await register(client, brand, email=email)
        other = signed_in(brand, await login(client, brand, email))
        me = signed_in(brand, await login(client, brand, email))
        response = await client.post(
            "/v1/me/password",
            json={
                "current_password": "correct horse battery staple",
                "new_password": "an even better passphrase",
            },
            headers=me.headers,
        )
        assert response.status_code == 204
        assert (await _me(client, brand, other.access_token)).status_code == 401
        assert (await login(client, brand, email, "an even better passphrase")).status_code == 200

    async def test_logout_ends_this_session(self, client: httpx.AsyncClient, brand: Brand) -> None:
        me = await new_customer(client, brand)
        assert (await client.post("/v1/auth/logout", headers=me.headers)).status_code == 204
        assert (await _me(client, brand, me.access_token)).status_code == 401


async def test_session_ids_are_not_guessable_across_accounts(
    client: httpx.AsyncClient, brand: Brand
) -> None:
    alice = await new_customer(client, brand)
    bob = await new_customer(client, brand)
    response = await client.delete(f"/v1/me/sessions/{alice.session_id}", headers=bob.headers)
    assert response.status_code == 404
    response = await client.delete(f"/v1/me/sessions/{uuid.uuid4()}", headers=bob.headers)
    assert response.status_code == 404
    assert (await _me(client, brand, alice.access_token)).status_code == 200
