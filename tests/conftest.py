"""Real engines, started once per test session (or taken from the TIFFIN_* URLs).

Tests are isolated by tenant: each makes its own brands, so no test sees another's rows and
nothing needs truncating. Infrastructure tables (outbox) are filtered by tenant in assertions.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from tests.fixtures.tenants import Brand, make_brand
from tiffin.app import create_app, module_runtimes
from tiffin.infra.embedded import APP_ROLE, EmbeddedEngines
from tiffin.infra.resources import Resources
from tiffin.migrations import upgrade
from tiffin.sandbox.server import SandboxServer
from tiffin.sandbox.sms import ACCOUNT_SID, AUTH_TOKEN, create_sms_provider
from tiffin.settings import Settings
from tiffin.tenancy.service import tenants


@pytest.fixture(scope="session")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEngines]:
    # Started from the main thread: the servers' death signal is tied to the forking thread.
    engines = EmbeddedEngines(Path(tmp_path_factory.mktemp("engines")), ephemeral=True)
    yield engines
    engines.stop()


def _external_database(admin_url: str) -> tuple[str, str]:
    """A fresh database on the server of TIFFIN_DATABASE_(ADMIN_)URL, dropped by nobody:
    its name is unique per session so runs never collide."""
    name = f"tiffin_test_{uuid.uuid4().hex[:12]}"
    admin = make_url(admin_url)

    async def create() -> None:
        conn = await asyncpg.connect(admin.set(drivername="postgresql").render_as_string(False))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    database_admin = admin.set(database=name)
    app = database_admin.set(username=APP_ROLE, password=None)
    return app.render_as_string(False), database_admin.render_as_string(False)


@pytest.fixture(scope="session")
def database_urls(engines: EmbeddedEngines) -> tuple[str, str]:
    external = os.environ.get("TIFFIN_DATABASE_ADMIN_URL") or os.environ.get("TIFFIN_DATABASE_URL")
    app_url, admin_url = _external_database(external) if external else engines.start_postgres()
    asyncio.run(upgrade(admin_url, app_url))
    return app_url, admin_url


@pytest.fixture(scope="session")
def sms_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(create_sms_provider()) as server:
        yield server


@pytest.fixture(scope="session")
def settings(
    engines: EmbeddedEngines, database_urls: tuple[str, str], sms_sandbox: SandboxServer
) -> Settings:
    return Settings(
        env="test",
        database_url=database_urls[0],
        database_admin_url=database_urls[1],
        redis_url=os.environ.get("TIFFIN_REDIS_URL") or engines.start_redis(),
        temporal_address=os.environ.get("TIFFIN_TEMPORAL_ADDRESS") or engines.start_temporal(),
        max_body_bytes=64 * 1024,
        relay_poll_seconds=0.2,
        sms_api_url=sms_sandbox.url,
        sms_account_sid=ACCOUNT_SID,
        sms_auth_token=SecretStr(AUTH_TOKEN),
    )


@pytest.fixture(scope="session")
async def resources(settings: Settings) -> AsyncIterator[Resources]:
    resources = await Resources.open(settings)
    yield resources
    await resources.close()


@pytest.fixture(scope="session")
async def app(resources: Resources) -> AsyncIterator[FastAPI]:
    async with module_runtimes(resources):
        yield create_app(resources=resources)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


@pytest.fixture
async def brand(resources: Resources) -> Brand:
    return await make_brand(resources.sessionmaker)


@pytest.fixture
async def other_brand(resources: Resources) -> Brand:
    return await make_brand(resources.sessionmaker)


@pytest.fixture(autouse=True)
def _fresh_tenant_cache() -> None:
    tenants.forget()


from tests.ledger.conftest import open_account  # noqa: E402,F401  (also for top-level tests)
