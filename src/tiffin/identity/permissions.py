"""Built-in roles and their permissions. Tenants add their own roles in the `roles` table.

A permission is `resource:action`; `*` grants every permission within the tenant.
"""

from __future__ import annotations

BUILT_IN_ROLES: dict[str, frozenset[str]] = {
    "customer": frozenset({"profile:read", "profile:write", "sessions:manage", "orders:own"}),
    "rider": frozenset({"profile:read", "profile:write", "sessions:manage", "assignments:own"}),
    "staff": frozenset({"profile:read", "sessions:manage", "restaurant:orders"}),
    "admin": frozenset({"*"}),
}

# The permissions an admin API checks (listed so roles can be validated against them).
KNOWN_PERMISSIONS = frozenset(
    {
        "profile:read",
        "profile:write",
        "sessions:manage",
        "orders:own",
        "orders:read_any",
        "assignments:own",
        "restaurant:orders",
        "accounts:read_any",
        "accounts:write",
        "roles:write",
        "audit:read",
        "api_keys:write",
        "plans:write",
        "identity_providers:write",
        "catalog:write",
        "config:write",
        "flags:write",
        "ledger:read",
        "ledger:write",
        "ledger:adjust",
    }
)


def permissions_of(roles: tuple[str, ...], custom: dict[str, frozenset[str]]) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= BUILT_IN_ROLES.get(role) or custom.get(role, frozenset())
    return frozenset(granted)
