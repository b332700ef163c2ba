"""Idempotent consumers: a redelivered event takes effect once.

The handler runs in the event's tenant transaction together with the insert of
(consumer, event id) into `processed_events`; a duplicate finds the row and is skipped, and a
handler that fails rolls both back so the event is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import structlog
from sqlalchemy import String, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from tiffin.infra.bus import Envelope, EventBus
from tiffin.infra.db import Base, tenant_transaction

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


class ProcessedEvent(Base):
    """Infrastructure table: which consumer has handled which event."""

    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(String(128), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID | None]
    handled_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Consumer:
    def __init__(
        self,
        name: str,
        topics: Sequence[str],
        handler: Handler,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        types: Sequence[str] | None = None,
    ) -> None:
        self.name = name
        self.topics = list(topics)
        self.handler = handler
        self.sessionmaker = sessionmaker
        self.types = set(types) if types else None

    async def handle(self, envelope: Envelope) -> bool:
        """Runs the handler once per event id; returns False for a duplicate."""
        if self.types is not None and envelope.type not in self.types:
            return False
        async with tenant_transaction(self.sessionmaker, envelope.tenant_id) as session:
            first = await session.scalar(
                insert(ProcessedEvent)
                .values(consumer=self.name, event_id=envelope.id, tenant_id=envelope.tenant_id)
                .on_conflict_do_nothing()
                .returning(ProcessedEvent.event_id)
            )
            if first is None:
                return False
            await self.handler(session, envelope)
        return True

    async def run(
        self, bus: EventBus, stop: asyncio.Event, *, instance: str, retry_seconds: float = 1.0
    ) -> None:
        """Consumes until `stop` is set; a transport failure is logged and retried."""
        while not stop.is_set():
            try:
                await self._consume(bus, stop, instance)
            except Exception:
                log.exception("consumer.transport_failed", consumer=self.name)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), retry_seconds)

    async def _consume(self, bus: EventBus, stop: asyncio.Event, instance: str) -> None:
        subscription = bus.subscribe(self.name, instance, self.topics)
        stopper = asyncio.create_task(stop.wait())
        iterator = subscription.deliveries().__aiter__()
        try:
            while not stop.is_set():
                step = asyncio.ensure_future(anext(iterator))
                done, _ = await asyncio.wait({step, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if step not in done:
                    step.cancel()
                    break
                delivery = step.result()
                try:
                    await self.handle(delivery.envelope)
                except Exception:
                    # Left unacknowledged: it is claimed again after the idle timeout.
                    log.exception(
                        "consumer.failed", consumer=self.name, event_id=str(delivery.envelope.id)
                    )
                    continue
                await subscription.ack(delivery)
        finally:
            stopper.cancel()
            await subscription.close()
