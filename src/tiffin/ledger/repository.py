"""All SQL of the ledger, set-based: one statement per kind of work in a batch."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Row, func, literal, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tiffin.ledger.engine import Account, Pending, Transfer
from tiffin.ledger.models import (
    LedgerAccount,
    LedgerTransfer,
    SettlementRun,
    SettlementStatementRow,
    WalletPromotion,
)

_TRANSFER_COLUMNS = (
    "id, debit_account_id, credit_account_id, amount, ledger, code, kind, pending_id, "
    "timeout_seconds, expires_at, user_data"
)


def _transfer(row: Any) -> Transfer:
    return Transfer(
        id=row.id,
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        amount=row.amount,
        ledger=row.ledger,
        code=row.code,
        kind=row.kind,
        pending_id=row.pending_id,
        timeout_seconds=row.timeout_seconds,
        user_data=row.user_data or {},
        expires_at=row.expires_at,
    )


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> LedgerRepository:
        return cls(session)

    # -- the writer's batch -----------------------------------------------------------------
    async def transfers(
        self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Transfer]:
        if not ids:
            return {}
        # Every statement names the tenant: the keys start with tenant_id, so that is what
        # lets PostgreSQL use them (row-level security alone would still be correct).
        rows = await self.session.execute(
            text(
                f"SELECT {_TRANSFER_COLUMNS} FROM ledger_transfers "
                "WHERE tenant_id = :tenant AND id = ANY(:ids)"
            ),
            {"tenant": tenant_id, "ids": list(ids)},
        )
        return {row.id: _transfer(row) for row in rows}

    async def pendings(
        self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Pending]:
        """Pending transfers by id, each with how (if at all) it has been resolved."""
        if not ids:
            return {}
        rows = await self.session.execute(
            text(
                f"SELECT {', '.join('p.' + c.strip() for c in _TRANSFER_COLUMNS.split(','))}, "
                "r.kind AS resolution FROM ledger_transfers p "
                "LEFT JOIN ledger_transfers r ON r.tenant_id = p.tenant_id AND r.pending_id = p.id "
                "WHERE p.tenant_id = :tenant AND p.id = ANY(:ids) AND p.kind = 'pending'"
            ),
            {"tenant": tenant_id, "ids": list(ids)},
        )
        return {row.id: Pending(_transfer(row), row.resolution) for row in rows}

    async def lock_accounts(
        self, tenant_id: uuid.UUID, ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, Account]:
        """Locks in id order, so concurrent writers touching the same accounts never
        deadlock."""
        ordered = sorted(set(ids))
        if not ordered:
            return {}
        rows = await self.session.execute(
            text(
                "SELECT id, ledger, debits_must_not_exceed_credits, "
                "credits_must_not_exceed_debits, credit_limit, debits_posted, credits_posted, "
                "debits_pending, credits_pending FROM ledger_accounts "
                "WHERE tenant_id = :tenant AND id = ANY(:ids) ORDER BY id FOR UPDATE"
            ),
            {"tenant": tenant_id, "ids": ordered},
        )
        return {row.id: Account(**row._mapping) for row in rows}

    async def insert_transfers(self, tenant_id: uuid.UUID, transfers: Sequence[Transfer]) -> None:
        if not transfers:
            return
        await self.session.execute(
            text(
                "INSERT INTO ledger_transfers (tenant_id, id, debit_account_id, "
                "credit_account_id, amount, ledger, code, kind, pending_id, timeout_seconds, "
                "expires_at, user_data) "
                "SELECT :tenant, * FROM unnest(CAST(:ids AS uuid[]), CAST(:debits AS uuid[]), "
                "CAST(:credits AS uuid[]), CAST(:amounts AS bigint[]), CAST(:ledgers AS text[]), "
                "CAST(:codes AS text[]), CAST(:kinds AS text[]), CAST(:pendings AS uuid[]), "
                "CAST(:timeouts AS int[]), CAST(:expires AS timestamptz[]), "
                "CAST(:user_data AS jsonb[]))"
            ),
            {
                "tenant": tenant_id,
                "ids": [t.id for t in transfers],
                "debits": [t.debit_account_id for t in transfers],
                "credits": [t.credit_account_id for t in transfers],
                "amounts": [t.amount for t in transfers],
                "ledgers": [t.ledger for t in transfers],
                "codes": [t.code for t in transfers],
                "kinds": [t.kind for t in transfers],
                "pendings": [t.pending_id for t in transfers],
                "timeouts": [t.timeout_seconds for t in transfers],
                "expires": [t.expires_at for t in transfers],
                "user_data": [orjson.dumps(t.user_data).decode() for t in transfers],
            },
        )

    async def update_balances(self, tenant_id: uuid.UUID, accounts: Sequence[Account]) -> None:
        if not accounts:
            return
        await self.session.execute(
            text(
                "UPDATE ledger_accounts a SET debits_posted = v.dp, credits_posted = v.cp, "
                "debits_pending = v.dq, credits_pending = v.cq "
                "FROM unnest(CAST(:ids AS uuid[]), CAST(:dp AS bigint[]), CAST(:cp AS bigint[]), "
                "CAST(:dq AS bigint[]), CAST(:cq AS bigint[])) AS v(id, dp, cp, dq, cq) "
                "WHERE a.tenant_id = :tenant AND a.id = v.id"
            ),
            {
                "tenant": tenant_id,
                "ids": [a.id for a in accounts],
                "dp": [a.debits_posted for a in accounts],
                "cp": [a.credits_posted for a in accounts],
                "dq": [a.debits_pending for a in accounts],
                "cq": [a.credits_pending for a in accounts],
            },
        )

    # -- reads --------------------------------------------------------------------------------
    async def account(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> LedgerAccount | None:
        return await self.session.get(LedgerAccount, (tenant_id, account_id))

    async def add_account(self, row: LedgerAccount) -> None:
        self.session.add(row)
        await self.session.flush()

    async def transfer(self, tenant_id: uuid.UUID, transfer_id: uuid.UUID) -> LedgerTransfer | None:
        return await self.session.get(LedgerTransfer, (tenant_id, transfer_id))

    async def entries(
        self,
        tenant_id: uuid.UUID,
        account_id: uuid.UUID,
        *,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> Sequence[Row[Any]]:
        """Posted movements of an account, newest first, with the pending amount a
        resolution released (for statements)."""
        cursor = "AND (t.timestamp, t.id) < (:at, :last)" if before else ""
        rows = await self.session.execute(
            text(
                "SELECT t.id, t.timestamp, t.kind, t.code, t.amount, t.user_data, "
                "t.debit_account_id, t.credit_account_id, t.pending_id "
                "FROM ledger_transfers t "
                "WHERE t.tenant_id = :tenant "
                "AND (t.debit_account_id = :account OR t.credit_account_id = :account) "
                f"AND t.kind IN ('single', 'post') {cursor} "
                "ORDER BY t.timestamp DESC, t.id DESC LIMIT :limit"
            ),
            {
                "tenant": tenant_id,
                "account": account_id,
                "limit": limit,
                **({"at": before[0], "last": before[1]} if before else {}),
            },
        )
        return rows.all()

    async def expired_pendings(self, now: datetime, limit: int) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(LedgerTransfer.id)
            .where(LedgerTransfer.kind == "pending", LedgerTransfer.expires_at <= now)
            .where(
                ~select(LedgerTransfer.id)
                .where(LedgerTransfer.pending_id == LedgerTransfer.id)
                .exists()
            )
            .limit(limit)
        )
        return list(rows)

    async def recomputed_balances(self) -> Sequence[Row[Any]]:
        """Every account's stored balances beside the ones its transfers add up to."""
        rows = await self.session.execute(text(VERIFY_SQL))
        return rows.all()

    async def totals(self) -> Sequence[Row[Any]]:
        """Per ledger: total debits and credits (posted and pending) over all accounts."""
        rows = await self.session.execute(
            text(
                "SELECT ledger, sum(debits_posted) AS dp, sum(credits_posted) AS cp, "
                "sum(debits_pending) AS dq, sum(credits_pending) AS cq "
                "FROM ledger_accounts GROUP BY ledger"
            )
        )
        return rows.all()


VERIFY_SQL = """
WITH effects AS (
    SELECT t.debit_account_id AS account,
           CASE WHEN t.kind IN ('single', 'post') THEN t.amount ELSE 0 END AS dp, 0 AS cp,
           CASE WHEN t.kind = 'pending' THEN t.amount
                WHEN t.kind IN ('post', 'void', 'expire') THEN -p.amount ELSE 0 END AS dq,
           0 AS cq
    FROM ledger_transfers t LEFT JOIN ledger_transfers p
      ON p.tenant_id = t.tenant_id AND p.id = t.pending_id
    UNION ALL
    SELECT t.credit_account_id, 0,
           CASE WHEN t.kind IN ('single', 'post') THEN t.amount ELSE 0 END, 0,
           CASE WHEN t.kind = 'pending' THEN t.amount
                WHEN t.kind IN ('post', 'void', 'expire') THEN -p.amount ELSE 0 END
    FROM ledger_transfers t LEFT JOIN ledger_transfers p
      ON p.tenant_id = t.tenant_id AND p.id = t.pending_id
), sums AS (
    SELECT account, sum(dp) AS dp, sum(cp) AS cp, sum(dq) AS dq, sum(cq) AS cq
    FROM effects GROUP BY account
)
SELECT a.id, a.ledger, a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending,
       coalesce(s.dp, 0) AS dp, coalesce(s.cp, 0) AS cp,
       coalesce(s.dq, 0) AS dq, coalesce(s.cq, 0) AS cq
FROM ledger_accounts a LEFT JOIN sums s ON s.account = a.id
"""


class WalletRepository:
    """SQL of the wallet flows and settlements: owners' accounts, a payable's movements,
    the promotional-expiry schedule, settlement runs and statements. Every statement names
    the tenant, as the ledger's do."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> WalletRepository:
        return cls(session)

    # -- ledger reads -------------------------------------------------------------------------
    async def accounts_of_type(
        self, tenant_id: uuid.UUID, type_: str, *, created_before: datetime
    ) -> Sequence[LedgerAccount]:
        rows = await self.session.scalars(
            select(LedgerAccount)
            .where(
                LedgerAccount.tenant_id == tenant_id,
                LedgerAccount.type == type_,
                LedgerAccount.created_at < created_before,
            )
            .order_by(LedgerAccount.id)
        )
        return rows.all()

    async def credits_before(
        self, tenant_id: uuid.UUID, account_id: uuid.UUID, cutoff: datetime
    ) -> int:
        """Everything posted to the account's credit side before `cutoff`."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(LedgerTransfer.amount), 0)).where(
                LedgerTransfer.tenant_id == tenant_id,
                LedgerTransfer.credit_account_id == account_id,
                LedgerTransfer.kind.in_(("single", "post")),
                LedgerTransfer.timestamp < cutoff,
            )
        )
        return int(total or 0)

    async def movements(
        self, tenant_id: uuid.UUID, account_id: uuid.UUID, start: datetime, end: datetime
    ) -> Sequence[LedgerTransfer]:
        """Posted movements of an account in [start, end), oldest first."""
        rows = await self.session.scalars(
            select(LedgerTransfer)
            .where(
                LedgerTransfer.tenant_id == tenant_id,
                or_(
                    LedgerTransfer.debit_account_id == account_id,
                    LedgerTransfer.credit_account_id == account_id,
                ),
                LedgerTransfer.kind.in_(("single", "post")),
                LedgerTransfer.timestamp >= start,
                LedgerTransfer.timestamp < end,
            )
            .order_by(LedgerTransfer.timestamp, LedgerTransfer.id)
        )
        return rows.all()

    # -- promotional expiry -------------------------------------------------------------------
    async def add_promotion(self, row: WalletPromotion) -> None:
        await self.session.execute(
            pg_insert(WalletPromotion)
            .values(
                tenant_id=row.tenant_id,
                id=row.id,
                customer_id=row.customer_id,
                account_id=row.account_id,
                kind=row.kind,
                amount=row.amount,
                expires_at=row.expires_at,
            )
            .on_conflict_do_nothing()
        )

    async def due_promotions(
        self,
        tenant_id: uuid.UUID,
        now: datetime,
        *,
        account_id: uuid.UUID | None,
        limit: int,
    ) -> Sequence[WalletPromotion]:
        """Unsettled grants past their expiry, per account in expiry order."""
        query = select(WalletPromotion).where(
            WalletPromotion.tenant_id == tenant_id,
            WalletPromotion.settled_at.is_(None),
            WalletPromotion.expires_at <= now,
        )
        if account_id is not None:
            query = query.where(WalletPromotion.account_id == account_id)
        rows = await self.session.scalars(
            query.order_by(
                WalletPromotion.account_id, WalletPromotion.expires_at, WalletPromotion.id
            ).limit(limit)
        )
        return rows.all()

    async def promotions_after(self, grant: WalletPromotion) -> int:
        """The total of the account's grants that expire after `grant`."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(WalletPromotion.amount), 0)).where(
                WalletPromotion.tenant_id == grant.tenant_id,
                WalletPromotion.account_id == grant.account_id,
                tuple_(WalletPromotion.expires_at, WalletPromotion.id)
                > tuple_(literal(grant.expires_at), literal(grant.id)),
            )
        )
        return int(total or 0)

    async def settle_promotion(
        self, tenant_id: uuid.UUID, promotion_id: uuid.UUID, *, clawed_back: int, at: datetime
    ) -> None:
        await self.session.execute(
            update(WalletPromotion)
            .where(
                WalletPromotion.tenant_id == tenant_id,
                WalletPromotion.id == promotion_id,
                WalletPromotion.settled_at.is_(None),
            )
            .values(clawed_back=clawed_back, settled_at=at)
        )

    # -- settlements --------------------------------------------------------------------------
    async def settlement_run(
        self, tenant_id: uuid.UUID, settlement_date: date
    ) -> SettlementRun | None:
        return await self.session.get(SettlementRun, (tenant_id, settlement_date))

    async def add_settlement_run(self, row: SettlementRun) -> SettlementRun:
        """Inserts the run unless one exists; returns the stored one (the first wins)."""
        await self.session.execute(
            pg_insert(SettlementRun)
            .values(
                tenant_id=row.tenant_id,
                settlement_date=row.settlement_date,
                timezone=row.timezone,
                period_start=row.period_start,
                cutoff=row.cutoff,
                ledger=row.ledger,
                status=row.status,
                restaurants_paid=0,
                total_paid=0,
            )
            .on_conflict_do_nothing()
        )
        stored = await self.settlement_run(row.tenant_id, row.settlement_date)
        assert stored is not None
        return stored

    async def complete_settlement_run(
        self, tenant_id: uuid.UUID, settlement_date: date, *, at: datetime
    ) -> SettlementRun | None:
        """Totals the run from its statements and marks it completed (once)."""
        paid = (
            await self.session.execute(
                select(
                    func.count().filter(SettlementStatementRow.payout_amount > 0),
                    func.coalesce(func.sum(SettlementStatementRow.payout_amount), 0),
                ).where(
                    SettlementStatementRow.tenant_id == tenant_id,
                    SettlementStatementRow.settlement_date == settlement_date,
                )
            )
        ).one()
        await self.session.execute(
            update(SettlementRun)
            .where(
                SettlementRun.tenant_id == tenant_id,
                SettlementRun.settlement_date == settlement_date,
                SettlementRun.status != "completed",
            )
            .values(
                status="completed",
                restaurants_paid=int(paid[0]),
                total_paid=int(paid[1]),
                completed_at=at,
            )
            .execution_options(synchronize_session=False)
        )
        run = await self.settlement_run(tenant_id, settlement_date)
        if run is not None:
            await self.session.refresh(run)
        return run

    async def statement(
        self, tenant_id: uuid.UUID, settlement_date: date, restaurant_id: uuid.UUID
    ) -> SettlementStatementRow | None:
        return await self.session.get(
            SettlementStatementRow, (tenant_id, settlement_date, restaurant_id)
        )

    async def statements(
        self, tenant_id: uuid.UUID, settlement_date: date
    ) -> Sequence[SettlementStatementRow]:
        rows = await self.session.scalars(
            select(SettlementStatementRow)
            .where(
                SettlementStatementRow.tenant_id == tenant_id,
                SettlementStatementRow.settlement_date == settlement_date,
            )
            .order_by(SettlementStatementRow.restaurant_id)
        )
        return rows.all()

    async def add_statement(self, row: SettlementStatementRow) -> None:
        """Written once: a statement is what was sent, never rewritten by a retry."""
        await self.session.execute(
            pg_insert(SettlementStatementRow)
            .values(
                tenant_id=row.tenant_id,
                settlement_date=row.settlement_date,
                restaurant_id=row.restaurant_id,
                ledger=row.ledger,
                payout_amount=row.payout_amount,
                payout_transfer_id=row.payout_transfer_id,
                document=row.document,
                csv=row.csv,
            )
            .on_conflict_do_nothing()
        )
