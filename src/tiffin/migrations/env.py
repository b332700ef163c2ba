from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import tiffin.catalog.models
import tiffin.config.models
import tiffin.flags.models
import tiffin.identity.models
import tiffin.infra.audit
import tiffin.infra.bus.consumer
import tiffin.infra.bus.outbox
import tiffin.infra.http.idempotency
import tiffin.ledger.models
import tiffin.tenancy.models  # noqa: F401  (tables register on the metadata)
from tiffin.infra.db import Base
from tiffin.settings import get_settings

target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def database_url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        settings = get_settings()
        url = settings.database_admin_url or settings.database_url
    if not url:
        raise SystemExit("set TIFFIN_DATABASE_ADMIN_URL (or TIFFIN_DATABASE_URL)")
    return url


async def run_online() -> None:
    url = database_url()
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(run_with)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_online())
