from __future__ import annotations

import uuid

from tiffin.infra.bus import DomainEvent


class TenantCreated(DomainEvent):
    type = "tenancy.tenant_created"
    tenant_id: uuid.UUID
    slug: str
