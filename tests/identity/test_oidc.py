"""Social sign-in: the whole OpenID Connect code flow with PKCE, over HTTP, against the
sandbox provider, including the attacks the relying party must refuse."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from tests.fixtures.identity import login, register, unique_email
from tests.fixtures.tenants import Brand
from tiffin.sandbox.oidc import Alg, create_oidc_provider
from tiffin.sandbox.server import SandboxServer

REDIRECT = "https://app.example.test/auth/callback"
SECRET = "client-secret-for-tests"


@dataclass
class Provider:
    url: str
    http: httpx.Client

    def user(self, *, email: str | None = None, verified: bool = True) -> dict[str, Any]:
        user = {
            "sub": f"sub-{uuid.uuid4().hex[:10]}",
            "email": email or unique_email(),
            "email_verified": verified,
            "name": "Social Customer",
        }
        assert self.http.post("/sandbox/users", json=user).status_code == 201
        return user

    def next_id_token(self, **overrides: Any) -> None:
        assert self.http.post("/sandbox/next-id-token", json=overrides).status_code < 300


def _provider(alg: Alg) -> Iterator[Provider]:
    with (
        SandboxServer(create_oidc_provider(alg=alg)) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        yield Provider(server.url, http)


@pytest.fixture(scope="module")
def google() -> Iterator[Provider]:
    yield from _provider("RS256")


@pytest.fixture(scope="module")
def apple() -> Iterator[Provider]:
    yield from _provider("ES256")


async def _configure(
    client: httpx.AsyncClient, brand: Brand, provider: Provider, name: str = "google"
) -> str:
    client_id = f"tiffin-{brand.slug}"
    registration = {"client_id": client_id, "client_secret": SECRET, "redirect_uris": [REDIRECT]}
    assert provider.http.post("/sandbox/clients", json=registration).status_code == 201
    response = await client.put(
        "/v1/identity-providers",
        json={
            "name": name,
            "issuer": provider.url,
            "client_id": client_id,
            "client_secret": SECRET,
        },
        headers=brand.writer,
    )
    assert response.status_code == 200, response.text
    assert "client_secret" not in response.json()
    return client_id


async def _authorize(
    client: httpx.AsyncClient,
    brand: Brand,
    provider: Provider,
    user: dict[str, Any],
    name: str = "google",
) -> tuple[str, str]:
    started = await client.post(
        f"/v1/auth/oidc/{name}/start", json={"redirect_uri": REDIRECT}, headers=brand.headers
    )
    assert started.status_code == 200, started.text
    url = started.json()["authorization_url"]
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    redirect = provider.http.get(f"{url}&login_hint={quote(user['sub'])}")
    assert redirect.status_code == 302, redirect.text
    back = parse_qs(urlsplit(redirect.headers["location"]).query)
    return back["code"][0], back["state"][0]


async def _callback(
    client: httpx.AsyncClient, brand: Brand, code: str, state: str, name: str = "google"
) -> httpx.Response:
    return await client.post(
        f"/v1/auth/oidc/{name}/callback", json={"code": code, "state": state}, headers=brand.headers
    )


async def _me(client: httpx.AsyncClient, brand: Brand, response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    me = await client.get("/v1/me", headers={**brand.headers, "Authorization": f"Bearer {token}"})
    body: dict[str, Any] = me.json()
    return body


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["type"].endswith("/social-login-failed")


class TestCodeFlowWithPkce:
    async def test_first_sign_in_creates_a_customer_with_the_verified_email(
        self, client: httpx.AsyncClient, brand: Brand, google: Provider
    ) -> None:
        await _configure(client, brand, google)
        user = google.user()
        code, state = await _authorize(client, brand, google, user)
        me = await _me(client, brand, await _callback(client, brand, code, state))
        assert me["email"] == user["email"] and me["email_verified"] is True

    async def test_the_next_sign_in_finds_the_account_by_subject(
        self, client: httpx.AsyncClient, brand: Brand, google: Provider
    ) -> None:
        await _configure(client, brand, google)
        user = google.user()
        first = await _me(
            client,
            brand,
            await _callback(client, brand, *await _authorize(client, brand, google, user)),
        )
        second = await _me(
            client,
            brand,
            await _callback(client, brand, *await _authorize(client, brand, google, user)),
        )
        assert first["id"] == second["id"]

    async def test_an_es256_provider_works_too(
        self, client: httpx.AsyncClient, brand: Brand, apple: Provider
    ) -> None:
        await _configure(client, brand, apple, name="apple")
        user = apple.user()
        code, state = await _authorize(client, brand, apple, user, name="apple")
        me = await _me(client, brand, await _callback(client, brand, code, state, name="apple"))
        assert me["email"] == user["email"]

    async def test_a_verified_email_links_to_the_existing_account_and_voids_an_unproven_password(
        self, client: httpx.AsyncClient, brand: Brand, google: Provider
    ) -> None:
        await _configure(client, brand, google)
        email = unique_email()
        account = await register(client, brand, email=email)  # email never verified
        user = google.user(email=email)
        me = await _me(
            client,
            brand,
            await _callback(client, brand, *await _authorize(client, brand, google, user)),
        )
        assert me["id"] == account["id"] and me["email_verified"] is True
        assert (await login(client, brand, email)).status_code == 401

    async def test_an_unverified_provider_email_does_not_link(
        self, client: httpx.AsyncClient, brand: Brand, google: Provider
    ) -> None:
        await _configure(client, brand, google)
        email = unique_email()
        account = await register(client, brand, email=email)
        user = google.user(email=email, verified=False)
        me = await _me(
            client,
            brand,
            await _callback(client, brand, *await _authorize(client, brand, google, user)),
        )
        assert me["id"] != account["id"] and me["email"] is None


class TestRefusedAnswers:
    async def test_a_tampered_id_token(
        self, client: httpx.AsyncClient, brand: Brand, google: Provider
    ) -> None:
        await _configure(client, brand, google)
        code, state = await _authorize(client, brand, google, google.user())
        google.next_id_token(tamper=True)
        _refused(await _callback(client, brand, code, state))

    async def test_a_token_for_another_audience(
        self, client: httpx.AsyncClient, brand: Brand, google: Provider
    ) -> None:
        await _configure(client, brand, google)
        code, state = await _authorize(client, brand, google, google.user())
        google.next_id_token(aud="some-other-client")
        _refused(await _callback(client, brand, code, state))

    async def test_a_token_from_another_issuer(
        self, client: httpx.AsyncClient, brand: Brand, google: Provider
    ) -> None:
        await _configure(client, brand, google)
        code, state = await _authorize(client, brand, google, google.user())
        google.next_id_token(iss="https://evil.example.test")
        _refused(await _callback(client, brand, code, state))

    async def test_an_expired_token(
        self, client: httpx.AsyncClient, brand: Brand, google: Provider
    ) -> None:
        await _configure(client, brand, google)
        code, state = await _authorize(client, brand, google, google.user())
        google.next_id_token(exp_offset=-120)
        _refused(await _callback(client, brand, code, state))

    async def test_a_replayed_nonce(
        self, client: httpx.AsyncClient, brand: Brand, google: Provider
    ) -> None:
        await _configure(client, brand, google)
        user = google.user()
        started = await client.post(
            "/v1/auth/oidc/google/start", json={"redirect_uri": REDIRECT}, headers=brand.headers
        )
        old_nonce = parse_qs(urlsplit(started.json()["authorization_url"]).query)["nonce"][0]
        await _me(
            client,
            brand,
            await _callback(client, brand, *await _authorize(client, brand, google, user)),
        )
        # An attacker replays an ID token minted for an earlier (other) sign-in's nonce.
        code, state = await _authorize(client, brand, google, user)
        google.next_id_token(nonce=old_nonce)
        _refused(await _callback(client, brand, code, state))

    async def test_a_replayed_state(
        self, client: httpx.AsyncClient, brand: Brand, google: Provider
    ) -> None:
        await _configure(client, brand, google)
        code, state = await _authorize(client, brand, google, google.user())
        assert (await _callback(client, brand, code, state)).status_code == 200
        _refused(await _callback(client, brand, code, state))

    async def test_failures_are_audited(
        self, client: httpx.AsyncClient, brand: Brand, google: Provider
    ) -> None:
        from tests.identity.test_audit import events_of

        await _configure(client, brand, google)
        code, state = await _authorize(client, brand, google, google.user())
        google.next_id_token(tamper=True)
        await _callback(client, brand, code, state)
        assert "social_login_failed" in await events_of(client, brand)

    async def test_an_unknown_provider_is_a_404(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        response = await client.post(
            "/v1/auth/oidc/myspace/start", json={"redirect_uri": REDIRECT}, headers=brand.headers
        )
        assert response.status_code == 404
