"""Identity over HTTP: sign-in methods, tokens, sessions, accounts, roles, plans, audit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tiffin.identity.errors import InvalidToken
from tiffin.identity.schemas import (
    Account,
    AccountCreate,
    AccountPrincipal,
    ClientInfo,
    Entitlements,
    OidcCallback,
    OidcProviderCreate,
    OidcProviderInfo,
    OidcStart,
    OidcStarted,
    OtpRequest,
    OtpSent,
    OtpVerify,
    PasswordChange,
    PasswordLogin,
    Plan,
    PlanCreate,
    RefreshRequest,
    Registration,
    Role,
    RoleAssignment,
    RoleCreate,
    SecurityEventPage,
    Session,
    Subscription,
    SubscriptionCreate,
    SubscriptionTransition,
    TokenPair,
)
from tiffin.identity.service import identity
from tiffin.infra.http.auth import Principal, Unauthenticated, require_scope
from tiffin.infra.http.deps import ResourcesDep, SessionDep, TenantId
from tiffin.infra.http.errors import TiffinError, problem
from tiffin.infra.http.features import feature
from tiffin.infra.http.idempotency import IdempotencyDep
from tiffin.infra.http.middleware import header
from tiffin.infra.resources import Resources

# -- wiring -------------------------------------------------------------------------------------


@asynccontextmanager
async def identity_runtime(resources: Resources) -> AsyncIterator[None]:
    """Configures the identity service for this process and keeps its key ring and
    revocation mirror current while the app runs."""
    identity.configure(resources.settings, resources.redis, resources.http)
    await identity.load_keys(resources.sessionmaker)
    stop = asyncio.Event()
    watcher = asyncio.create_task(identity.watch(resources.sessionmaker, stop))
    try:
        yield
    finally:
        stop.set()
        await watcher


def _bearer(scope: Scope) -> str | None:
    """A bearer JWT (tenant API keys, `tfn_…`, are the tenancy middleware's)."""
    scheme, _, token = (header(scope, b"authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and token and not token.startswith("tfn_"):
        return token.strip()
    return None


class AccessTokenMiddleware:
    """Authenticates `Authorization: Bearer <JWT>` on tenant routes. Runs after the tenant is
    resolved: a token issued for another brand is refused here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state", {})
        token = _bearer(scope) if scope["type"] in ("http", "websocket") else None
        if token is None or state.get("tenant_id") is None:
            await self.app(scope, receive, send)
            return
        try:
            principal = await identity.authenticate(
                scope["app"].state.resources.sessionmaker, token, state["tenant_id"]
            )
        except TiffinError as error:
            await problem(error, instance=scope["path"], request_id=state.get("request_id"))(
                scope, receive, send
            )
            return
        state["principal"] = principal
        structlog.contextvars.bind_contextvars(account_id=str(principal.account_id))
        await self.app(scope, receive, send)


async def client_info(request: Request) -> ClientInfo:
    return ClientInfo(
        ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", ""),
    )


async def current_account(request: Request) -> AccountPrincipal:
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, AccountPrincipal):
        raise Unauthenticated()
    return principal


async def sensitive_account(request: Request) -> AccountPrincipal:
    """For routes where a revoked session must stop at once, not at token expiry."""
    principal = await current_account(request)
    await identity.ensure_not_revoked(principal)
    return principal


def require(permission: str) -> Any:
    return Depends(require_scope(permission))


def entitled(feature: str) -> Any:
    """A route only accounts whose plan includes `feature` may call."""

    async def dependency(session: SessionDep, me: CurrentAccount) -> AccountPrincipal:
        await identity.require_feature(session, me, feature)
        return me

    return Depends(dependency)


Client = Annotated[ClientInfo, Depends(client_info)]
CurrentAccount = Annotated[AccountPrincipal, Depends(current_account)]
SensitiveAccount = Annotated[AccountPrincipal, Depends(sensitive_account)]

# -- sign-in ------------------------------------------------------------------------------------

auth = APIRouter(prefix="/v1/auth", tags=["identity: sign-in"])


@auth.post("/register", status_code=201, response_model=Account)
async def register(
    body: Registration,
    session: SessionDep,
    tenant_id: TenantId,
    client: Client,
    idempotency: IdempotencyDep,
) -> Response:
    return await idempotency.run(
        lambda: identity.register(session, tenant_id, data=body, client=client)
    )


@auth.post("/login", response_model=TokenPair, dependencies=[feature("password_login")])
async def login(
    body: PasswordLogin, resources: ResourcesDep, tenant_id: TenantId, client: Client
) -> TokenPair:
    return await identity.login_password(
        resources.sessionmaker, tenant_id, data=body, client=client
    )


@auth.post("/otp", status_code=202, response_model=OtpSent, dependencies=[feature("otp_login")])
async def send_otp(body: OtpRequest, tenant_id: TenantId, client: Client) -> OtpSent:
    return await identity.send_otp(tenant_id, phone=body.phone, client=client)


@auth.post("/otp/verify", response_model=TokenPair, dependencies=[feature("otp_login")])
async def verify_otp(
    body: OtpVerify, resources: ResourcesDep, tenant_id: TenantId, client: Client
) -> TokenPair:
    return await identity.verify_otp(resources.sessionmaker, tenant_id, data=body, client=client)


@auth.post(
    "/oidc/{provider}/start", response_model=OidcStarted, dependencies=[feature("social_login")]
)
async def start_oidc(
    provider: str, body: OidcStart, session: SessionDep, tenant_id: TenantId
) -> OidcStarted:
    return await identity.start_oidc(
        session, tenant_id, provider=provider, redirect_uri=body.redirect_uri
    )


@auth.post("/oidc/{provider}/callback", response_model=TokenPair)
async def finish_oidc(
    provider: str,
    body: OidcCallback,
    resources: ResourcesDep,
    tenant_id: TenantId,
    client: Client,
) -> TokenPair:
    return await identity.finish_oidc(
        resources.sessionmaker, tenant_id, provider=provider, data=body, client=client
    )


@auth.post("/refresh", response_model=TokenPair)
async def refresh(
    body: RefreshRequest, resources: ResourcesDep, tenant_id: TenantId, client: Client
) -> TokenPair:
    return await identity.refresh(
        resources.sessionmaker, tenant_id, token=body.refresh_token, client=client
    )


@auth.post("/logout", status_code=204)
async def logout(session: SessionDep, me: CurrentAccount, client: Client) -> None:
    await identity.revoke_session(session, me, me.session_id, client)


# -- the signed-in account ----------------------------------------------------------------------

me = APIRouter(prefix="/v1/me", tags=["identity: me"])


@me.get("", response_model=Account)
async def get_me(session: SessionDep, me: CurrentAccount) -> Account:
    return await identity.get_account(session, me, me.account_id)


@me.get("/sessions", response_model=list[Session])
async def list_sessions(session: SessionDep, me: CurrentAccount) -> list[Session]:
    return await identity.list_sessions(session, me)


@me.delete("/sessions/{session_id}", status_code=204)
async def revoke_session(
    session_id: uuid.UUID, session: SessionDep, me: CurrentAccount, client: Client
) -> None:
    await identity.revoke_session(session, me, session_id, client)


@me.post("/sessions/revoke-others")
async def revoke_other_sessions(
    session: SessionDep, me: CurrentAccount, client: Client
) -> dict[str, int]:
    return {"revoked": await identity.revoke_other_sessions(session, me, client)}


@me.post("/logout-all")
async def logout_everywhere(
    session: SessionDep, me: SensitiveAccount, client: Client
) -> dict[str, int]:
    return {"revoked": await identity.logout_everywhere(session, me, client)}


@me.post("/password", status_code=204)
async def change_password(
    body: PasswordChange, session: SessionDep, me: SensitiveAccount, client: Client
) -> None:
    await identity.change_password(session, me, data=body, client=client)


@me.get("/entitlements", response_model=Entitlements)
async def my_entitlements(session: SessionDep, me: CurrentAccount) -> Entitlements:
    return await identity.entitlements(session, me.tenant_id, me.account_id)


# -- accounts, roles, plans, audit (brand administration) ---------------------------------------

admin = APIRouter(prefix="/v1", tags=["identity: administration"])


@admin.get("/accounts/{account_id}", response_model=Account)
async def get_account(account_id: uuid.UUID, session: SessionDep, me: CurrentAccount) -> Account:
    return await identity.get_account(session, me, account_id)


@admin.post("/accounts", status_code=201, response_model=Account)
async def create_account(
    body: AccountCreate,
    session: SessionDep,
    tenant_id: TenantId,
    idempotency: IdempotencyDep,
    _: Annotated[Principal, require("accounts:write")],
) -> Response:
    return await idempotency.run(lambda: identity.create_account(session, tenant_id, data=body))


@admin.put("/accounts/{account_id}/roles", response_model=list[str])
async def assign_roles(
    account_id: uuid.UUID,
    body: RoleAssignment,
    session: SessionDep,
    me: CurrentAccount,
    client: Client,
    _: Annotated[Principal, require("roles:write")],
) -> list[str]:
    return await identity.assign_roles(session, me, account_id, body.roles, client)


@admin.get("/roles", response_model=list[Role])
async def list_roles(
    session: SessionDep, _: Annotated[Principal, require("roles:write")]
) -> list[Role]:
    return await identity.list_roles(session)


@admin.post("/roles", status_code=201, response_model=Role)
async def create_role(
    body: RoleCreate,
    session: SessionDep,
    tenant_id: TenantId,
    _: Annotated[Principal, require("roles:write")],
) -> Role:
    return await identity.create_role(session, tenant_id, data=body)


@admin.post("/plans", status_code=201, response_model=Plan)
async def create_plan(
    body: PlanCreate,
    session: SessionDep,
    tenant_id: TenantId,
    _: Annotated[Principal, require("plans:write")],
) -> Plan:
    return await identity.create_plan(session, tenant_id, data=body)


@admin.put("/accounts/{account_id}/subscription", response_model=Subscription)
async def subscribe(
    account_id: uuid.UUID,
    body: SubscriptionCreate,
    session: SessionDep,
    tenant_id: TenantId,
    _: Annotated[Principal, require("plans:write")],
) -> Subscription:
    return await identity.subscribe(session, tenant_id, account_id, plan_code=body.plan_code)


@admin.post("/accounts/{account_id}/subscription/transition", response_model=Subscription)
async def transition_subscription(
    account_id: uuid.UUID,
    body: SubscriptionTransition,
    session: SessionDep,
    _: Annotated[Principal, require("plans:write")],
) -> Subscription:
    return await identity.transition(session, account_id, to=body.to)


@admin.get("/security-events", response_model=SecurityEventPage)
async def security_events(
    session: SessionDep,
    _: Annotated[Principal, require("audit:read")],
    account_id: uuid.UUID | None = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SecurityEventPage:
    return await identity.security_events(
        session, account_id=account_id, type_=type, cursor=cursor, limit=limit
    )


@admin.put("/identity-providers", response_model=OidcProviderInfo)
async def put_identity_provider(
    body: OidcProviderCreate,
    session: SessionDep,
    tenant_id: TenantId,
    _: Annotated[Principal, require("identity_providers:write")],
) -> OidcProviderInfo:
    return await identity.add_oidc_provider(session, tenant_id, data=body)


# -- keys ---------------------------------------------------------------------------------------

well_known = APIRouter(tags=["identity: keys"])


@well_known.get("/.well-known/jwks.json", summary="Public keys that verify access tokens")
async def jwks(response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return identity.jwks()


routers = [auth, me, admin, well_known]

__all__ = ["AccessTokenMiddleware", "InvalidToken", "identity_runtime", "routers"]
