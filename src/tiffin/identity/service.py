from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from tiffin.identity.errors import AccountExists
from tiffin.identity.events import AccountCreated
from tiffin.identity.models import Account as AccountRow
from tiffin.identity.repository import AccountRepository
from tiffin.identity.schemas import Account, AccountCreate
from tiffin.infra.bus import outbox


class IdentityService:
    async def create_account(
        self, session: AsyncSession, tenant_id: uuid.UUID, *, data: AccountCreate
    ) -> Account:
        repo = AccountRepository.from_session(session)
        if await repo.get_by_phone(data.phone):
            raise AccountExists()
        row = AccountRow(tenant_id=tenant_id, **data.model_dump())
        await repo.add(row)
        await outbox.append(
            session,
            AccountCreated(account_id=row.id, kind=row.kind),
            tenant_id=tenant_id,
            aggregate_id=row.id,
        )
        return Account.model_validate(row)

    async def get_by_phone(self, session: AsyncSession, phone: str) -> Account | None:
        row = await AccountRepository.from_session(session).get_by_phone(phone)
        return Account.model_validate(row) if row else None


identity = IdentityService()
