"""All SQL of the identity module. Row-level security scopes every tenant table; lookups by
key still name the tenant so the primary-key index serves them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tiffin.identity.models import (
    Account,
    AccountRole,
    DeviceSession,
    FederatedIdentity,
    OidcProvider,
    Plan,
    RefreshToken,
    Role,
    SecurityEvent,
    SigningKey,
    Subscription,
)

Row = (
    Account
    | FederatedIdentity
    | DeviceSession
    | RefreshToken
    | Role
    | AccountRole
    | Plan
    | Subscription
    | SecurityEvent
    | OidcProvider
    | SigningKey
)


class IdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> IdentityRepository:
        return cls(session)

    async def add(self, *rows: Row) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # -- accounts ---------------------------------------------------------------------------
    async def get_account(
        self, tenant_id: uuid.UUID, account_id: uuid.UUID, *, for_update: bool = False
    ) -> Account | None:
        return await self.session.get(Account, (tenant_id, account_id), with_for_update=for_update)

    async def find_account(self, *, phone: str | None, email: str | None) -> Account | None:
        """The account holding this phone or this email (by each unique index)."""
        clauses = []
        if phone:
            clauses.append(Account.phone == phone)
        if email:
            clauses.append(Account.email == email)
        if not clauses:
            return None
        return await self.session.scalar(select(Account).where(or_(*clauses)).limit(1))

    async def account_by_identifier(self, identifier: str) -> Account | None:
        column = Account.email if "@" in identifier else Account.phone
        return await self.session.scalar(select(Account).where(column == identifier))

    async def federated(self, provider: str, subject: str) -> FederatedIdentity | None:
        return await self.session.scalar(
            select(FederatedIdentity).where(
                FederatedIdentity.provider == provider, FederatedIdentity.subject == subject
            )
        )

    # -- sessions ---------------------------------------------------------------------------
    async def get_session(
        self, tenant_id: uuid.UUID, session_id: uuid.UUID, *, for_update: bool = False
    ) -> DeviceSession | None:
        return await self.session.get(
            DeviceSession, (tenant_id, session_id), with_for_update=for_update
        )

    async def active_sessions(
        self, account_id: uuid.UUID, now: datetime, *, for_update: bool = False
    ) -> Sequence[DeviceSession]:
        query = (
            select(DeviceSession)
            .where(
                DeviceSession.account_id == account_id,
                DeviceSession.revoked_at.is_(None),
                DeviceSession.expires_at > now,
            )
            .order_by(DeviceSession.created_at, DeviceSession.id)
        )
        if for_update:
            query = query.with_for_update()
        return (await self.session.scalars(query)).all()

    async def revoke_sessions(
        self, session_ids: Sequence[uuid.UUID], *, at: datetime, reason: str
    ) -> None:
        if session_ids:
            await self.session.execute(
                update(DeviceSession)
                .where(DeviceSession.id.in_(session_ids), DeviceSession.revoked_at.is_(None))
                .values(revoked_at=at, revoked_reason=reason)
            )

    async def lock_account_sessions(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> None:
        """Serialises logins of one account (the session-count check must not race)."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
            {"k": f"sessions:{tenant_id}:{account_id}"},
        )

    # -- refresh tokens -----------------------------------------------------------------
    async def refresh_token(self, token_hash: bytes) -> RefreshToken | None:
        return await self.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        )

    async def forget_grace_pairs(self, session_id: uuid.UUID, keep: uuid.UUID) -> None:
        """Once a successor is spent, older tokens' sealed successors serve no one."""
        await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.session_id == session_id,
                RefreshToken.id != keep,
                RefreshToken.grace_pair.is_not(None),
            )
            .values(grace_pair=None)
        )

    # -- roles ------------------------------------------------------------------------------
    async def custom_roles(self) -> Sequence[Role]:
        return (await self.session.scalars(select(Role).order_by(Role.name))).all()

    async def account_roles(self, account_id: uuid.UUID) -> list[str]:
        rows = await self.session.scalars(
            select(AccountRole.role).where(AccountRole.account_id == account_id)
        )
        return sorted(rows)

    async def replace_account_roles(
        self, tenant_id: uuid.UUID, account_id: uuid.UUID, roles: Sequence[str]
    ) -> None:
        await self.session.execute(delete(AccountRole).where(AccountRole.account_id == account_id))
        await self.add(
            *(AccountRole(tenant_id=tenant_id, account_id=account_id, role=r) for r in roles)
        )

    # -- plans and subscriptions --------------------------------------------------------
    async def plan_by_code(self, code: str) -> Plan | None:
        return await self.session.scalar(select(Plan).where(Plan.code == code))

    async def plan(self, tenant_id: uuid.UUID, plan_id: uuid.UUID) -> Plan | None:
        return await self.session.get(Plan, (tenant_id, plan_id))

    async def subscription(
        self, account_id: uuid.UUID, *, for_update: bool = False
    ) -> Subscription | None:
        query = select(Subscription).where(Subscription.account_id == account_id)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    # -- security events ----------------------------------------------------------------
    async def security_events(
        self,
        *,
        account_id: uuid.UUID | None,
        type_: str | None,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> Sequence[SecurityEvent]:
        query = select(SecurityEvent)
        if account_id:
            query = query.where(SecurityEvent.account_id == account_id)
        if type_:
            query = query.where(SecurityEvent.type == type_)
        if before:
            at, last_id = before
            query = query.where(
                or_(
                    SecurityEvent.created_at < at,
                    and_(SecurityEvent.created_at == at, SecurityEvent.id < last_id),
                )
            )
        query = query.order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc())
        return (await self.session.scalars(query.limit(limit))).all()

    # -- identity providers -------------------------------------------------------------
    async def oidc_provider(self, name: str) -> OidcProvider | None:
        return await self.session.scalar(select(OidcProvider).where(OidcProvider.name == name))

    # -- signing keys (platform table) --------------------------------------------------
    async def signing_keys(self, now: datetime) -> Sequence[SigningKey]:
        return (
            await self.session.scalars(
                select(SigningKey)
                .where(or_(SigningKey.expires_at.is_(None), SigningKey.expires_at > now))
                .order_by(SigningKey.created_at)
            )
        ).all()

    async def lock_signing_keys(self) -> None:
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended('signing_keys', 0))")
        )

    async def retire_signing_keys(self, *, at: datetime, expires_at: datetime) -> None:
        await self.session.execute(
            update(SigningKey)
            .where(SigningKey.retired_at.is_(None))
            .values(retired_at=at, expires_at=expires_at)
        )

    async def now(self) -> datetime:
        result = await self.session.scalar(select(func.now()))
        assert isinstance(result, datetime)
        return result
