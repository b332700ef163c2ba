"""DDL that Alembic's autogenerate does not write: tenant isolation by row-level security."""

from __future__ import annotations

from alembic import op

CURRENT_TENANT_FUNCTION = """
CREATE OR REPLACE FUNCTION tiffin_current_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT NULLIF(current_setting('tiffin.tenant_id', true), '')::uuid $$
"""


def isolate_by_tenant(table: str) -> None:
    """Rows of `table` are visible and writable only inside their tenant's transaction.
    FORCE makes the policy bind the table's owner as well."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        "USING (tenant_id = tiffin_current_tenant()) "
        "WITH CHECK (tenant_id = tiffin_current_tenant())"
    )


def drop_isolation(table: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
