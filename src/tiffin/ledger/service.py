"""The double-entry ledger: accounts, immutable transfers, two-phase holds, linked batches.

Every write goes through the process's `LedgerWriter` (group commit). Reads use the caller's
transaction. `verify` recomputes balances from transfers.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiffin.infra import audit
from tiffin.infra.bus import outbox
from tiffin.infra.clock import clock
from tiffin.infra.db import tenant_transaction
from tiffin.ledger.engine import Result
from tiffin.ledger.engine import Transfer as EngineTransfer
from tiffin.ledger.errors import AccountNotFound, InvalidCursor, TransferNotFound, TransferRefused
from tiffin.ledger.events import LedgerAdjusted
from tiffin.ledger.models import LedgerAccount
from tiffin.ledger.repository import LedgerRepository
from tiffin.ledger.schemas import (
    DEBIT_NORMAL,
    Account,
    AccountCreate,
    Adjustment,
    Statement,
    StatementEntry,
    Transfer,
    TransferCreate,
    TransferResult,
)
from tiffin.ledger.writer import LedgerWriter

OK = (Result.ok, Result.exists)


@dataclass(frozen=True)
class Mismatch:
    tenant_id: uuid.UUID
    what: str


def _account_view(row: LedgerAccount) -> Account:
    credit_normal = row.type not in DEBIT_NORMAL
    balance = (
        row.credits_posted - row.debits_posted
        if credit_normal
        else row.debits_posted - row.credits_posted
    )
    held = row.debits_pending if credit_normal else row.credits_pending
    return Account(
        id=row.id,
        ledger=row.ledger,
        type=row.type,
        owner_type=row.owner_type,
        owner_id=row.owner_id,
        debits_must_not_exceed_credits=row.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=row.credits_must_not_exceed_debits,
        credit_limit=row.credit_limit,
        debits_posted=row.debits_posted,
        credits_posted=row.credits_posted,
        debits_pending=row.debits_pending,
        credits_pending=row.credits_pending,
        balance=balance,
        available=balance - held,
    )


def _engine_transfer(t: TransferCreate) -> EngineTransfer:
    return EngineTransfer(
        id=t.id,
        debit_account_id=t.debit_account_id,
        credit_account_id=t.credit_account_id,
        amount=t.amount,
        ledger=t.ledger,
        code=t.code,
        kind=t.kind,
        pending_id=t.pending_id,
        timeout_seconds=t.timeout_seconds,
        user_data=t.user_data,
    )


class LedgerService:
    writer: LedgerWriter

    def configure(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.writer = LedgerWriter(sessionmaker)

    # -- accounts -------------------------------------------------------------------------------
    async def create_account(
        self, session: AsyncSession, tenant_id: uuid.UUID, *, data: AccountCreate
    ) -> Account:
        repo = LedgerRepository.from_session(session)
        account_id = data.id or uuid.uuid4()
        existing = await repo.account(tenant_id, account_id)
        if existing is not None:
            return _account_view(existing)
        row = LedgerAccount(
            tenant_id=tenant_id,
            id=account_id,
            ledger=data.ledger,
            type=data.type,
            owner_type=data.owner_type,
            owner_id=data.owner_id,
            debits_must_not_exceed_credits=data.debits_must_not_exceed_credits,
            credits_must_not_exceed_debits=data.credits_must_not_exceed_debits,
            credit_limit=data.credit_limit,
            debits_posted=0,
            credits_posted=0,
            debits_pending=0,
            credits_pending=0,
        )
        await repo.add_account(row)
        return _account_view(row)

    async def account(
        self, session: AsyncSession, tenant_id: uuid.UUID, account_id: uuid.UUID
    ) -> Account:
        row = await LedgerRepository.from_session(session).account(tenant_id, account_id)
        if row is None:
            raise AccountNotFound()
        return _account_view(row)

    # -- transfers ------------------------------------------------------------------------------
    async def submit(
        self, tenant_id: uuid.UUID, transfers: list[TransferCreate], *, linked: bool = False
    ) -> list[TransferResult]:
        """Each transfer's result, in order (`ok`, `exists`, or why it was refused)."""
        results = await self.writer.submit(
            tenant_id, [_engine_transfer(t) for t in transfers], linked=linked
        )
        return [
            TransferResult(id=t.id, result=r.value) for t, r in zip(transfers, results, strict=True)
        ]

    async def transfer(self, tenant_id: uuid.UUID, data: TransferCreate) -> TransferResult:
        """One transfer that must go through: refusals raise `TransferRefused` (409)."""
        [result] = await self.submit(tenant_id, [data])
        if result.result not in OK:
            raise TransferRefused([result.model_dump(mode="json")])
        return result

    async def get_transfer(
        self, session: AsyncSession, tenant_id: uuid.UUID, transfer_id: uuid.UUID
    ) -> Transfer:
        row = await LedgerRepository.from_session(session).transfer(tenant_id, transfer_id)
        if row is None:
            raise TransferNotFound()
        return Transfer.model_validate(row)

    async def adjust(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        data: Adjustment,
        actor: str,
    ) -> TransferResult:
        """An operator's correction: an ordinary transfer with code `adjustment`, its reason
        recorded in the audit log (after the money moved, in one transaction of its own)."""
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            debit = await LedgerRepository.from_session(session).account(
                tenant_id, data.debit_account_id
            )
        result = await self.transfer(
            tenant_id,
            TransferCreate(
                id=data.id,
                debit_account_id=data.debit_account_id,
                credit_account_id=data.credit_account_id,
                amount=data.amount,
                ledger=debit.ledger if debit else "",
                code="adjustment",
                user_data={"reason": data.reason, "by": actor},
            ),
        )
        if result.result == Result.ok:
            async with tenant_transaction(sessionmaker, tenant_id) as session:
                await audit.record(
                    session,
                    tenant_id,
                    actor=actor,
                    entity="ledger_transfer",
                    entity_id=data.id,
                    action="adjusted",
                    after=data.model_dump(mode="json"),
                )
                await outbox.append(
                    session,
                    LedgerAdjusted(transfer_id=data.id, amount=data.amount, reason=data.reason),
                    tenant_id=tenant_id,
                    aggregate_id=data.id,
                )
        return result

    async def expire_pending(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        limit: int = 1000,
    ) -> int:
        """Releases pending transfers past their timeout (the worker calls this)."""
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            due = await LedgerRepository.from_session(session).expired_pendings(clock.now(), limit)
        if not due:
            return 0
        # The expiry's id derives from the pending one: two sweepers expire it once.
        results = await self.writer.submit(
            tenant_id,
            [
                EngineTransfer(
                    id=uuid.uuid5(pending, "expire"),
                    debit_account_id=None,
                    credit_account_id=None,
                    amount=0,
                    ledger="",
                    code="expired",
                    kind="expire",
                    pending_id=pending,
                )
                for pending in due
            ],
        )
        return sum(1 for r in results if r == Result.ok)

    # -- statements -----------------------------------------------------------------------------
    async def statement(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        account_id: uuid.UUID,
        *,
        cursor: str | None,
        limit: int,
    ) -> Statement:
        """Posted movements, newest first, each with the balance right after it. The cursor
        carries the balance, so a page costs its rows only."""
        repo = LedgerRepository.from_session(session)
        row = await repo.account(tenant_id, account_id)
        if row is None:
            raise AccountNotFound()
        account = _account_view(row)
        balance, before = account.balance, None
        if cursor:
            try:
                at, last, carried = base64.urlsafe_b64decode(cursor).decode().split("|")
                before, balance = (datetime.fromisoformat(at), uuid.UUID(last)), int(carried)
            except ValueError as e:
                raise InvalidCursor() from e
        rows = await repo.entries(tenant_id, account_id, before=before, limit=limit + 1)
        credit_normal = account.type not in DEBIT_NORMAL
        entries = []
        for r in rows[:limit]:
            credited = r.credit_account_id == account_id
            signed = r.amount if credited == credit_normal else -r.amount
            entries.append(
                StatementEntry(
                    transfer_id=r.id,
                    timestamp=r.timestamp,
                    code=r.code,
                    amount=signed,
                    balance_after=balance,
                    counterparty_account_id=r.debit_account_id if credited else r.credit_account_id,
                    user_data=r.user_data or {},
                )
            )
            balance -= signed
        next_cursor = None
        if len(rows) > limit:
            last_row = rows[limit - 1]
            next_cursor = base64.urlsafe_b64encode(
                f"{last_row.timestamp.isoformat()}|{last_row.id}|{balance}".encode()
            ).decode()
        return Statement(account=account, entries=entries, next_cursor=next_cursor)

    # -- verification ---------------------------------------------------------------------------
    async def verify(
        self, sessionmaker: async_sessionmaker[AsyncSession], tenant_ids: list[uuid.UUID]
    ) -> list[Mismatch]:
        """Recomputes every balance from the transfers; checks debits equal credits per
        ledger (currency). Returns what does not hold."""
        problems: list[Mismatch] = []
        for tenant_id in tenant_ids:
            async with tenant_transaction(sessionmaker, tenant_id) as session:
                repo = LedgerRepository.from_session(session)
                for r in await repo.recomputed_balances():
                    stored = (
                        r.debits_posted,
                        r.credits_posted,
                        r.debits_pending,
                        r.credits_pending,
                    )
                    derived = (r.dp, r.cp, r.dq, r.cq)
                    if stored != derived:
                        problems.append(
                            Mismatch(
                                tenant_id, f"account {r.id}: stored {stored} != transfers {derived}"
                            )
                        )
                for t in await repo.totals():
                    if (t.dp, t.dq) != (t.cp, t.cq):
                        problems.append(
                            Mismatch(
                                tenant_id,
                                f"ledger {t.ledger}: debits {t.dp}+{t.dq} pending != "
                                f"credits {t.cp}+{t.cq} pending",
                            )
                        )
        return problems


ledger = LedgerService()
