"""Domain events: written to the outbox with the state change, published after commit.

`EventBus` is the transport seam: Redis Streams today (`RedisStreamsBus`); a Kafka transport
implements the same two methods.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    """A past-tense fact (`RestaurantCreated`). `type` is stable: consumers match on it."""

    model_config = ConfigDict(frozen=True)
    type: ClassVar[str]

    @property
    def topic(self) -> str:
        return self.type.split(".", 1)[0]


@dataclass(frozen=True)
class Envelope:
    """An event as it travels: identity, tenant and routing around the payload."""

    id: uuid.UUID
    type: str
    topic: str
    tenant_id: uuid.UUID | None
    aggregate_id: str
    occurred_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    envelope: Envelope
    # Transport handle used to acknowledge (a stream entry id, a Kafka offset...).
    receipt: Any = field(compare=False)


class EventBus(Protocol):
    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Durably appends every envelope or raises; partial success is allowed (the relay
        retries the whole batch and consumers drop what they have seen)."""

    def subscribe(self, group: str, consumer: str, topics: Sequence[str]) -> Subscription: ...


class Subscription(Protocol):
    def deliveries(self) -> AsyncIterator[Delivery]: ...

    async def ack(self, delivery: Delivery) -> None: ...

    async def close(self) -> None: ...
