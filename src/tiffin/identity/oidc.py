"""OpenID Connect relying party: authorization code flow with PKCE, state and nonce.

Discovery documents and JWKS are cached per issuer; an ID token signed by an unknown key
triggers one JWKS refresh (the provider rotated), then is refused.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from tiffin.identity.errors import OidcFailed

_CACHE_SECONDS = 3600.0
_ALGORITHMS = ["RS256", "ES256"]


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


@dataclass(frozen=True)
class IdClaims:
    subject: str
    email: str | None
    email_verified: bool
    name: str
    nonce: str


class OidcClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self._discovery: dict[str, tuple[float, dict[str, Any]]] = {}
        self._jwks: dict[str, jwt.PyJWKSet] = {}

    async def discover(self, issuer: str) -> dict[str, Any]:
        cached = self._discovery.get(issuer)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = await self.http.get(url)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as e:
            raise OidcFailed("the provider's discovery document is unavailable") from e
        if document.get("issuer") != issuer:
            raise OidcFailed("the discovery document names another issuer")
        self._discovery[issuer] = (time.monotonic() + _CACHE_SECONDS, document)
        return document

    def authorization_url(
        self,
        document: dict[str, Any],
        *,
        client_id: str,
        redirect_uri: str,
        scopes: str,
        state: str,
        nonce: str,
        challenge: str,
    ) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{document['authorization_endpoint']}?{query}"

    async def exchange(
        self,
        document: dict[str, Any],
        *,
        client_id: str,
        client_secret: str,
        code: str,
        redirect_uri: str,
        verifier: str,
    ) -> str:
        """Trades the code for tokens; returns the ID token."""
        try:
            response = await self.http.post(
                document["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                    "client_id": client_id,
                    "client_secret": client_secret,
                },
            )
        except httpx.HTTPError as e:
            raise OidcFailed("the provider's token endpoint is unavailable") from e
        if response.status_code != 200:
            raise OidcFailed(f"the provider refused the code ({response.status_code})")
        id_token = response.json().get("id_token")
        if not isinstance(id_token, str):
            raise OidcFailed("the provider sent no ID token")
        return id_token

    async def _key(self, document: dict[str, Any], kid: str) -> jwt.PyJWK:
        uri = document["jwks_uri"]
        for refresh in (False, True):
            if refresh or uri not in self._jwks:
                try:
                    response = await self.http.get(uri)
                    response.raise_for_status()
                    self._jwks[uri] = jwt.PyJWKSet.from_dict(response.json())
                except (httpx.HTTPError, ValueError, jwt.PyJWTError) as e:
                    raise OidcFailed("the provider's keys are unavailable") from e
            for key in self._jwks[uri].keys:
                if key.key_id == kid:
                    return key
        raise OidcFailed("the ID token is signed by an unknown key")

    async def verify_id_token(
        self, document: dict[str, Any], id_token: str, *, client_id: str, nonce: str
    ) -> IdClaims:
        try:
            header = jwt.get_unverified_header(id_token)
            key = await self._key(document, str(header.get("kid", "")))
            claims = jwt.decode(
                id_token,
                key,
                algorithms=_ALGORITHMS,
                audience=client_id,
                issuer=document["issuer"],
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
                leeway=30,
            )
        except jwt.PyJWTError as e:
            raise OidcFailed(f"the ID token was refused: {e}") from e
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise OidcFailed("the ID token's nonce does not match this sign-in")
        return IdClaims(
            subject=str(claims["sub"]),
            email=claims.get("email"),
            email_verified=bool(claims.get("email_verified", False)),
            name=str(claims.get("name") or ""),
            nonce=nonce,
        )
