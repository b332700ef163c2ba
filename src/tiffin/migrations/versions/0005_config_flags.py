"""brand configuration versions and feature flags

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 15:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tiffin.migrations.helpers import drop_isolation, isolate_by_tenant

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("flags", "flag_segments", "flag_state", "config_versions", "config_state")


def upgrade() -> None:
    op.create_table(
        "flags",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("killed", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_flags")),
    )
    op.create_table(
        "flag_segments",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_flag_segments")),
    )
    op.create_table(
        "flag_state",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_flag_state")),
    )
    op.create_table(
        "config_versions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_by", sa.String(length=128), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "version", name=op.f("pk_config_versions")),
    )
    op.create_table(
        "config_state",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("live_version", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "live_version"],
            ["config_versions.tenant_id", "config_versions.version"],
            name=op.f("fk_config_state_tenant_id_live_version_config_versions"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_config_state")),
    )
    for table in TENANT_TABLES:
        isolate_by_tenant(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_isolation(table)
    for table in reversed(TENANT_TABLES):
        op.drop_table(table)
