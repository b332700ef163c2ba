"""Row-level security is the tenant boundary: a query that forgets its filter is still safe."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.fixtures.tenants import Brand
from tiffin.catalog.schemas import RestaurantCreate
from tiffin.catalog.service import catalog
from tiffin.infra.db import (
    InsufficientRLSRole,
    assert_rls_enforced,
    create_engine,
    tenant_transaction,
)
from tiffin.infra.resources import Resources
from tiffin.settings import Settings

# Tables every tenant reads before it is known, or that only infrastructure code touches.
PLATFORM_TABLES = {
    "tenants",
    "tenant_domains",
    "tenant_api_keys",
    "outbox",
    "processed_events",
    "alembic_version",
    "signing_keys",
}


async def _restaurant(resources: Resources, brand: Brand, slug: str) -> None:
    async with tenant_transaction(resources.sessionmaker, brand.id) as session:
        await catalog.create_restaurant(
            session,
            brand.id,
            data=RestaurantCreate(
                slug=slug, name=slug, address="1 Main St", latitude=12.9, longitude=77.6
            ),
        )


class TestRawQueriesSeeOnlyTheirTenant:
    async def test_select_star_returns_only_the_current_tenants_rows(
        self, resources: Resources, brand: Brand, other_brand: Brand
    ) -> None:
        await _restaurant(resources, brand, "mine")
        await _restaurant(resources, other_brand, "theirs")
        async with tenant_transaction(resources.sessionmaker, brand.id) as session:
            rows = (await session.execute(text("SELECT * FROM restaurants"))).mappings().all()
        assert [r["slug"] for r in rows] == ["mine"]
        assert {r["tenant_id"] for r in rows} == {brand.id}

    async def test_insert_with_another_tenants_id_is_refused(
        self, resources: Resources, brand: Brand, other_brand: Brand
    ) -> None:
        with pytest.raises(DBAPIError, match="row-level security"):
            async with tenant_transaction(resources.sessionmaker, brand.id) as session:
                await session.execute(
                    text(
                        "INSERT INTO restaurants (tenant_id, id, slug, name, address, latitude, "
                        "longitude, prep_minutes) VALUES (:t, :i, 'x', 'x', 'x', 0, 0, 1)"
                    ),
                    {"t": other_brand.id, "i": uuid.uuid4()},
                )

    async def test_update_cannot_move_a_row_to_another_tenant(
        self, resources: Resources, brand: Brand, other_brand: Brand
    ) -> None:
        await _restaurant(resources, brand, "mover")
        with pytest.raises(DBAPIError, match="row-level security"):
            async with tenant_transaction(resources.sessionmaker, brand.id) as session:
                await session.execute(
                    text("UPDATE restaurants SET tenant_id = :t"), {"t": other_brand.id}
                )

    async def test_no_tenant_context_sees_nothing(self, resources: Resources, brand: Brand) -> None:
        await _restaurant(resources, brand, "hidden")
        async with tenant_transaction(resources.sessionmaker, None) as session:
            assert (await session.execute(text("SELECT count(*) FROM restaurants"))).scalar() == 0
        async with resources.sessionmaker() as session:  # no SET LOCAL at all
            assert (await session.execute(text("SELECT count(*) FROM menu_items"))).scalar() == 0

    async def test_the_tenant_setting_does_not_outlive_its_transaction(
        self, resources: Resources, brand: Brand
    ) -> None:
        await _restaurant(resources, brand, "scoped")
        async with resources.sessionmaker() as session:
            async with session.begin():
                await session.execute(
                    text("SELECT set_config('tiffin.tenant_id', :t, true)"), {"t": str(brand.id)}
                )
                assert (await session.execute(text("SELECT count(*) FROM restaurants"))).scalar()
            async with session.begin():
                assert (
                    await session.execute(text("SELECT count(*) FROM restaurants"))
                ).scalar() == 0


class TestSchemaIsShapedForTenantIsolation:
    async def test_the_runtime_role_cannot_bypass_row_level_security(
        self, resources: Resources
    ) -> None:
        async with resources.engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
                )
            ).one()
        assert (row.rolsuper, row.rolbypassrls) == (False, False)

    async def test_every_tenant_table_is_forced_under_rls_and_keyed_by_tenant(
        self, resources: Resources
    ) -> None:
        async with resources.engine.connect() as conn:
            tables = (
                await conn.execute(
                    text(
                        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity "
                        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = 'public' AND c.relkind = 'r'"
                    )
                )
            ).all()
            constraints = (
                await conn.execute(
                    text(
                        "SELECT cl.relname, con.contype, con.conname, "
                        "  ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, pos) "
                        "        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num "
                        "        ORDER BY k.pos)::text[]"
                        "  AS columns "
                        "FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid "
                        "JOIN pg_namespace n ON n.oid = cl.relnamespace "
                        "WHERE n.nspname = 'public' AND con.contype IN ('p', 'u', 'f')"
                    )
                )
            ).all()
            policies = {
                r[0]
                for r in (
                    await conn.execute(
                        text("SELECT tablename FROM pg_policies WHERE schemaname = 'public'")
                    )
                ).all()
            }
        tenant_tables = {t.relname for t in tables} - PLATFORM_TABLES
        assert tenant_tables >= {"restaurants", "menu_items", "accounts", "idempotency_keys"}
        for t in tables:
            if t.relname in tenant_tables:
                assert t.relrowsecurity and t.relforcerowsecurity, t.relname
                assert t.relname in policies, t.relname
        for c in constraints:
            if c.relname in tenant_tables:
                assert c.columns[0] == "tenant_id", (c.relname, c.conname, c.columns)


async def test_a_role_that_bypasses_rls_is_refused_at_startup(settings: Settings) -> None:
    assert settings.database_admin_url  # the owner: a superuser on the embedded server
    engine = create_engine(settings.database_admin_url)
    try:
        with pytest.raises(InsufficientRLSRole, match="bypasses row-level security"):
            await assert_rls_enforced(engine)
    finally:
        await engine.dispose()
