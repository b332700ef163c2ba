"""The change log: who changed which configuration, flag or catalog entity, and how.

Written in the same transaction as the change (a rolled-back change leaves no entry). Tenant
owned, under row-level security like any brand data.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tiffin.infra.db import Base, TenantOwned


class AuditEntry(TenantOwned, Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "tenant_id", "entity", "entity_id", "created_at"),
        Index("ix_audit_log_time", "tenant_id", "created_at"),
    )

    actor: Mapped[str] = mapped_column(String(128))  # account:<id> | api_key:<id> | system
    entity: Mapped[str] = mapped_column(String(64))  # config | flag | segment | menu_item | ...
    entity_id: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))  # created | updated | deleted | published...
    before: Mapped[Any | None] = mapped_column(JSONB)
    after: Mapped[Any | None] = mapped_column(JSONB)


async def record(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    actor: str,
    entity: str,
    entity_id: str | uuid.UUID,
    action: str,
    before: Any = None,
    after: Any = None,
) -> None:
    session.add(
        AuditEntry(
            tenant_id=tenant_id,
            actor=actor,
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            before=before,
            after=after,
        )
    )
    await session.flush()


async def entries(
    session: AsyncSession,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    before: datetime | None = None,
    limit: int = 50,
) -> Sequence[AuditEntry]:
    query = select(AuditEntry)
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if before:
        query = query.where(AuditEntry.created_at < before)
    query = query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)
    return (await session.scalars(query)).all()
