"""ledger: accounts with balances and immutable transfers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:57:15.203969
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tiffin.migrations.helpers import drop_isolation, isolate_by_tenant

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("ledger", sa.String(length=8), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("owner_type", sa.String(length=32), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("debits_must_not_exceed_credits", sa.Boolean(), nullable=False),
        sa.Column("credits_must_not_exceed_debits", sa.Boolean(), nullable=False),
        sa.Column("credit_limit", sa.BigInteger(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ledger_accounts")),
    )
    op.create_index(
        "ix_ledger_accounts_owner",
        "ledger_accounts",
        ["tenant_id", "owner_type", "owner_id"],
        unique=False,
    )
    op.create_table(
        "ledger_transfers",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("debit_account_id", sa.UUID(), nullable=False),
        sa.Column("credit_account_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("ledger", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("pending_id", sa.UUID(), nullable=True),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "timestamp",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "credit_account_id"],
            ["ledger_accounts.tenant_id", "ledger_accounts.id"],
            name=op.f("fk_ledger_transfers_tenant_id_credit_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "debit_account_id"],
            ["ledger_accounts.tenant_id", "ledger_accounts.id"],
            name=op.f("fk_ledger_transfers_tenant_id_debit_account_id_ledger_accounts"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ledger_transfers")),
    )
    op.create_index(
        "ix_ledger_transfers_credit",
        "ledger_transfers",
        ["tenant_id", "credit_account_id", "timestamp"],
        unique=False,
    )
    op.create_index(
        "ix_ledger_transfers_debit",
        "ledger_transfers",
        ["tenant_id", "debit_account_id", "timestamp"],
        unique=False,
    )
    op.create_index(
        "ix_ledger_transfers_expiry",
        "ledger_transfers",
        ["tenant_id", "expires_at"],
        unique=False,
        postgresql_where=sa.text("kind = 'pending'"),
    )
    op.create_index(
        "uq_ledger_transfers_pending",
        "ledger_transfers",
        ["tenant_id", "pending_id"],
        unique=True,
        postgresql_where=sa.text("pending_id IS NOT NULL"),
    )
    op.create_check_constraint(
        "balances_not_negative",
        "ledger_accounts",
        "debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 "
        "AND credits_pending >= 0 AND credit_limit >= 0",
    )
    op.create_check_constraint("amount_positive", "ledger_transfers", "amount > 0")
    for table in ("ledger_accounts", "ledger_transfers"):
        isolate_by_tenant(table)


def downgrade() -> None:
    for table in ("ledger_accounts", "ledger_transfers"):
        drop_isolation(table)
    op.drop_index(
        "uq_ledger_transfers_pending",
        table_name="ledger_transfers",
        postgresql_where=sa.text("pending_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_ledger_transfers_expiry",
        table_name="ledger_transfers",
        postgresql_where=sa.text("kind = 'pending'"),
    )
    op.drop_index("ix_ledger_transfers_debit", table_name="ledger_transfers")
    op.drop_index("ix_ledger_transfers_credit", table_name="ledger_transfers")
    op.drop_table("ledger_transfers")
    op.drop_index("ix_ledger_accounts_owner", table_name="ledger_accounts")
    op.drop_table("ledger_accounts")
