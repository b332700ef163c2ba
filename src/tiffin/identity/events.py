from __future__ import annotations

import uuid

from tiffin.infra.bus import DomainEvent


class AccountCreated(DomainEvent):
    type = "identity.account_created"
    account_id: uuid.UUID
    kind: str


class SecurityEventRecorded(DomainEvent):
    """Feeds alerting (a burst of `refresh_token_reuse` or `login_failed`)."""

    type = "identity.security_event_recorded"
    security_event_id: uuid.UUID
    kind: str
    account_id: uuid.UUID | None
