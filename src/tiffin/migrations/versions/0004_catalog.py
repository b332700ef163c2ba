"""catalog: brand menus, outlet hours and overrides

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 15:20:51.949098

Menus become the brand's (menus → categories → items → variants, modifier groups → options →
nested groups), outlets get a timezone, weekly hours, special days and an accepting-orders
switch, and override an item's price, stock and visibility per outlet.

The per-restaurant `menu_items` of the first cut move into the new model: per brand one
all-day menu "Menu" with one category "All items"; one item per distinct (name, currency),
which keeps the id, price and description of its earliest row; an outlet whose price or stock
differed gets an override, and an outlet that did not sell the item hides it. (Two rows of
the same name in one restaurant collapse into the earliest.)

The data steps run as the owner, who is bound by FORCE ROW LEVEL SECURITY: the tables they
read are unforced for the duration and forced again at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tiffin.migrations.helpers import drop_isolation, isolate_by_tenant

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TABLES = (
    "menus",
    "menu_categories",
    "menu_items",
    "item_variants",
    "modifier_groups",
    "modifier_options",
    "outlet_items",
    "outlet_variants",
    "restaurant_special_days",
    "catalog_revisions",
)

ALWAYS_OPEN = (
    """'{"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]], "wed": [["00:00", "24:00"]], """
    """"thu": [["00:00", "24:00"]], "fri": [["00:00", "24:00"]], "sat": [["00:00", "24:00"]], """
    """"sun": [["00:00", "24:00"]]}'::jsonb"""
)
ALL_DAYS = """'{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "hours": []}'::jsonb"""


def _keys() -> list[sa.Column[Any]]:
    return [
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    ]


def _fk(table: str, column: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column],
        [f"{referred}.tenant_id", f"{referred}.id"],
        name=op.f(f"fk_{table}_tenant_id_{column}_{referred}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.execute("ALTER TABLE menu_items NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE restaurants NO FORCE ROW LEVEL SECURITY")
    op.execute("CREATE TEMP TABLE legacy_rows ON COMMIT DROP AS SELECT * FROM menu_items")
    drop_isolation("menu_items")
    op.drop_index("ix_menu_items_restaurant", table_name="menu_items")
    op.drop_table("menu_items")

    op.add_column(
        "restaurants",
        sa.Column("timezone", sa.String(length=64), server_default="Asia/Kolkata", nullable=False),
    )
    op.add_column(
        "restaurants",
        sa.Column(
            "opening_hours",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text(ALWAYS_OPEN),
            nullable=False,
        ),
    )
    op.add_column(
        "restaurants",
        sa.Column("accepting_orders", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    _create_tables()
    _move_legacy_items()
    for table in NEW_TABLES:
        isolate_by_tenant(table)
    op.execute("ALTER TABLE restaurants FORCE ROW LEVEL SECURITY")


def _create_tables() -> None:
    op.create_table(
        "catalog_revisions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_catalog_revisions")),
    )
    op.create_table(
        "restaurant_special_days",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        _fk("restaurant_special_days", "restaurant_id", "restaurants"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "restaurant_id", "day", name=op.f("pk_restaurant_special_days")
        ),
    )
    op.create_table(
        "menus",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "schedule",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text(ALL_DAYS),
            nullable=False,
        ),
        *_keys(),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_menus")),
    )
    op.create_table(
        "menu_categories",
        sa.Column("menu_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_keys(),
        _fk("menu_categories", "menu_id", "menus"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_menu_categories")),
    )
    op.create_index(
        "ix_menu_categories_menu", "menu_categories", ["tenant_id", "menu_id"], unique=False
    )
    op.create_table(
        "menu_items",
        sa.Column("category_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("image_urls", sa.ARRAY(sa.String(length=2048)), nullable=False),
        sa.Column("dietary_tags", sa.ARRAY(sa.String(length=16)), nullable=False),
        sa.Column("allergens", sa.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("tax_class", sa.String(length=32), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_keys(),
        _fk("menu_items", "category_id", "menu_categories"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_menu_items")),
    )
    op.create_index("ix_menu_items_category", "menu_items", ["tenant_id", "category_id"])
    op.create_table(
        "item_variants",
        sa.Column("item_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_keys(),
        _fk("item_variants", "item_id", "menu_items"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_item_variants")),
    )
    op.create_index("ix_item_variants_item", "item_variants", ["tenant_id", "item_id"])
    op.create_table(
        "modifier_groups",
        sa.Column("item_id", sa.UUID(), nullable=True),
        sa.Column("parent_option_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("min_select", sa.Integer(), nullable=False),
        sa.Column("max_select", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_keys(),
        sa.CheckConstraint(
            "(item_id IS NULL) <> (parent_option_id IS NULL)",
            name=op.f("ck_modifier_groups_one_parent"),
        ),
        sa.CheckConstraint(
            "min_select <= max_select", name=op.f("ck_modifier_groups_min_not_above_max")
        ),
        sa.CheckConstraint(
            "min_select >= 0 AND max_select >= 1",
            name=op.f("ck_modifier_groups_selection_bounds"),
        ),
        _fk("modifier_groups", "item_id", "menu_items"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_modifier_groups")),
    )
    op.create_index("ix_modifier_groups_item", "modifier_groups", ["tenant_id", "item_id"])
    op.create_index(
        "ix_modifier_groups_parent_option", "modifier_groups", ["tenant_id", "parent_option_id"]
    )
    op.create_table(
        "modifier_options",
        sa.Column("group_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_keys(),
        _fk("modifier_options", "group_id", "modifier_groups"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_modifier_options")),
    )
    op.create_index("ix_modifier_options_group", "modifier_options", ["tenant_id", "group_id"])
    # Groups and options refer to each other: this key comes once both tables exist.
    op.create_foreign_key(
        op.f("fk_modifier_groups_tenant_id_parent_option_id_modifier_options"),
        "modifier_groups",
        "modifier_options",
        ["tenant_id", "parent_option_id"],
        ["tenant_id", "id"],
        ondelete="CASCADE",
    )
    op.create_table(
        "outlet_items",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("item_id", sa.UUID(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=True),
        sa.Column("in_stock", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        _fk("outlet_items", "item_id", "menu_items"),
        _fk("outlet_items", "restaurant_id", "restaurants"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "restaurant_id", "item_id", name=op.f("pk_outlet_items")
        ),
    )
    op.create_index("ix_outlet_items_item", "outlet_items", ["tenant_id", "item_id"])
    op.create_table(
        "outlet_variants",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("variant_id", sa.UUID(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        _fk("outlet_variants", "restaurant_id", "restaurants"),
        _fk("outlet_variants", "variant_id", "item_variants"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "restaurant_id", "variant_id", name=op.f("pk_outlet_variants")
        ),
    )
    op.create_index("ix_outlet_variants_variant", "outlet_variants", ["tenant_id", "variant_id"])


def _move_legacy_items() -> None:
    op.execute(
        """
        CREATE TEMP TABLE legacy_items ON COMMIT DROP AS
        SELECT DISTINCT ON (tenant_id, name, currency)
               tenant_id, id, name, description, price_minor, currency, veg
        FROM legacy_rows
        ORDER BY tenant_id, name, currency, created_at, id
        """
    )
    op.execute(
        """
        CREATE TEMP TABLE legacy_brands ON COMMIT DROP AS
        SELECT tenant_id, gen_random_uuid() AS menu_id, gen_random_uuid() AS category_id
        FROM (SELECT DISTINCT tenant_id FROM legacy_rows) AS brands
        """
    )
    op.execute(
        """
        INSERT INTO menus (tenant_id, id, name, description, position)
        SELECT tenant_id, menu_id, 'Menu', '', 0 FROM legacy_brands
        """
    )
    op.execute(
        """
        INSERT INTO menu_categories (tenant_id, id, menu_id, name, description, position)
        SELECT tenant_id, category_id, menu_id, 'All items', '', 0 FROM legacy_brands
        """
    )
    op.execute(
        """
        INSERT INTO menu_items (tenant_id, id, category_id, name, description, image_urls,
                                dietary_tags, allergens, tax_class, price_minor, currency,
                                position)
        SELECT i.tenant_id, i.id, b.category_id, i.name, i.description, '{}',
               CASE WHEN i.veg THEN '{veg}'::varchar[] ELSE '{}'::varchar[] END, '{}',
               'gst_5', i.price_minor, i.currency,
               row_number() OVER (PARTITION BY i.tenant_id ORDER BY i.name, i.currency) - 1
        FROM legacy_items i JOIN legacy_brands b USING (tenant_id)
        """
    )
    op.execute(
        """
        INSERT INTO outlet_items (tenant_id, restaurant_id, item_id, price_minor, in_stock, hidden)
        SELECT r.tenant_id, r.id, i.id,
               CASE WHEN l.price_minor <> i.price_minor THEN l.price_minor END,
               COALESCE(l.in_stock, true),
               l.id IS NULL
        FROM restaurants r
        JOIN legacy_items i ON i.tenant_id = r.tenant_id
        LEFT JOIN LATERAL (
            SELECT * FROM legacy_rows l
            WHERE l.tenant_id = r.tenant_id AND l.restaurant_id = r.id
              AND l.name = i.name AND l.currency = i.currency
            ORDER BY l.created_at, l.id LIMIT 1
        ) l ON true
        WHERE l.id IS NULL OR l.price_minor <> i.price_minor OR NOT l.in_stock
        """
    )
    op.execute("DROP TABLE legacy_items, legacy_brands, legacy_rows")


def downgrade() -> None:
    """Back to per-restaurant items: every item an outlet shows, at its price there, with
    its stock there (menus, variants and modifiers are lost; ids are new)."""
    for table in (*NEW_TABLES, "restaurants"):
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(
        """
        CREATE TEMP TABLE legacy_rows ON COMMIT DROP AS
        SELECT i.tenant_id, gen_random_uuid() AS id, r.id AS restaurant_id, i.name,
               i.description, COALESCE(o.price_minor, i.price_minor) AS price_minor,
               i.currency, 'veg' = ANY(i.dietary_tags) AS veg,
               COALESCE(o.in_stock, true) AS in_stock
        FROM menu_items i
        JOIN restaurants r ON r.tenant_id = i.tenant_id
        LEFT JOIN outlet_items o
               ON o.tenant_id = i.tenant_id AND o.restaurant_id = r.id AND o.item_id = i.id
        WHERE NOT COALESCE(o.hidden, false)
        """
    )
    for table in NEW_TABLES:
        drop_isolation(table)
    op.drop_constraint(
        op.f("fk_modifier_groups_tenant_id_parent_option_id_modifier_options"),
        "modifier_groups",
        type_="foreignkey",
    )
    for table in (
        "outlet_variants",
        "outlet_items",
        "modifier_options",
        "modifier_groups",
        "item_variants",
        "menu_items",
        "menu_categories",
        "menus",
        "restaurant_special_days",
        "catalog_revisions",
    ):
        op.drop_table(table)
    op.drop_column("restaurants", "accepting_orders")
    op.drop_column("restaurants", "opening_hours")
    op.drop_column("restaurants", "timezone")
    op.create_table(
        "menu_items",
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("veg", sa.Boolean(), nullable=False),
        sa.Column("in_stock", sa.Boolean(), nullable=False),
        *_keys(),
        _fk("menu_items", "restaurant_id", "restaurants"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_menu_items")),
    )
    op.create_index(
        "ix_menu_items_restaurant", "menu_items", ["tenant_id", "restaurant_id"], unique=False
    )
    op.execute(
        """
        INSERT INTO menu_items (tenant_id, id, restaurant_id, name, description, price_minor,
                                currency, veg, in_stock)
        SELECT tenant_id, id, restaurant_id, name, description, price_minor, currency, veg,
               in_stock
        FROM legacy_rows
        """
    )
    op.execute("DROP TABLE legacy_rows")
    isolate_by_tenant("menu_items")
    op.execute("ALTER TABLE restaurants FORCE ROW LEVEL SECURITY")
