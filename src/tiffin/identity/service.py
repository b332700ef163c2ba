"""Identity: accounts, logins, tokens, sessions, roles, plans and the security audit.

Login, OTP, social login and refresh open their own transaction (they are given the
sessionmaker): a failed attempt must still commit its audit record, its lockout count or a
revoked token family before the error reaches the client.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import structlog
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiffin.identity import permissions as perms
from tiffin.identity.abuse import Lockout
from tiffin.identity.errors import (
    AccountExists,
    AccountNotFound,
    FeatureNotEntitled,
    Forbidden,
    InvalidCredentials,
    InvalidOtp,
    InvalidRefreshToken,
    InvalidToken,
    InvalidTransition,
    OidcFailed,
    OtpAttemptsExceeded,
    PlanExists,
    PlanNotFound,
    RoleExists,
    SessionLimitReached,
    SessionNotFound,
    SessionRevoked,
    SubscriptionNotFound,
    TooManyAttempts,
    UnknownProvider,
    UnknownRole,
)
from tiffin.identity.events import AccountCreated, SecurityEventRecorded
from tiffin.identity.models import Account as AccountRow
from tiffin.identity.models import (
    DeviceSession,
    FederatedIdentity,
    OidcProvider,
    RefreshToken,
    SigningKey,
)
from tiffin.identity.models import Plan as PlanRow
from tiffin.identity.models import Role as RoleRow
from tiffin.identity.models import SecurityEvent as SecurityEventRow
from tiffin.identity.models import Subscription as SubscriptionRow
from tiffin.identity.oidc import OidcClient, pkce_pair
from tiffin.identity.otp import Cooldown, OneTimeCodes, OtpOutcome
from tiffin.identity.passwords import Passwords
from tiffin.identity.repository import IdentityRepository
from tiffin.identity.schemas import (
    Account,
    AccountCreate,
    AccountPrincipal,
    ClientInfo,
    Entitlements,
    OidcCallback,
    OidcProviderCreate,
    OidcProviderInfo,
    OidcStarted,
    OtpSent,
    OtpVerify,
    PasswordChange,
    PasswordLogin,
    Plan,
    PlanCreate,
    Registration,
    Role,
    RoleCreate,
    SecurityEvent,
    SecurityEventPage,
    Session,
    Subscription,
    SubscriptionStatus,
    TokenPair,
    normalise_identifier,
)
from tiffin.identity.tokens import (
    ALG,
    KeyRing,
    RevokedSessions,
    TokenVerifier,
    load_private,
    new_rsa_key,
    private_pem,
    public_jwk,
    sign_access_token,
)
from tiffin.infra.bus import outbox
from tiffin.infra.clock import clock
from tiffin.infra.crypto import SecretBox, derive_key
from tiffin.infra.db import tenant_transaction
from tiffin.infra.http.errors import BadRequest, ServiceUnavailable
from tiffin.infra.ids import new_id
from tiffin.infra.ratelimit import Limit, RateLimited, RateLimiter
from tiffin.infra.sms import SmsFailed, SmsProvider, TwilioSms
from tiffin.settings import Settings

log = structlog.get_logger(__name__)

REVOKED_KEY = "tiffin:revoked-sessions"
REVOCATIONS_CHANNEL = "tiffin:revocations"
KEYS_CHANNEL = "tiffin:signing-keys"
ENTITLED = ("trialing", "active", "past_due")
TRANSITIONS: dict[str, frozenset[str]] = {
    "trialing": frozenset({"active", "cancelled", "expired"}),
    "active": frozenset({"past_due", "cancelled"}),
    "past_due": frozenset({"active", "cancelled", "expired"}),
    "cancelled": frozenset({"active", "expired"}),
    "expired": frozenset(),
}


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class IdentityService:
    """Holds per-process machinery (key ring, verifier, caches); `configure` wires it."""

    settings: Settings
    redis: Redis

    def configure(self, settings: Settings, redis: Redis, http: httpx.AsyncClient) -> None:
        secret = settings.secret_key.get_secret_value()
        self.settings = settings
        self.redis = redis
        self.box = SecretBox(secret, "identity")
        self.passwords = Passwords(
            pepper=settings.password_pepper.get_secret_value(),
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        self.keys = KeyRing()
        self.revoked = RevokedSessions()
        self.verifier = TokenVerifier(self.keys, self.revoked, issuer=settings.jwt_issuer)
        self.limiter = RateLimiter(redis)
        self.lockout = Lockout(
            redis,
            threshold=settings.lockout_threshold,
            base_seconds=settings.lockout_base_seconds,
            max_seconds=settings.lockout_max_seconds,
        )
        self.otp = OneTimeCodes(
            redis,
            key=derive_key(secret, "otp"),
            ttl=settings.otp_ttl_seconds,
            max_attempts=settings.otp_max_attempts,
            resend_after=settings.otp_resend_seconds,
        )
        self.oidc = OidcClient(http)
        self.sms: SmsProvider | None = (
            TwilioSms(
                http,
                base_url=settings.sms_api_url,
                account_sid=settings.sms_account_sid,
                auth_token=settings.sms_auth_token.get_secret_value(),
                sender=settings.sms_from,
            )
            if settings.sms_api_url
            else None
        )
        self._custom_roles: dict[uuid.UUID, tuple[float, dict[str, frozenset[str]]]] = {}

    # -- accounts ---------------------------------------------------------------------------
    async def create_account(
        self, session: AsyncSession, tenant_id: uuid.UUID, *, data: AccountCreate
    ) -> Account:
        row = await self._new_account(
            session,
            tenant_id,
            kind=data.kind,
            name=data.name,
            phone=data.phone,
            email=data.email,
            password=data.password,
            restaurant_id=data.restaurant_id,
        )
        return Account.model_validate(row)

    async def register(
        self, session: AsyncSession, tenant_id: uuid.UUID, *, data: Registration, client: ClientInfo
    ) -> Account:
        row = await self._new_account(
            session,
            tenant_id,
            kind="customer",
            name=data.name,
            phone=data.phone,
            email=data.email,
            password=data.password,
        )
        await self._audit(session, tenant_id, "account_created", row.id, client)
        return Account.model_validate(row)

    async def _new_account(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        *,
        kind: str,
        name: str,
        phone: str | None,
        email: str | None,
        password: str | None = None,
        restaurant_id: uuid.UUID | None = None,
        phone_verified: bool = False,
        email_verified: bool = False,
    ) -> AccountRow:
        repo = IdentityRepository.from_session(session)
        if await repo.find_account(phone=phone, email=email):
            raise AccountExists()
        row = AccountRow(
            tenant_id=tenant_id,
            kind=kind,
            name=name,
            phone=phone,
            email=email,
            phone_verified=phone_verified,
            email_verified=email_verified,
            password_hash=await self.passwords.hash(password) if password else None,
            restaurant_id=restaurant_id,
            status="active",
        )
        await repo.add(row)
        await outbox.append(
            session,
            AccountCreated(account_id=row.id, kind=kind),
            tenant_id=tenant_id,
            aggregate_id=row.id,
        )
        return row

    async def get_account(
        self, session: AsyncSession, principal: AccountPrincipal, account_id: uuid.UUID
    ) -> Account:
        """An account may read itself; reading others needs `accounts:read_any`."""
        if account_id != principal.account_id and not _granted(principal, "accounts:read_any"):
            raise AccountNotFound()  # not 403: do not confirm that the id exists
        row = await IdentityRepository.from_session(session).get_account(
            principal.tenant_id, account_id
        )
        if row is None:
            raise AccountNotFound()
        return Account.model_validate(row)

    def ensure_owner(
        self, principal: AccountPrincipal, owner_id: uuid.UUID, *, any_permission: str
    ) -> None:
        """A customer's orders, a rider's assignments: the owner, or whoever holds
        `any_permission` (brand operations). Others get 404 (existence is not confirmed)."""
        if owner_id != principal.account_id and not _granted(principal, any_permission):
            raise AccountNotFound("no such resource")

    def ensure_restaurant_staff(
        self, principal: AccountPrincipal, restaurant_id: uuid.UUID
    ) -> None:
        """Staff act only for the restaurant their token names; admins for any."""
        if principal.restaurant_id != restaurant_id and not _granted(principal, "*"):
            raise Forbidden("this account works for another restaurant")

    # -- password login -------------------------------------------------------------------
    async def login_password(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        data: PasswordLogin,
        client: ClientInfo,
    ) -> TokenPair:
        identifier = normalise_identifier(data.identifier)
        await self._limit("login_ip", self.settings.login_limit_per_ip, tenant_id, client.ip)
        await self._limit("login_id", self.settings.login_limit_per_account, tenant_id, identifier)
        if wait := await self.lockout.retry_after(tenant_id, identifier):
            raise TooManyAttempts(wait)
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            repo = IdentityRepository.from_session(session)
            account = await repo.account_by_identifier(identifier)
            usable = account is not None and account.status == "active"
            stored = account.password_hash if (account and usable) else None
            if not await self.passwords.verify(stored, data.password):
                await self._audit(
                    session,
                    tenant_id,
                    "login_failed",
                    account.id if account else None,
                    client,
                    method="password",
                )
                failure = True
            else:
                assert account is not None and account.password_hash is not None
                failure = False
                if self.passwords.needs_rehash(account.password_hash):
                    account.password_hash = await self.passwords.hash(data.password)
                pair = await self._open_session(session, account, "password", client)
        if failure:
            await self.lockout.failed(tenant_id, identifier)
            raise InvalidCredentials()
        await self.lockout.succeeded(tenant_id, identifier)
        return pair

    async def change_password(
        self,
        session: AsyncSession,
        principal: AccountPrincipal,
        *,
        data: PasswordChange,
        client: ClientInfo,
    ) -> None:
        """Changing the password signs out every other device."""
        repo = IdentityRepository.from_session(session)
        account = await repo.get_account(principal.tenant_id, principal.account_id, for_update=True)
        if account is None or not await self.passwords.verify(
            account.password_hash, data.current_password
        ):
            raise InvalidCredentials()
        account.password_hash = await self.passwords.hash(data.new_password)
        await self._revoke_all(session, principal, keep=principal.session_id, reason="password")
        await self._audit(session, principal.tenant_id, "password_changed", account.id, client)

    # -- phone OTP ----------------------------------------------------------------------------
    async def send_otp(self, tenant_id: uuid.UUID, *, phone: str, client: ClientInfo) -> OtpSent:
        """Always the same answer, whether or not the phone has an account."""
        await self._limit("otp_ip", self.settings.otp_limit_per_ip, tenant_id, client.ip)
        await self._limit("otp_phone", self.settings.otp_limit_per_phone, tenant_id, phone)
        if self.sms is None:
            raise ServiceUnavailable("no SMS provider is configured")
        try:
            issued = await self.otp.issue(tenant_id, phone)
        except Cooldown as c:
            raise RateLimited(c.retry_after, "a code was sent moments ago") from None
        try:
            await self.sms.send(phone, f"{issued.code} is your sign-in code. It expires in 5 min.")
        except SmsFailed as e:
            log.warning("otp.sms_failed", error=str(e))
            raise ServiceUnavailable("the SMS provider is unavailable") from e
        return OtpSent(expires_in=issued.expires_in, resend_after=self.settings.otp_resend_seconds)

    async def verify_otp(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        data: OtpVerify,
        client: ClientInfo,
    ) -> TokenPair:
        """A right code signs in, creating a customer account on a first login."""
        await self._limit("otp_ip", self.settings.otp_limit_per_ip, tenant_id, client.ip)
        outcome = await self.otp.check(tenant_id, data.phone, data.code)
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            repo = IdentityRepository.from_session(session)
            account = await repo.find_account(phone=data.phone, email=None)
            if outcome != OtpOutcome.OK:
                await self._audit(
                    session,
                    tenant_id,
                    "otp_failed",
                    account.id if account else None,
                    client,
                    outcome=outcome,
                )
            else:
                if account is None:
                    account = await self._new_account(
                        session,
                        tenant_id,
                        kind="customer",
                        name=data.name or data.phone,
                        phone=data.phone,
                        email=None,
                        phone_verified=True,
                    )
                if account.status != "active":
                    raise InvalidOtp()
                account.phone_verified = True
                pair = await self._open_session(session, account, "otp", client)
        if outcome == OtpOutcome.EXCEEDED:
            raise OtpAttemptsExceeded()
        if outcome == OtpOutcome.WRONG:
            raise InvalidOtp()
        return pair

    # -- social login (OIDC) ------------------------------------------------------------------
    async def add_oidc_provider(
        self, session: AsyncSession, tenant_id: uuid.UUID, *, data: OidcProviderCreate
    ) -> OidcProviderInfo:
        repo = IdentityRepository.from_session(session)
        row = await repo.oidc_provider(data.name)
        if row is None:
            row = OidcProvider(tenant_id=tenant_id, name=data.name)
            session.add(row)
        row.issuer = data.issuer
        row.client_id = data.client_id
        row.scopes = data.scopes
        row.client_secret_sealed = self.box.seal(
            data.client_secret.encode(), context=f"oidc:{tenant_id}:{data.name}".encode()
        )
        await session.flush()
        return OidcProviderInfo.model_validate(row)

    async def start_oidc(
        self, session: AsyncSession, tenant_id: uuid.UUID, *, provider: str, redirect_uri: str
    ) -> OidcStarted:
        config = await IdentityRepository.from_session(session).oidc_provider(provider)
        if config is None:
            raise UnknownProvider()
        document = await self.oidc.discover(config.issuer)
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier, challenge = pkce_pair()
        flow = {
            "provider": provider,
            "nonce": nonce,
            "verifier": verifier,
            "redirect": redirect_uri,
        }
        await self.redis.set(self._oidc_state_key(tenant_id, state), orjson.dumps(flow), ex=600)
        url = self.oidc.authorization_url(
            document,
            client_id=config.client_id,
            redirect_uri=redirect_uri,
            scopes=config.scopes,
            state=state,
            nonce=nonce,
            challenge=challenge,
        )
        return OidcStarted(authorization_url=url, state=state)

    async def finish_oidc(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        provider: str,
        data: OidcCallback,
        client: ClientInfo,
    ) -> TokenPair:
        raw = await self.redis.getdel(self._oidc_state_key(tenant_id, data.state))
        flow = orjson.loads(raw) if raw else None
        error: OidcFailed | None = None
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            repo = IdentityRepository.from_session(session)
            try:
                if flow is None or flow["provider"] != provider:
                    raise OidcFailed("unknown or expired sign-in state")
                config = await repo.oidc_provider(provider)
                if config is None:
                    raise UnknownProvider()
                secret = self.box.open(
                    config.client_secret_sealed, context=f"oidc:{tenant_id}:{provider}".encode()
                ).decode()
                document = await self.oidc.discover(config.issuer)
                id_token = await self.oidc.exchange(
                    document,
                    client_id=config.client_id,
                    client_secret=secret,
                    code=data.code,
                    redirect_uri=flow["redirect"],
                    verifier=flow["verifier"],
                )
                claims = await self.oidc.verify_id_token(
                    document, id_token, client_id=config.client_id, nonce=flow["nonce"]
                )
                nonce_key = (
                    f"{{tenant:{tenant_id}}}:oidc-nonce:"
                    + hashlib.sha256(claims.nonce.encode()).hexdigest()
                )
                if not await self.redis.set(nonce_key, 1, ex=3600, nx=True):
                    raise OidcFailed("this ID token's nonce was used before")
                account = await self._link_federated(session, tenant_id, provider, claims)
                pair = await self._open_session(session, account, f"oidc:{provider}", client)
            except OidcFailed as e:
                error = e
                await self._audit(
                    session,
                    tenant_id,
                    "social_login_failed",
                    None,
                    client,
                    provider=provider,
                    reason=e.detail or "",
                )
        if error is not None:
            raise error
        return pair

    async def _link_federated(
        self, session: AsyncSession, tenant_id: uuid.UUID, provider: str, claims: Any
    ) -> AccountRow:
        """By provider subject first, then by an email the provider has verified."""
        repo = IdentityRepository.from_session(session)
        linked = await repo.federated(provider, claims.subject)
        if linked is not None:
            account = await repo.get_account(tenant_id, linked.account_id)
            if account is None or account.status != "active":
                raise OidcFailed("the linked account is not active")
            return account
        email = claims.email.strip().lower() if claims.email and claims.email_verified else None
        account = await repo.find_account(phone=None, email=email) if email else None
        if account is None:
            account = await self._new_account(
                session,
                tenant_id,
                kind="customer",
                name=claims.name or (email or "customer"),
                phone=None,
                email=email,
                email_verified=email is not None,
            )
        elif not account.email_verified:
            # Pre-hijack defence: whoever registered this email without proving it loses the
            # password they set; the provider has just proven who owns the address.
            account.password_hash = None
            account.email_verified = True
        if account.status != "active":
            raise OidcFailed("the account is not active")
        await repo.add(
            FederatedIdentity(
                tenant_id=tenant_id,
                account_id=account.id,
                provider=provider,
                subject=claims.subject,
                email=email,
            )
        )
        return account

    @staticmethod
    def _oidc_state_key(tenant_id: uuid.UUID, state: str) -> str:
        return f"{{tenant:{tenant_id}}}:oidc-state:{hashlib.sha256(state.encode()).hexdigest()}"

    # -- sessions and tokens --------------------------------------------------------------------
    async def _open_session(
        self, session: AsyncSession, account: AccountRow, method: str, client: ClientInfo
    ) -> TokenPair:
        repo = IdentityRepository.from_session(session)
        tenant_id = account.tenant_id
        now = clock.now()
        await repo.lock_account_sessions(tenant_id, account.id)
        entitlements = await self._entitlements(repo, tenant_id, account.id, now)
        active = await repo.active_sessions(account.id, now, for_update=True)
        overflow = len(active) - entitlements.max_sessions + 1
        if overflow > 0:
            if entitlements.session_overflow == "refuse":
                raise SessionLimitReached()
            evicted = [s.id for s in active[:overflow]]
            await repo.revoke_sessions(evicted, at=now, reason="evicted")
            await self._publish_revocations(evicted)
            for sid in evicted:
                await self._audit(
                    session, tenant_id, "session_evicted", account.id, client, session_id=str(sid)
                )
        device = DeviceSession(
            tenant_id=tenant_id,
            account_id=account.id,
            user_agent=client.user_agent[:512],
            ip=client.ip[:64],
            method=method,
            expires_at=now + timedelta(days=self.settings.refresh_token_days),
        )
        await repo.add(device)
        pair = await self._issue_pair(session, account, device, now)
        await self._audit(
            session,
            tenant_id,
            "login",
            account.id,
            client,
            method=method,
            session_id=str(device.id),
        )
        return pair

    async def _issue_pair(
        self, session: AsyncSession, account: AccountRow, device: DeviceSession, now: datetime
    ) -> TokenPair:
        repo = IdentityRepository.from_session(session)
        refresh = secrets.token_urlsafe(32)
        await repo.add(
            RefreshToken(
                tenant_id=account.tenant_id,
                session_id=device.id,
                token_hash=_token_hash(refresh),
                expires_at=device.expires_at,
            )
        )
        roles = (account.kind, *await repo.account_roles(account.id))
        access, _ = sign_access_token(
            self.keys,
            issuer=self.settings.jwt_issuer,
            account_id=account.id,
            tenant_id=account.tenant_id,
            session_id=device.id,
            roles=roles,
            restaurant_id=account.restaurant_id,
            now=now.timestamp(),
            ttl=self.settings.access_token_seconds,
        )
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=self.settings.access_token_seconds,
            session_id=device.id,
            account_id=account.id,
        )

    async def refresh(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        token: str,
        client: ClientInfo,
    ) -> TokenPair:
        """Spends the refresh token for a new pair. A spent token presented again within the
        grace window gets the same new pair (a racing tab or a retry); later, it is theft:
        the whole session is revoked."""
        await self._limit("refresh_ip", self.settings.login_limit_per_ip, tenant_id, client.ip)
        error: Exception | None = None
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            repo = IdentityRepository.from_session(session)
            row = await repo.refresh_token(_token_hash(token))
            if row is None:
                raise InvalidRefreshToken()
            await self._limit(
                "refresh_session",
                self.settings.refresh_limit_per_session,
                tenant_id,
                str(row.session_id),
            )
            device = await repo.get_session(tenant_id, row.session_id, for_update=True)
            now = clock.now()
            context = f"refresh:{row.id}".encode()
            if device is None or device.revoked_at is not None or device.expires_at <= now:
                error = SessionRevoked()
            elif row.used_at is None:
                account = await repo.get_account(tenant_id, device.account_id)
                if account is None or account.status != "active":
                    error = InvalidRefreshToken()
                else:
                    pair = await self._issue_pair(session, account, device, now)
                    row.used_at = now
                    row.grace_pair = self.box.seal(pair.model_dump_json().encode(), context=context)
                    device.last_seen_at = now
                    await repo.forget_grace_pairs(device.id, keep=row.id)
            elif (
                row.grace_pair is not None
                and (now - row.used_at).total_seconds() <= self.settings.refresh_grace_seconds
            ):
                pair = TokenPair.model_validate_json(self.box.open(row.grace_pair, context=context))
            else:
                await repo.revoke_sessions([device.id], at=now, reason="refresh_token_reuse")
                await self._publish_revocations([device.id])
                await self._audit(
                    session,
                    tenant_id,
                    "refresh_token_reuse",
                    device.account_id,
                    client,
                    session_id=str(device.id),
                )
                log.warning("identity.refresh_token_reuse", session_id=str(device.id))
                error = InvalidRefreshToken("this token was already used; the session is closed")
        if error is not None:
            raise error
        return pair

    async def list_sessions(
        self, session: AsyncSession, principal: AccountPrincipal
    ) -> list[Session]:
        rows = await IdentityRepository.from_session(session).active_sessions(
            principal.account_id, clock.now()
        )
        return [
            Session.model_validate(r).model_copy(update={"current": r.id == principal.session_id})
            for r in rows
        ]

    async def revoke_session(
        self,
        session: AsyncSession,
        principal: AccountPrincipal,
        session_id: uuid.UUID,
        client: ClientInfo,
    ) -> None:
        repo = IdentityRepository.from_session(session)
        device = await repo.get_session(principal.tenant_id, session_id, for_update=True)
        if device is None or device.account_id != principal.account_id:
            raise SessionNotFound()
        await repo.revoke_sessions([session_id], at=clock.now(), reason="revoked")
        await self._publish_revocations([session_id])
        await self._audit(
            session,
            principal.tenant_id,
            "session_revoked",
            principal.account_id,
            client,
            session_id=str(session_id),
        )

    async def revoke_other_sessions(
        self, session: AsyncSession, principal: AccountPrincipal, client: ClientInfo
    ) -> int:
        count = await self._revoke_all(
            session, principal, keep=principal.session_id, reason="revoked_others"
        )
        await self._audit(
            session,
            principal.tenant_id,
            "sessions_revoked",
            principal.account_id,
            client,
            count=count,
        )
        return count

    async def logout_everywhere(
        self, session: AsyncSession, principal: AccountPrincipal, client: ClientInfo
    ) -> int:
        count = await self._revoke_all(session, principal, keep=None, reason="logout_all")
        await self._audit(
            session, principal.tenant_id, "logout_all", principal.account_id, client, count=count
        )
        return count

    async def _revoke_all(
        self,
        session: AsyncSession,
        principal: AccountPrincipal,
        *,
        keep: uuid.UUID | None,
        reason: str,
    ) -> int:
        repo = IdentityRepository.from_session(session)
        ids = [
            s.id
            for s in await repo.active_sessions(principal.account_id, clock.now())
            if s.id != keep
        ]
        await repo.revoke_sessions(ids, at=clock.now(), reason=reason)
        await self._publish_revocations(ids)
        return len(ids)

    async def _publish_revocations(self, session_ids: list[uuid.UUID]) -> None:
        """Written before the transaction commits, on purpose: if the commit then fails, the
        error is on the safe side (a session signed out, never one left open)."""
        if not session_ids:
            return
        until = time.time() + self.settings.access_token_seconds + 60
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(REVOKED_KEY, {str(sid): until for sid in session_ids})
            pipe.zremrangebyscore(REVOKED_KEY, "-inf", time.time())
            for sid in session_ids:
                pipe.publish(REVOCATIONS_CHANNEL, f"{sid} {until}")
            await pipe.execute()
        for sid in session_ids:
            self.revoked.add(sid, until)

    # -- authentication of requests -------------------------------------------------------------
    async def authenticate(
        self, sessionmaker: async_sessionmaker[AsyncSession], token: str, tenant_id: uuid.UUID
    ) -> AccountPrincipal:
        claims = self.verifier.verify(token, str(tenant_id))
        custom = await self._roles_of_tenant(sessionmaker, tenant_id)
        try:
            return AccountPrincipal(
                account_id=uuid.UUID(claims.sub),
                tenant_id=tenant_id,
                session_id=uuid.UUID(claims.sid),
                roles=claims.roles,
                scopes=perms.permissions_of(claims.roles, custom),
                restaurant_id=uuid.UUID(claims.restaurant) if claims.restaurant else None,
                expires_at=claims.exp,
            )
        except ValueError as e:
            raise InvalidToken("malformed claims") from e

    async def ensure_not_revoked(self, principal: AccountPrincipal) -> None:
        """For sensitive routes: ask Redis now instead of trusting the in-process mirror."""
        if await self.redis.zscore(REVOKED_KEY, str(principal.session_id)):
            raise InvalidToken("session revoked")

    async def _roles_of_tenant(
        self, sessionmaker: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID
    ) -> dict[str, frozenset[str]]:
        cached = self._custom_roles.get(tenant_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            rows = await IdentityRepository.from_session(session).custom_roles()
        roles = {r.name: frozenset(r.permissions) for r in rows}
        self._custom_roles[tenant_id] = (time.monotonic() + 30.0, roles)
        return roles

    # -- signing keys ---------------------------------------------------------------------------
    async def load_keys(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Loads the key ring, creating the first key of the deployment if there is none."""
        async with tenant_transaction(sessionmaker, None) as session:
            repo = IdentityRepository.from_session(session)
            rows = await repo.signing_keys(clock.now())
            if not any(r.retired_at is None for r in rows):
                await repo.lock_signing_keys()
                rows = await repo.signing_keys(clock.now())
                if not any(r.retired_at is None for r in rows):
                    await repo.add(self._new_signing_key())
                    rows = await repo.signing_keys(clock.now())
        current = [r for r in rows if r.retired_at is None][-1]
        private = load_private(self.box.open(current.private_key_sealed, context=b"signing-key"))
        self.keys.replace((current.kid, private), [r.public_jwk for r in rows])

    async def rotate_signing_key(self, sessionmaker: async_sessionmaker[AsyncSession]) -> str:
        """A new key signs from now on; the old ones verify until their last token expires."""
        async with tenant_transaction(sessionmaker, None) as session:
            repo = IdentityRepository.from_session(session)
            await repo.lock_signing_keys()
            now = clock.now()
            overlap = timedelta(seconds=self.settings.access_token_seconds + 300)
            await repo.retire_signing_keys(at=now, expires_at=now + overlap)
            row = self._new_signing_key()
            await repo.add(row)
        await self.load_keys(sessionmaker)
        await self.redis.publish(KEYS_CHANNEL, row.kid)
        return row.kid

    def _new_signing_key(self) -> SigningKey:
        key = new_rsa_key()
        kid = base64.urlsafe_b64encode(new_id().bytes).rstrip(b"=").decode()
        return SigningKey(
            kid=kid,
            alg=ALG,
            private_key_sealed=self.box.seal(private_pem(key), context=b"signing-key"),
            public_jwk=public_jwk(key, kid),
        )

    def jwks(self) -> dict[str, Any]:
        return self.keys.jwks

    async def watch(
        self, sessionmaker: async_sessionmaker[AsyncSession], stop: asyncio.Event
    ) -> None:
        """Keeps this process's revocation mirror and key ring current (Redis Pub/Sub, with a
        periodic reload as the safety net for a missed message)."""
        while not stop.is_set():
            try:
                async with self._subscription() as pubsub:
                    await self._load_revocations()
                    await self.load_keys(sessionmaker)
                    reload_at = time.monotonic() + 60
                    while not stop.is_set():
                        message = await pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=1.0
                        )
                        if message and message["channel"] == REVOCATIONS_CHANNEL.encode():
                            sid, until = message["data"].decode().split()
                            self.revoked.add(uuid.UUID(sid), float(until))
                        elif message and message["channel"] == KEYS_CHANNEL.encode():
                            await self.load_keys(sessionmaker)
                        if time.monotonic() > reload_at:
                            await self.load_keys(sessionmaker)
                            await self._load_revocations()
                            self.revoked.prune()
                            reload_at = time.monotonic() + 60
            except Exception:
                log.exception("identity.watch_failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)

    @contextlib.asynccontextmanager
    async def _subscription(self) -> AsyncIterator[Any]:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(REVOCATIONS_CHANNEL, KEYS_CHANNEL)
        try:
            yield pubsub
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _load_revocations(self) -> None:
        entries: Any = await self.redis.zrangebyscore(
            REVOKED_KEY, time.time(), "+inf", withscores=True
        )
        for sid, until in entries:
            self.revoked.add(uuid.UUID(sid.decode()), float(until))

    # -- roles ----------------------------------------------------------------------------------
    async def create_role(
        self, session: AsyncSession, tenant_id: uuid.UUID, *, data: RoleCreate
    ) -> Role:
        unknown = set(data.permissions) - perms.KNOWN_PERMISSIONS - {"*"}
        if unknown:
            raise UnknownRole(f"unknown permissions: {sorted(unknown)}")
        repo = IdentityRepository.from_session(session)
        if data.name in perms.BUILT_IN_ROLES or data.name in {
            r.name for r in await repo.custom_roles()
        }:
            raise RoleExists()
        await repo.add(
            RoleRow(tenant_id=tenant_id, name=data.name, permissions=sorted(set(data.permissions)))
        )
        self._custom_roles.pop(tenant_id, None)
        return Role(name=data.name, permissions=sorted(set(data.permissions)), built_in=False)

    async def list_roles(self, session: AsyncSession) -> list[Role]:
        custom = await IdentityRepository.from_session(session).custom_roles()
        built_in = [
            Role(name=name, permissions=sorted(p), built_in=True)
            for name, p in perms.BUILT_IN_ROLES.items()
        ]
        return built_in + [
            Role(name=r.name, permissions=r.permissions, built_in=False) for r in custom
        ]

    async def assign_roles(
        self,
        session: AsyncSession,
        principal: AccountPrincipal,
        account_id: uuid.UUID,
        roles: list[str],
        client: ClientInfo,
    ) -> list[str]:
        repo = IdentityRepository.from_session(session)
        if await repo.get_account(principal.tenant_id, account_id) is None:
            raise AccountNotFound()
        known = set(perms.BUILT_IN_ROLES) | {r.name for r in await repo.custom_roles()}
        if unknown := set(roles) - known:
            raise UnknownRole(f"unknown roles: {sorted(unknown)}")
        before = await repo.account_roles(account_id)
        await repo.replace_account_roles(principal.tenant_id, account_id, sorted(set(roles)))
        await self._audit(
            session,
            principal.tenant_id,
            "role_changed",
            account_id,
            client,
            by=str(principal.account_id),
            before=before,
            after=sorted(set(roles)),
        )
        return sorted(set(roles))

    # -- plans, subscriptions, entitlements -------------------------------------------------
    async def create_plan(
        self, session: AsyncSession, tenant_id: uuid.UUID, *, data: PlanCreate
    ) -> Plan:
        repo = IdentityRepository.from_session(session)
        if await repo.plan_by_code(data.code):
            raise PlanExists()
        row = PlanRow(tenant_id=tenant_id, **data.model_dump())
        await repo.add(row)
        return Plan.model_validate(row)

    async def subscribe(
        self, session: AsyncSession, tenant_id: uuid.UUID, account_id: uuid.UUID, *, plan_code: str
    ) -> Subscription:
        repo = IdentityRepository.from_session(session)
        plan = await repo.plan_by_code(plan_code)
        if plan is None:
            raise PlanNotFound()
        if await repo.get_account(tenant_id, account_id) is None:
            raise AccountNotFound()
        now = clock.now()
        row = await repo.subscription(account_id, for_update=True)
        if row is None:
            row = SubscriptionRow(tenant_id=tenant_id, account_id=account_id)
            session.add(row)
        row.plan_id = plan.id
        row.status = "trialing" if plan.trial_days else "active"
        row.trial_ends_at = now + timedelta(days=plan.trial_days) if plan.trial_days else None
        row.current_period_end = now + timedelta(days=30)
        row.cancelled_at = None
        await session.flush()
        return Subscription.model_validate(row)

    async def transition(
        self, session: AsyncSession, account_id: uuid.UUID, *, to: SubscriptionStatus
    ) -> Subscription:
        row = await IdentityRepository.from_session(session).subscription(
            account_id, for_update=True
        )
        if row is None:
            raise SubscriptionNotFound()
        if to not in TRANSITIONS[row.status]:
            raise InvalidTransition(f"{row.status} → {to}")
        row.status = to
        if to == "cancelled":
            row.cancelled_at = clock.now()
        await session.flush()
        return Subscription.model_validate(row)

    async def entitlements(
        self, session: AsyncSession, tenant_id: uuid.UUID, account_id: uuid.UUID
    ) -> Entitlements:
        repo = IdentityRepository.from_session(session)
        return await self._entitlements(repo, tenant_id, account_id, clock.now())

    async def require_feature(
        self, session: AsyncSession, principal: AccountPrincipal, feature: str
    ) -> None:
        granted = await self.entitlements(session, principal.tenant_id, principal.account_id)
        if feature not in granted.features:
            raise FeatureNotEntitled(f"the plan does not include {feature!r}")

    async def _entitlements(
        self,
        repo: IdentityRepository,
        tenant_id: uuid.UUID,
        account_id: uuid.UUID,
        now: datetime,
    ) -> Entitlements:
        default = Entitlements(
            features=frozenset(),
            max_sessions=self.settings.default_max_sessions,
            session_overflow="evict_oldest",
        )
        sub = await repo.subscription(account_id)
        if sub is None:
            return default
        paid_through = sub.current_period_end is not None and sub.current_period_end > now
        # A cancelled subscription keeps what was paid for until the period ends.
        if sub.status not in ENTITLED and not (sub.status == "cancelled" and paid_through):
            return default
        if sub.status == "trialing" and sub.trial_ends_at and sub.trial_ends_at <= now:
            return default
        plan = await repo.plan(tenant_id, sub.plan_id)
        if plan is None:
            return default
        return Entitlements(
            features=frozenset(plan.features),
            max_sessions=plan.max_sessions or self.settings.default_max_sessions,
            session_overflow="refuse" if plan.session_overflow == "refuse" else "evict_oldest",
        )

    # -- audit ----------------------------------------------------------------------------------
    async def _audit(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        type_: str,
        account_id: uuid.UUID | None,
        client: ClientInfo,
        **detail: Any,
    ) -> None:
        row = SecurityEventRow(
            tenant_id=tenant_id,
            account_id=account_id,
            type=type_,
            ip=client.ip[:64],
            user_agent=client.user_agent[:512],
            detail=detail,
        )
        await IdentityRepository.from_session(session).add(row)
        await outbox.append(
            session,
            SecurityEventRecorded(security_event_id=row.id, kind=type_, account_id=account_id),
            tenant_id=tenant_id,
            aggregate_id=account_id or row.id,
        )
        log.info("identity.security_event", type=type_, account_id=str(account_id or ""))

    async def security_events(
        self,
        session: AsyncSession,
        *,
        account_id: uuid.UUID | None,
        type_: str | None,
        cursor: str | None,
        limit: int,
    ) -> SecurityEventPage:
        before = None
        if cursor:
            try:
                at, last = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
                before = (datetime.fromisoformat(at), uuid.UUID(last))
            except ValueError as e:
                raise BadRequest("invalid cursor") from e
        rows = await IdentityRepository.from_session(session).security_events(
            account_id=account_id, type_=type_, before=before, limit=limit + 1
        )
        items = [SecurityEvent.model_validate(r) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last_row = rows[limit - 1]
            next_cursor = base64.urlsafe_b64encode(
                f"{last_row.created_at.isoformat()}|{last_row.id}".encode()
            ).decode()
        return SecurityEventPage(items=items, next_cursor=next_cursor)

    # -- helpers ----------------------------------------------------------------------------------
    async def _limit(self, name: str, spec: str, tenant_id: uuid.UUID, subject: str) -> None:
        key = f"{{tenant:{tenant_id}}}:{name}:{hashlib.sha256(subject.encode()).hexdigest()[:32]}"
        await self.limiter.check(Limit.parse(spec), key)


def _granted(principal: AccountPrincipal, permission: str) -> bool:
    return permission in principal.scopes or "*" in principal.scopes


identity = IdentityService()
