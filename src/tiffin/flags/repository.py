from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tiffin.flags.models import FlagRow, FlagState, SegmentRow


class FlagRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> FlagRepository:
        return cls(session)

    async def flags(self) -> Sequence[FlagRow]:
        return (await self.session.scalars(select(FlagRow).order_by(FlagRow.key))).all()

    async def flag(
        self, tenant_id: uuid.UUID, key: str, *, for_update: bool = False
    ) -> FlagRow | None:
        return await self.session.get(FlagRow, (tenant_id, key), with_for_update=for_update)

    async def segments(self) -> Sequence[SegmentRow]:
        return (await self.session.scalars(select(SegmentRow).order_by(SegmentRow.key))).all()

    async def segment(self, tenant_id: uuid.UUID, key: str) -> SegmentRow | None:
        return await self.session.get(SegmentRow, (tenant_id, key))

    async def add(self, row: FlagRow | SegmentRow) -> None:
        self.session.add(row)
        await self.session.flush()

    async def delete_flag(self, key: str) -> None:
        await self.session.execute(delete(FlagRow).where(FlagRow.key == key))

    async def revision(self) -> int:
        return int(await self.session.scalar(select(FlagState.revision)) or 0)

    async def bump_revision(self, tenant_id: uuid.UUID) -> int:
        """Moves the tenant's revision on; the row lock orders concurrent writers."""
        statement = (
            insert(FlagState)
            .values(tenant_id=tenant_id, revision=1)
            .on_conflict_do_update(
                index_elements=[FlagState.tenant_id],
                set_={"revision": FlagState.revision + 1},
            )
            .returning(FlagState.revision)
        )
        return int((await self.session.execute(statement)).scalar_one())
