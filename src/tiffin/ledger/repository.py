"""All SQL of the ledger, set-based: one statement per kind of work in a batch."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tiffin.ledger.engine import Account, Pending, Transfer
from tiffin.ledger.models import LedgerAccount, LedgerTransfer

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
