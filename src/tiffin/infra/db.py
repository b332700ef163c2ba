"""PostgreSQL access: engines, the declarative base, and the tenant transaction.

Every unit of work (a request, an activity, a consumed message) runs in exactly one
transaction opened here, and the tenant is set right after BEGIN and nowhere else. Row-level
security reads it back through `tiffin_current_tenant()`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import DateTime, MetaData, func, select, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tiffin.infra.ids import new_id

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {uuid.UUID: UUID(as_uuid=True), datetime: DateTime(timezone=True)}


class TenantOwned:
    """Mixin for a tenant-owned table: the key starts with `tenant_id` (Citus co-location)."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class InsufficientRLSRole(RuntimeError):
    pass


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        connect_args={"server_settings": {"application_name": "tiffin"}},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def set_tenant(session: AsyncSession, tenant_id: uuid.UUID | None) -> None:
    """Binds the transaction to a tenant (`SET LOCAL`: it ends with the transaction)."""
    await session.execute(
        select(func.set_config("tiffin.tenant_id", str(tenant_id) if tenant_id else "", True))
    )


@asynccontextmanager
async def tenant_transaction(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID | None
) -> AsyncIterator[AsyncSession]:
    """One transaction bound to one tenant: commits on success, rolls back on error, then
    runs what `after_commit` registered (only if it committed)."""
    async with sessionmaker() as session:
        async with session.begin():
            await set_tenant(session, tenant_id)
            yield session
        for callback in session.info.pop(_AFTER_COMMIT, []):
            await callback()


_AFTER_COMMIT = "tiffin.after_commit"


def after_commit(session: AsyncSession, callback: Callable[[], Awaitable[None]]) -> None:
    """Runs `callback` once the transaction has committed: for side effects that must not be
    seen before the change is (a cache invalidation, a live push). Durable effects belong in
    the outbox instead; these are best effort."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


async def assert_rls_enforced(engine: AsyncEngine) -> None:
    """Refuses a runtime role that row-level security would not bind."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user"
                )
            )
        ).one()
    if row.rolsuper or row.rolbypassrls:
        raise InsufficientRLSRole(
            f"database role {row.current_user!r} bypasses row-level security "
            "(superuser or BYPASSRLS); point TIFFIN_DATABASE_URL at a plain role and "
            "TIFFIN_DATABASE_ADMIN_URL at the owner"
        )
