from __future__ import annotations

from tiffin.infra.http.errors import TiffinError


class UnknownTenant(TiffinError):
    status, type, title = 404, "unknown-tenant", "No brand is served here"


class TenantMismatch(TiffinError):
    status, type, title = 400, "tenant-mismatch", "The request names more than one brand"


class InvalidApiKey(TiffinError):
    status, type, title = 401, "invalid-api-key", "The API key is not valid"


class TenantSuspended(TiffinError):
    status, type, title = 403, "tenant-suspended", "This brand is suspended"


class TenantExists(TiffinError):
    status, type, title = 409, "tenant-exists", "A brand with this slug or domain exists"


class ApiKeyNotFound(TiffinError):
    status, type, title = 404, "api-key-not-found", "No such API key"
