from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKeyConstraint, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from tiffin.infra.db import Base


class ConfigVersionRow(Base):
    """An immutable-once-published document. Kept as the exact text that was validated, so
    a rollback serves it back byte for byte."""

    __tablename__ = "config_versions"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # draft | published | retired
    document: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    published_by: Mapped[str | None] = mapped_column(String(128))
    published_at: Mapped[datetime | None]


class ConfigState(Base):
    """Which version is live, and a revision that moves on every publish or rollback."""

    __tablename__ = "config_state"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "live_version"],
            ["config_versions.tenant_id", "config_versions.version"],
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    live_version: Mapped[int]
    revision: Mapped[int] = mapped_column(BigInteger)
