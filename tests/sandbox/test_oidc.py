"""The sandbox OpenID Connect provider, over real HTTP, checked the way a relying party would."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from tiffin.infra.clock import FrozenClock
from tiffin.sandbox.oidc import Alg, create_oidc_provider
from tiffin.sandbox.server import SandboxServer

CLIENT_ID = "tiffin-web"
CLIENT_SECRET = "s3cret"
REDIRECT_URI = "https://app.tiffin.test/auth/callback"
SUB = "user-1"
USER = {"sub": SUB, "email": "asha@example.test", "email_verified": True, "name": "Asha"}


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


@dataclass
class Provider:
    """A started provider with one client and one user, and the steps of the flow."""

    url: str
    http: httpx.Client

    def setup(self) -> None:
        client = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [REDIRECT_URI],
        }
        assert self.http.post(f"{self.url}/sandbox/clients", json=client).status_code == 201
        assert self.http.post(f"{self.url}/sandbox/users", json=USER).status_code == 201

    def authorize(self, verifier: str = "v" * 43, /, **params: str | None) -> httpx.Response:
        query: dict[str, str | None] = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid email profile",
            "state": "st-1",
            "nonce": "n-1",
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
            "login_hint": SUB,
        }
        query |= params
        sent = {k: v for k, v in query.items() if v is not None}
        return self.http.get(f"{self.url}/authorize", params=sent)

    def code(self, verifier: str, **params: str | None) -> str:
        response = self.authorize(verifier, **params)
        assert response.status_code == 302, response.text
        return redirect_params(response)["code"]

    def token(
        self, code: str, verifier: str, *, basic: bool = False, **form: str
    ) -> httpx.Response:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
        if basic:
            return self.http.post(
                f"{self.url}/token", data=data | form, auth=(CLIENT_ID, CLIENT_SECRET)
            )
        data |= {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        return self.http.post(f"{self.url}/token", data=data | form)

    def id_token(self, *, nonce: str = "n-1") -> str:
        verifier = secrets.token_urlsafe(48)
        response = self.token(self.code(verifier, nonce=nonce), verifier)
        assert response.status_code == 200, response.text
        token: str = response.json()["id_token"]
        return token

    def verify(self, token: str, *, nonce: str = "n-1") -> dict[str, Any]:
        """What a relying party does: key by kid from the JWKS, then iss, aud, exp, nonce."""
        keys = jwt.PyJWKSet.from_dict(self.http.get(f"{self.url}/jwks").json())
        header = jwt.get_unverified_header(token)
        key = next(k for k in keys.keys if k.key_id == header["kid"])
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[header["alg"]], audience=CLIENT_ID, issuer=self.url
        )
        if claims.get("nonce") != nonce:
            raise jwt.InvalidTokenError("nonce mismatch")
        return claims


def redirect_params(response: httpx.Response) -> dict[str, str]:
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def start(alg: Alg = "RS256") -> Iterator[Provider]:
    with SandboxServer(create_oidc_provider(alg=alg)) as server, httpx.Client(timeout=5) as http:
        provider = Provider(server.url, http)
        provider.setup()
        yield provider


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    yield from start("RS256")


@pytest.fixture(scope="module")
def es256() -> Iterator[Provider]:
    yield from start("ES256")


class TestDiscovery:
    def test_the_document_points_at_the_served_url(self, provider: Provider) -> None:
        doc = provider.http.get(f"{provider.url}/.well-known/openid-configuration").json()
        assert doc["issuer"] == provider.url
        assert doc["authorization_endpoint"] == f"{provider.url}/authorize"
        assert doc["token_endpoint"] == f"{provider.url}/token"
        assert doc["jwks_uri"] == f"{provider.url}/jwks"
        assert doc["response_types_supported"] == ["code"]
        assert doc["subject_types_supported"] == ["public"]
        assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
        assert doc["code_challenge_methods_supported"] == ["S256"]
        assert set(doc["token_endpoint_auth_methods_supported"]) == {
            "client_secret_post",
            "client_secret_basic",
        }
        assert "openid" in doc["scopes_supported"]

    def test_the_jwks_holds_public_signing_keys_only(self, provider: Provider) -> None:
        keys = provider.http.get(f"{provider.url}/jwks").json()["keys"]
        assert keys
        for key in keys:
            assert key["kid"] and key["kty"] == "RSA" and key["alg"] == "RS256"
            assert key["use"] == "sig"
            assert "d" not in key and "p" not in key


class TestAuthorize:
    def test_it_redirects_with_a_code_and_the_state(self, provider: Provider) -> None:
        params = redirect_params(provider.authorize())
        assert params["state"] == "st-1"
        assert params["code"]

    def test_an_unknown_client_gets_a_400_not_a_redirect(self, provider: Provider) -> None:
        response = provider.authorize(client_id="nobody")
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_client"

    def test_an_unregistered_redirect_uri_gets_a_400_not_a_redirect(
        self, provider: Provider
    ) -> None:
        response = provider.authorize(redirect_uri="https://evil.test/callback")
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"

    @pytest.mark.parametrize(
        ("params", "error"),
        [
            ({"code_challenge": None}, "invalid_request"),
            ({"code_challenge_method": "plain"}, "invalid_request"),
            ({"code_challenge_method": None}, "invalid_request"),
            ({"scope": "email"}, "invalid_scope"),
            ({"response_type": "token"}, "unsupported_response_type"),
            ({"login_hint": "stranger"}, "access_denied"),
        ],
    )
    def test_a_bad_request_redirects_back_with_an_error(
        self, provider: Provider, params: dict[str, str | None], error: str
    ) -> None:
        response = provider.authorize(**params)
        assert response.status_code == 302
        answer = redirect_params(response)
        assert answer["error"] == error
        assert answer["state"] == "st-1"
        assert "code" not in answer


class TestToken:
    def test_the_code_flow_yields_an_id_token_that_verifies(self, provider: Provider) -> None:
        verifier = secrets.token_urlsafe(48)
        response = provider.token(provider.code(verifier), verifier)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["access_token"] and body["expires_in"] > 0
        assert body["scope"] == "openid email profile"
        claims = provider.verify(body["id_token"])
        assert claims["sub"] == SUB
        assert claims["email"] == USER["email"] and claims["email_verified"] is True
        assert claims["name"] == USER["name"]
        assert claims["exp"] - claims["iat"] == 600
        assert claims["auth_time"] <= claims["iat"]

    def test_client_secret_basic_authenticates_too(self, provider: Provider) -> None:
        verifier = secrets.token_urlsafe(48)
        response = provider.token(provider.code(verifier), verifier, basic=True)
        assert response.status_code == 200, response.text
        provider.verify(response.json()["id_token"])

    def test_a_wrong_code_verifier_is_an_invalid_grant(self, provider: Provider) -> None:
        code = provider.code(secrets.token_urlsafe(48))
        response = provider.token(code, secrets.token_urlsafe(48))
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"

    def test_a_code_works_once(self, provider: Provider) -> None:
        verifier = secrets.token_urlsafe(48)
        code = provider.code(verifier)
        assert provider.token(code, verifier).status_code == 200
        again = provider.token(code, verifier)
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"

    def test_a_different_redirect_uri_is_an_invalid_grant(self, provider: Provider) -> None:
        verifier = secrets.token_urlsafe(48)
        response = provider.token(
            provider.code(verifier), verifier, redirect_uri="https://app.tiffin.test/other"
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"

    def test_a_bad_client_secret_is_an_invalid_client(self, provider: Provider) -> None:
        verifier = secrets.token_urlsafe(48)
        response = provider.token(provider.code(verifier), verifier, client_secret="wrong")
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"

    def test_an_unknown_client_is_an_invalid_client(self, provider: Provider) -> None:
        verifier = secrets.token_urlsafe(48)
        response = provider.token(provider.code(verifier), verifier, client_id="nobody")
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"

    def test_a_json_body_is_an_invalid_request(self, provider: Provider) -> None:
        response = provider.http.post(f"{provider.url}/token", json={"grant_type": "x"})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"

    def test_a_code_expires_after_a_minute(self) -> None:
        clock = FrozenClock(datetime.now(UTC))
        app = create_oidc_provider(clock=clock)
        with SandboxServer(app) as server, httpx.Client(timeout=5) as http:
            provider = Provider(server.url, http)
            provider.setup()
            verifier = secrets.token_urlsafe(48)
            code = provider.code(verifier)
            clock.advance(timedelta(seconds=61))
            response = provider.token(code, verifier)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"


class TestNextIdTokenOverrides:
    @pytest.mark.parametrize(
        ("override", "error"),
        [
            ({"tamper": True}, jwt.InvalidSignatureError),
            ({"aud": "someone-else"}, jwt.InvalidAudienceError),
            ({"iss": "https://evil.test"}, jwt.InvalidIssuerError),
            ({"exp_offset": -60}, jwt.ExpiredSignatureError),
            ({"nonce": "replayed"}, jwt.InvalidTokenError),
        ],
    )
    def test_the_next_token_fails_verification_and_the_one_after_is_sound(
        self, provider: Provider, override: dict[str, object], error: type[Exception]
    ) -> None:
        response = provider.http.post(f"{provider.url}/sandbox/next-id-token", json=override)
        assert response.status_code == 200, response.text
        with pytest.raises(error):
            provider.verify(provider.id_token())
        provider.verify(provider.id_token())

    def test_the_overrides_set_the_claims_asked_for(self, provider: Provider) -> None:
        override = {"aud": "other-app", "iss": "https://x.test", "nonce": "n-9", "exp_offset": 5}
        provider.http.post(f"{provider.url}/sandbox/next-id-token", json=override)
        claims = jwt.decode(provider.id_token(), options={"verify_signature": False})
        assert claims["aud"] == "other-app"
        assert claims["iss"] == "https://x.test"
        assert claims["nonce"] == "n-9"
        assert claims["exp"] - claims["iat"] == 5


class TestKeyRotation:
    def test_new_tokens_use_the_new_key_and_old_ones_still_verify(self, provider: Provider) -> None:
        before = provider.id_token()
        old_kid = jwt.get_unverified_header(before)["kid"]

        response = provider.http.post(f"{provider.url}/sandbox/rotate-keys")
        new_kid = response.json()["kid"]

        kids = [k["kid"] for k in provider.http.get(f"{provider.url}/jwks").json()["keys"]]
        assert new_kid != old_kid
        assert {old_kid, new_kid} <= set(kids)
        after = provider.id_token()
        assert jwt.get_unverified_header(after)["kid"] == new_kid
        provider.verify(after)
        provider.verify(before)


class TestES256:
    def test_discovery_and_jwks_advertise_p256(self, es256: Provider) -> None:
        doc = es256.http.get(f"{es256.url}/.well-known/openid-configuration").json()
        assert doc["id_token_signing_alg_values_supported"] == ["ES256"]
        (key,) = es256.http.get(f"{es256.url}/jwks").json()["keys"]
        assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
        assert "d" not in key

    def test_the_id_token_is_es256_signed_and_verifies(self, es256: Provider) -> None:
        token = es256.id_token()
        assert jwt.get_unverified_header(token)["alg"] == "ES256"
        assert es256.verify(token)["sub"] == SUB

    def test_a_tampered_es256_token_fails(self, es256: Provider) -> None:
        es256.http.post(f"{es256.url}/sandbox/next-id-token", json={"tamper": True})
        with pytest.raises(jwt.InvalidSignatureError):
            es256.verify(es256.id_token())
