from __future__ import annotations

import uuid

from tiffin.infra.bus import DomainEvent


class AccountCreated(DomainEvent):
    type = "identity.account_created"
    account_id: uuid.UUID
    kind: str
