from __future__ import annotations

from tiffin.infra.bus import DomainEvent


class ConfigPublished(DomainEvent):
    type = "config.published"
    version: int
    rollback: bool
