"""Accounts. The first cut: who exists per brand (credentials, sessions and roles come with
the identity issue)."""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tiffin.infra.db import Base, TenantOwned


class Account(TenantOwned, Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    kind: Mapped[str] = mapped_column(String(16))  # customer | rider | staff | admin
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(16))  # E.164
    email: Mapped[str | None] = mapped_column(String(320))
