"""ledger: promotional-credit expiry schedule, settlement runs and restaurant statements

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 16:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tiffin.migrations.helpers import drop_isolation, isolate_by_tenant

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("wallet_promotions", "settlement_runs", "settlement_statements")


def upgrade() -> None:
    op.create_table(
        "wallet_promotions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clawed_back", sa.BigInteger(), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "account_id"],
            ["ledger_accounts.tenant_id", "ledger_accounts.id"],
            name=op.f("fk_wallet_promotions_tenant_id_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "id"],
            ["ledger_transfers.tenant_id", "ledger_transfers.id"],
            name=op.f("fk_wallet_promotions_tenant_id_id_ledger_transfers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_wallet_promotions")),
    )
    op.create_index(
        "ix_wallet_promotions_due",
        "wallet_promotions",
        ["tenant_id", "expires_at"],
        unique=False,
        postgresql_where=sa.text("settled_at IS NULL"),
    )
    op.create_index(
        "ix_wallet_promotions_account",
        "wallet_promotions",
        ["tenant_id", "account_id", "expires_at"],
        unique=False,
    )
    op.create_table(
        "settlement_runs",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ledger", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("restaurants_paid", sa.Integer(), nullable=False),
        sa.Column("total_paid", sa.BigInteger(), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "settlement_date", name=op.f("pk_settlement_runs")),
    )
    op.create_table(
        "settlement_statements",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("ledger", sa.String(length=8), nullable=False),
        sa.Column("payout_amount", sa.BigInteger(), nullable=False),
        sa.Column("payout_transfer_id", sa.UUID(), nullable=True),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("csv", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "settlement_date"],
            ["settlement_runs.tenant_id", "settlement_runs.settlement_date"],
            name="fk_settlement_statements_settlement_runs",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "settlement_date",
            "restaurant_id",
            name=op.f("pk_settlement_statements"),
        ),
    )
    for table in TABLES:
        isolate_by_tenant(table)


def downgrade() -> None:
    for table in TABLES:
        drop_isolation(table)
    op.drop_table("settlement_statements")
    op.drop_table("settlement_runs")
    op.drop_index("ix_wallet_promotions_account", table_name="wallet_promotions")
    op.drop_index(
        "ix_wallet_promotions_due",
        table_name="wallet_promotions",
        postgresql_where=sa.text("settled_at IS NULL"),
    )
    op.drop_table("wallet_promotions")
