from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tiffin.tenancy.models import Tenant, TenantApiKey, TenantDomain


class TenantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> TenantRepository:
        return cls(session)

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def get_by_slug(self, slug: str) -> Tenant | None:
        return await self.session.scalar(select(Tenant).where(Tenant.slug == slug))

    async def get_by_hostname(self, hostname: str) -> Tenant | None:
        return await self.session.scalar(
            select(Tenant)
            .join(TenantDomain, TenantDomain.tenant_id == Tenant.id)
            .where(TenantDomain.hostname == hostname)
        )

    async def get_api_key(self, key_hash: bytes) -> TenantApiKey | None:
        return await self.session.scalar(
            select(TenantApiKey).where(
                TenantApiKey.key_hash == key_hash, TenantApiKey.revoked_at.is_(None)
            )
        )

    async def hostnames_taken(self, hostnames: list[str]) -> list[str]:
        rows = await self.session.scalars(
            select(TenantDomain.hostname).where(TenantDomain.hostname.in_(hostnames))
        )
        return list(rows)

    async def ids(self) -> list[uuid.UUID]:
        return list(await self.session.scalars(select(Tenant.id).order_by(Tenant.id)))

    async def add(self, *rows: Tenant | TenantDomain | TenantApiKey) -> None:
        self.session.add_all(rows)
        await self.session.flush()
