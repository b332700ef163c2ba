"""Identity tables. Tenant-owned unless noted: keys and foreign keys start with tenant_id."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tiffin.infra.db import Base, TenantOwned


def _account_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"], ondelete="CASCADE"
    )


class Account(TenantOwned, Base):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "phone"),
        UniqueConstraint("tenant_id", "email"),
    )

    kind: Mapped[str] = mapped_column(String(16))  # customer | rider | staff | admin
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164
    email: Mapped[str | None] = mapped_column(String(320))  # lower-cased
    phone_verified: Mapped[bool] = mapped_column(default=False, server_default=false())
    email_verified: Mapped[bool] = mapped_column(default=False, server_default=false())
    password_hash: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    # Staff belong to one restaurant; their tokens carry it so ownership checks need no query.
    restaurant_id: Mapped[uuid.UUID | None]


class FederatedIdentity(TenantOwned, Base):
    """An account's identity at a social provider (its `sub` there)."""

    __tablename__ = "federated_identities"
    __table_args__ = (UniqueConstraint("tenant_id", "provider", "subject"), _account_fk())

    account_id: Mapped[uuid.UUID]
    provider: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))


class DeviceSession(TenantOwned, Base):
    __tablename__ = "sessions"
    __table_args__ = (_account_fk(), Index("ix_sessions_account", "tenant_id", "account_id"))

    account_id: Mapped[uuid.UUID]
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    method: Mapped[str] = mapped_column(String(32))  # password | otp | oidc:<provider>
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(64))


class RefreshToken(TenantOwned, Base):
    """Opaque refresh tokens, stored as SHA-256. Each use spends the token and issues its
    successor; `grace_pair` keeps that successor (sealed) for the short window in which a
    racing client may present the spent token again."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        UniqueConstraint("tenant_id", "token_hash"),
        ForeignKeyConstraint(
            ["tenant_id", "session_id"], ["sessions.tenant_id", "sessions.id"], ondelete="CASCADE"
        ),
        Index("ix_refresh_tokens_session", "tenant_id", "session_id"),
    )

    session_id: Mapped[uuid.UUID]
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    grace_pair: Mapped[bytes | None] = mapped_column(LargeBinary)


class Role(Base):
    """A tenant's own role; built-in roles live in code (`permissions.BUILT_IN_ROLES`)."""

    __tablename__ = "roles"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    permissions: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AccountRole(Base):
    __tablename__ = "account_roles"
    __table_args__ = (_account_fk(),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)


class Plan(TenantOwned, Base):
    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    features: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    max_sessions: Mapped[int | None]
    session_overflow: Mapped[str] = mapped_column(String(16), default="evict_oldest")
    trial_days: Mapped[int] = mapped_column(default=0)


class Subscription(TenantOwned, Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_id"),
        _account_fk(),
        ForeignKeyConstraint(["tenant_id", "plan_id"], ["plans.tenant_id", "plans.id"]),
    )

    account_id: Mapped[uuid.UUID]
    plan_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(16))
    trial_ends_at: Mapped[datetime | None]
    current_period_end: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class SecurityEvent(TenantOwned, Base):
    __tablename__ = "security_events"
    __table_args__ = (
        Index("ix_security_events_time", "tenant_id", "created_at"),
        Index("ix_security_events_account", "tenant_id", "account_id", "created_at"),
    )

    account_id: Mapped[uuid.UUID | None]
    type: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class OidcProvider(TenantOwned, Base):
    """A brand's social login provider (its client registration there)."""

    __tablename__ = "oidc_providers"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    scopes: Mapped[str] = mapped_column(String(255), default="openid email profile")


class SigningKey(Base):
    """Platform table: the deployment's token signing keys (private halves sealed)."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    private_key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    retired_at: Mapped[datetime | None]  # stops signing; still verifies
    expires_at: Mapped[datetime | None]  # leaves the JWKS
