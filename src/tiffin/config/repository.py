from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tiffin.config.models import ConfigState, ConfigVersionRow


class ConfigRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> ConfigRepository:
        return cls(session)

    async def lock(self, tenant_id: uuid.UUID) -> None:
        """Serialises config writes of one tenant (version numbers, the live pointer)."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
            {"k": f"config:{tenant_id}"},
        )

    async def next_version(self) -> int:
        return int(await self.session.scalar(select(func.max(ConfigVersionRow.version))) or 0) + 1

    async def version(
        self, tenant_id: uuid.UUID, version: int, *, for_update: bool = False
    ) -> ConfigVersionRow | None:
        return await self.session.get(
            ConfigVersionRow, (tenant_id, version), with_for_update=for_update
        )

    async def versions(self, limit: int) -> Sequence[ConfigVersionRow]:
        return (
            await self.session.scalars(
                select(ConfigVersionRow).order_by(ConfigVersionRow.version.desc()).limit(limit)
            )
        ).all()

    async def state(self, tenant_id: uuid.UUID) -> ConfigState | None:
        return await self.session.get(ConfigState, tenant_id)

    async def add(self, row: ConfigVersionRow | ConfigState) -> None:
        self.session.add(row)
        await self.session.flush()
