from __future__ import annotations

from tiffin.infra.bus import DomainEvent


class FlagsChanged(DomainEvent):
    type = "flags.changed"
    key: str
    revision: int
