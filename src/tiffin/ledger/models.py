"""Ledger tables. Balances live on accounts only as sums the writer keeps in step with the
immutable transfers, in the same transaction; `tiffin ledger verify` recomputes them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tiffin.infra.db import Base


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        Index("ix_ledger_accounts_owner", "tenant_id", "owner_type", "owner_id"),
        CheckConstraint(
            "debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 "
            "AND credits_pending >= 0 AND credit_limit >= 0",
            name="balances_not_negative",
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    ledger: Mapped[str] = mapped_column(String(8))  # INR, PTS… never mixed in a transfer
    type: Mapped[str] = mapped_column(String(32))  # customer_wallet, restaurant_payable…
    owner_type: Mapped[str | None] = mapped_column(String(32))
    owner_id: Mapped[str | None] = mapped_column(String(64))
    debits_must_not_exceed_credits: Mapped[bool] = mapped_column(default=False)
    credits_must_not_exceed_debits: Mapped[bool] = mapped_column(default=False)
    credit_limit: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class LedgerTransfer(Base):
    """Immutable. Kinds: `single` (posted at once), `pending` (reserves), and the resolutions
    of a pending one, `post` (all or part), `void` and `expire`, which name it in `pending_id`."""

    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        ForeignKeyConstraint(
            ["tenant_id", "debit_account_id"], ["ledger_accounts.tenant_id", "ledger_accounts.id"]
        ),
        ForeignKeyConstraint(
            ["tenant_id", "credit_account_id"], ["ledger_accounts.tenant_id", "ledger_accounts.id"]
        ),
        Index("ix_ledger_transfers_debit", "tenant_id", "debit_account_id", "timestamp"),
        Index("ix_ledger_transfers_credit", "tenant_id", "credit_account_id", "timestamp"),
        # A pending transfer is resolved at most once (posted, voided or expired): the
        # database itself refuses a second resolution.
        Index(
            "uq_ledger_transfers_pending",
            "tenant_id",
            "pending_id",
            unique=True,
            postgresql_where=text("pending_id IS NOT NULL"),
        ),
        Index(
            "ix_ledger_transfers_expiry",
            "tenant_id",
            "expires_at",
            postgresql_where=text("kind = 'pending'"),
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    debit_account_id: Mapped[uuid.UUID]
    credit_account_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    ledger: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # single | pending | post | void | expire
    pending_id: Mapped[uuid.UUID | None]
    timeout_seconds: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime | None]
    user_data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    timestamp: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())


class WalletPromotion(Base):
    """When a promotional grant expires. The money is the grant transfer (`id`); this row is
    only the schedule of its reversal, written after the transfer (the foreign key says so)."""

    __tablename__ = "wallet_promotions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "id"], ["ledger_transfers.tenant_id", "ledger_transfers.id"]
        ),
        ForeignKeyConstraint(
            ["tenant_id", "account_id"], ["ledger_accounts.tenant_id", "ledger_accounts.id"]
        ),
        Index(
            "ix_wallet_promotions_due",
            "tenant_id",
            "expires_at",
            postgresql_where=text("settled_at IS NULL"),
        ),
        Index("ix_wallet_promotions_account", "tenant_id", "account_id", "expires_at"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    customer_id: Mapped[uuid.UUID]
    account_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))  # cashback | promo_credit
    amount: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime]
    clawed_back: Mapped[int | None] = mapped_column(BigInteger)
    settled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SettlementRun(Base):
    """One tenant's settlement of one day (T+1): the window it covers and how it ended."""

    __tablename__ = "settlement_runs"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    settlement_date: Mapped[date] = mapped_column(Date, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[datetime]
    cutoff: Mapped[datetime]
    ledger: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))  # running | completed
    restaurants_paid: Mapped[int] = mapped_column(default=0)
    total_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    completed_at: Mapped[datetime | None]


class SettlementStatementRow(Base):
    """A restaurant's statement of one settlement, as sent: JSON and CSV, written once."""

    __tablename__ = "settlement_statements"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "settlement_date"],
            ["settlement_runs.tenant_id", "settlement_runs.settlement_date"],
            name="fk_settlement_statements_settlement_runs",  # the convention's is too long
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    settlement_date: Mapped[date] = mapped_column(Date, primary_key=True)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    ledger: Mapped[str] = mapped_column(String(8))
    payout_amount: Mapped[int] = mapped_column(BigInteger)
    payout_transfer_id: Mapped[uuid.UUID | None]
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    csv: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
