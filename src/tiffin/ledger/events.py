from __future__ import annotations

import uuid

from tiffin.infra.bus import DomainEvent


class LedgerAdjusted(DomainEvent):
    type = "ledger.adjusted"
    transfer_id: uuid.UUID
    amount: int
    reason: str
