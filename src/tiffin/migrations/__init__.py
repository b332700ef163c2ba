"""Schema migrations (Alembic) and the bootstrap of the runtime role.

Migrations run as the owner (`TIFFIN_DATABASE_ADMIN_URL`); the runtime role of
`TIFFIN_DATABASE_URL` gets data privileges only, and row-level security binds it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

HERE = Path(__file__).parent


def alembic_config(admin_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", admin_url.replace("%", "%%"))
    return config


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def ensure_runtime_role(admin_url: str, app_url: str) -> None:
    """Creates the runtime role if missing and grants it data access (never ownership)."""
    admin, app = make_url(admin_url), make_url(app_url)
    if app.username == admin.username or app.username is None:
        return
    role = _quote(app.username)
    conn = await asyncpg.connect(admin.set(drivername="postgresql").render_as_string(False))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", app.username)
        if not exists:
            password = str(app.password).replace("'", "''") if app.password else None
            clause = f" PASSWORD '{password}'" if password else ""
            await conn.execute(
                f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE{clause}"
            )
        database = _quote(admin.database or "postgres")
        await conn.execute(f"GRANT CONNECT ON DATABASE {database} TO {role}")
        await conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        await conn.execute(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"
        )
        await conn.execute(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}"
        )
        await conn.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        await conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        # Alembic's bookkeeping is the owner's alone.
        if await conn.fetchval("SELECT to_regclass('public.alembic_version') IS NOT NULL"):
            await conn.execute(f"REVOKE ALL ON TABLE alembic_version FROM {role}")
    finally:
        await conn.close()


async def upgrade(admin_url: str, app_url: str, revision: str = "head") -> None:
    await ensure_runtime_role(admin_url, app_url)
    # Alembic's async env runs its own event loop: give it a thread.
    await asyncio.to_thread(command.upgrade, alembic_config(admin_url), revision)
    await ensure_runtime_role(admin_url, app_url)
