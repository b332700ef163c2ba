from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tiffin.identity.models import Account


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> AccountRepository:
        return cls(session)

    async def get_by_phone(self, phone: str) -> Account | None:
        return await self.session.scalar(select(Account).where(Account.phone == phone))

    async def add(self, row: Account) -> None:
        self.session.add(row)
        await self.session.flush()
