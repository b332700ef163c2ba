"""An OpenID Connect provider that behaves like Google's or Apple's, for dev and tests.

Authorization code flow only, PKCE (S256) required, real RSA-2048 or P-256 signing keys. There
is no login page: `/authorize` consents at once as the sandbox user named by `login_hint`.
Hooks under `/sandbox/` register clients and users, rotate keys and spoil the next id_token
(bad signature, audience, issuer, nonce or expiry) so a relying party's checks can be tested.

State lives in memory on `app.state.provider`. Every route is `async`, so all of it runs on
the server's one event loop and needs no lock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from pydantic import BaseModel

from tiffin.infra.clock import Clock
from tiffin.infra.clock import clock as system_clock

Alg = Literal["RS256", "ES256"]

CODE_TTL = timedelta(seconds=60)
ID_TOKEN_TTL = 600
ACCESS_TOKEN_TTL = 3600
SCOPES = ["openid", "email", "profile"]
CLAIMS = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nonce",
    "auth_time",
    "email",
    "email_verified",
    "name",
]
# RFC 7636: a verifier is 43-128 unreserved characters; an S256 challenge is 43 base64url ones.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_FORM = "application/x-www-form-urlencoded"


class ClientIn(BaseModel):
    client_id: str
    client_secret: str
    redirect_uris: list[str]


class UserIn(BaseModel):
    sub: str
    email: str
    email_verified: bool = True
    name: str


class IdTokenOverrides(BaseModel):
    """Spoils the next id_token only; None leaves a claim as it would be."""

    tamper: bool = False
    aud: str | None = None
    iss: str | None = None
    nonce: str | None = None
    exp_offset: int | None = None


class OAuthError(Exception):
    """An RFC 6749 error: `error` is the registered code, sent as is to the client."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> JSONResponse:
        headers = {"Cache-Control": "no-store"}
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="sandbox"'
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers=headers)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: Alg
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    jwk: dict[str, Any]

    @classmethod
    def generate(cls, alg: Alg) -> SigningKey:
        kid = secrets.token_urlsafe(12)
        if alg == "RS256":
            rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return cls(kid, alg, rsa_key, cls._public_jwk(rsa_key, alg, kid))
        ec_key = ec.generate_private_key(ec.SECP256R1())
        return cls(kid, alg, ec_key, cls._public_jwk(ec_key, alg, kid))

    @staticmethod
    def _public_jwk(
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, alg: Alg, kid: str
    ) -> dict[str, Any]:
        if isinstance(key, rsa.RSAPrivateKey):
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    sub: str
    scope: str
    nonce: str | None
    code_challenge: str
    auth_time: datetime
    expires_at: datetime


@dataclass
class OidcProvider:
    alg: Alg = "RS256"
    clock: Clock = system_clock
    # The base URL the app is served on; the runner sets it once the port is known.
    issuer: str = "http://127.0.0.1"
    clients: dict[str, Client] = field(default_factory=dict)
    users: dict[str, UserIn] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    keys: list[SigningKey] = field(default_factory=list)  # the last one signs
    next_overrides: IdTokenOverrides | None = None

    def __post_init__(self) -> None:
        if not self.keys:
            self.rotate_keys()

    # -- admin --------------------------------------------------------------------------
    def register_client(self, data: ClientIn) -> None:
        self.clients[data.client_id] = Client(
            data.client_id, data.client_secret, tuple(data.redirect_uris)
        )

    def register_user(self, data: UserIn) -> None:
        self.users[data.sub] = data

    def rotate_keys(self) -> SigningKey:
        # Old keys stay published so tokens signed before the rotation still verify.
        key = SigningKey.generate(self.alg)
        self.keys.append(key)
        return key

    # -- documents ----------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self.alg],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "scopes_supported": SCOPES,
            "claims_supported": [*CLAIMS],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk for key in reversed(self.keys)]}

    # -- flow ---------------------------------------------------------------------------
    def client_for_redirect(self, params: dict[str, str]) -> tuple[Client, str]:
        """Errors here must not redirect: the redirect URI is not known to be the client's."""
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            raise OAuthError("invalid_client", "unknown client_id")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            raise OAuthError("invalid_request", "redirect_uri is not registered for this client")
        return client, redirect_uri

    def authorize(self, client: Client, redirect_uri: str, params: dict[str, str]) -> str:
        """Consents as the user named by login_hint and returns a fresh code."""
        response_type = params.get("response_type")
        if not response_type:
            raise OAuthError("invalid_request", "response_type is required")
        if response_type != "code":
            raise OAuthError("unsupported_response_type", "only response_type=code is supported")
        scope = params.get("scope", "")
        if "openid" not in scope.split():
            raise OAuthError("invalid_scope", "scope must contain openid")
        challenge = params.get("code_challenge")
        if not challenge:
            raise OAuthError("invalid_request", "code_challenge is required (PKCE)")
        if params.get("code_challenge_method") != "S256":
            raise OAuthError("invalid_request", "code_challenge_method must be S256")
        if not _S256_CHALLENGE.fullmatch(challenge):
            raise OAuthError("invalid_request", "code_challenge is not a base64url SHA-256 hash")
        login_hint = params.get("login_hint")
        if not login_hint:
            raise OAuthError("invalid_request", "login_hint (the sandbox user's sub) is required")
        if login_hint not in self.users:
            raise OAuthError("access_denied", f"no sandbox user with sub {login_hint!r}")

        now = self.clock.now()
        code = secrets.token_urlsafe(32)
        self.codes[code] = AuthorizationCode(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            sub=login_hint,
            scope=scope,
            nonce=params.get("nonce"),
            code_challenge=challenge,
            auth_time=now,
            expires_at=now + CODE_TTL,
        )
        return code

    def authenticate_client(self, form: dict[str, str], authorization: str | None) -> Client:
        basic = _basic_credentials(authorization)
        if basic is not None and "client_secret" in form:
            raise OAuthError("invalid_request", "use one client authentication method, not two")
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        client = self.clients.get(client_id)
        if client is None or not hmac.compare_digest(
            client.client_secret.encode(), secret.encode()
        ):
            raise OAuthError("invalid_client", "client authentication failed", status=401)
        if basic is not None and form.get("client_id", client_id) != client_id:
            raise OAuthError("invalid_request", "client_id differs from the authenticated client")
        return client

    def exchange(self, client: Client, form: dict[str, str]) -> dict[str, Any]:
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type != "authorization_code":
            raise OAuthError("unsupported_grant_type", "only authorization_code is supported")
        for name in ("code", "redirect_uri", "code_verifier"):
            if not form.get(name):
                raise OAuthError("invalid_request", f"{name} is required")
        verifier = form["code_verifier"]
        if not _VERIFIER.fullmatch(verifier):
            raise OAuthError("invalid_request", "code_verifier must be 43-128 unreserved chars")

        # Popped before any check: a code is spent by its first presentation, good or bad.
        code = self.codes.pop(form["code"], None)
        if code is None or code.client_id != client.client_id:
            raise OAuthError("invalid_grant", "unknown, used or foreign authorization code")
        if self.clock.now() >= code.expires_at:
            raise OAuthError("invalid_grant", "authorization code expired")
        if form["redirect_uri"] != code.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri differs from the authorize request")
        if not hmac.compare_digest(_s256(verifier), code.code_challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match code_challenge")

        return {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_TTL,
            "id_token": self.id_token(code),
            "scope": code.scope,
        }

    def id_token(self, code: AuthorizationCode) -> str:
        overrides, self.next_overrides = self.next_overrides or IdTokenOverrides(), None
        user = self.users[code.sub]
        now = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {
            "iss": overrides.iss or self.issuer,
            "sub": user.sub,
            "aud": overrides.aud or code.client_id,
            "exp": now + (ID_TOKEN_TTL if overrides.exp_offset is None else overrides.exp_offset),
            "iat": now,
            "auth_time": int(code.auth_time.timestamp()),
            "email": user.email,
            "email_verified": user.email_verified,
            "name": user.name,
        }
        nonce = overrides.nonce if overrides.nonce is not None else code.nonce
        if nonce is not None:
            claims["nonce"] = nonce
        key = self.keys[-1]
        token = jwt.encode(claims, key.private_key, algorithm=key.alg, headers={"kid": key.kid})
        return _tamper(token) if overrides.tamper else token


def create_oidc_provider(*, alg: Alg = "RS256", clock: Clock = system_clock) -> FastAPI:
    provider = OidcProvider(alg=alg, clock=clock)
    app = FastAPI(title="tiffin sandbox: OpenID Connect provider", openapi_url=None)
    app.state.provider = provider

    @app.get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        return provider.discovery()

    @app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        return provider.jwks()

    @app.get("/authorize")
    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        try:
            client, redirect_uri = provider.client_for_redirect(params)
        except OAuthError as e:
            return e.response()
        answer: dict[str, str]
        try:
            answer = {"code": provider.authorize(client, redirect_uri, params)}
        except OAuthError as e:
            answer = {"error": e.error, "error_description": e.description}
        if "state" in params:
            answer["state"] = params["state"]
        return RedirectResponse(_with_query(redirect_uri, answer), status_code=302)

    @app.post("/token")
    async def token(request: Request) -> Response:
        try:
            form = await _token_form(request)
            client = provider.authenticate_client(form, request.headers.get("authorization"))
            body = provider.exchange(client, form)
        except OAuthError as e:
            return e.response()
        # RFC 6749 5.1: token responses must not be cached.
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    @app.post("/sandbox/clients", status_code=201)
    async def register_client(body: ClientIn) -> dict[str, Any]:
        provider.register_client(body)
        return {"client_id": body.client_id, "redirect_uris": body.redirect_uris}

    @app.post("/sandbox/users", status_code=201)
    async def register_user(body: UserIn) -> UserIn:
        provider.register_user(body)
        return body

    @app.post("/sandbox/next-id-token")
    async def next_id_token(body: IdTokenOverrides) -> IdTokenOverrides:
        provider.next_overrides = body
        return body

    @app.post("/sandbox/rotate-keys")
    async def rotate_keys() -> dict[str, str]:
        return {"kid": provider.rotate_keys().kid}

    return app


async def _token_form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != _FORM:
        raise OAuthError("invalid_request", f"the token request must be {_FORM}")
    pairs = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    form = dict(pairs)
    if len(form) != len(pairs):
        raise OAuthError("invalid_request", "a parameter is repeated")  # RFC 6749 3.2
    return form


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """client_secret_basic: both halves are form-urlencoded before base64 (RFC 6749 2.3.1)."""
    if authorization is None:
        return None
    scheme, _, param = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(param.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as e:
        raise OAuthError("invalid_client", "malformed Basic credentials", status=401) from e
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_client", "malformed Basic credentials", status=401)
    return unquote_plus(client_id), unquote_plus(secret)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _tamper(token: str) -> str:
    # Flip the signature's first character: the last one may carry only padding bits, so
    # changing it can leave the decoded signature, and its validity, unchanged.
    head, _, signature = token.rpartition(".")
    flipped = "B" if signature[0] == "A" else "A"
    return f"{head}.{flipped}{signature[1:]}"


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit(parts._replace(query=query))
