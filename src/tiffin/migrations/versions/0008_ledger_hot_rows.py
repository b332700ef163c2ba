"""ledger accounts are rewritten on every transfer: keep their row versions on the page

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 16:30:00

A hot account (platform revenue) is updated by every batch. With free space on its page,
PostgreSQL updates it in place (HOT) and prunes old versions as it goes; with a small fixed
vacuum threshold, autovacuum visits the table long before it bloats.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE ledger_accounts SET (fillfactor = 50, "
        "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000, "
        "autovacuum_vacuum_cost_delay = 0)"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE ledger_accounts RESET (fillfactor, autovacuum_vacuum_scale_factor, "
        "autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay)"
    )
