"""The transactional outbox and its relay.

Services call `append()` inside their transaction; the event exists only if that transaction
commits. The relay reads committed rows in order, publishes them, and marks them published in
the same transaction as the read, so a relay that dies mid-batch leaves the rows unmarked and the
next one publishes them again (at-least-once; consumers deduplicate by event id).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta
from typing import Any

import orjson
import structlog
from sqlalchemy import BigInteger, Identity, Index, String, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from tiffin.infra.bus import DomainEvent, Envelope, EventBus
from tiffin.infra.clock import clock
from tiffin.infra.db import Base
from tiffin.infra.ids import new_id

log = structlog.get_logger(__name__)

NOTIFY_CHANNEL = "tiffin_outbox"


class OutboxRow(Base):
    """Infrastructure table (not tenant-isolated by RLS): only this module reads it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_unpublished", "position", postgresql_where=text("published_at IS NULL")),
    )

    position: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    tenant_id: Mapped[uuid.UUID | None]
    topic: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(128))
    aggregate_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    occurred_at: Mapped[datetime]
    published_at: Mapped[datetime | None]

    def envelope(self) -> Envelope:
        return Envelope(
            id=self.event_id,
            type=self.type,
            topic=self.topic,
            tenant_id=self.tenant_id,
            aggregate_id=self.aggregate_id,
            occurred_at=self.occurred_at,
            payload=self.payload,
        )


async def append(
    session: AsyncSession,
    event: DomainEvent,
    *,
    tenant_id: uuid.UUID | None,
    aggregate_id: str | uuid.UUID,
) -> uuid.UUID:
    """Records `event` in the caller's transaction; returns the event id."""
    event_id = new_id()
    session.add(
        OutboxRow(
            event_id=event_id,
            tenant_id=tenant_id,
            topic=event.topic,
            type=event.type,
            aggregate_id=str(aggregate_id),
            payload=orjson.loads(event.model_dump_json()),
            occurred_at=clock.now(),
        )
    )
    await session.flush()
    return event_id


class OutboxRelay:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        *,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds

    async def publish_batch(self) -> int:
        """Publishes up to one batch of committed events; returns how many."""
        async with self.sessionmaker() as session, session.begin():
            rows = (
                await session.scalars(
                    select(OutboxRow)
                    .where(OutboxRow.published_at.is_(None))
                    .order_by(OutboxRow.position)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            await self.bus.publish([row.envelope() for row in rows])
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.position.in_([row.position for row in rows]))
                .values(published_at=func.now())
            )
        return len(rows)

    async def drain(self) -> int:
        total = 0
        while n := await self.publish_batch():
            total += n
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Publishes until `stop` is set, woken by NOTIFY (sent on commit) or by the poll."""
        wake = asyncio.Event()
        engine: AsyncEngine = self.sessionmaker.kw["bind"]
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None

            def listener(*_: object) -> None:
                wake.set()

            await driver.add_listener(NOTIFY_CHANNEL, listener)
            log.info("relay.started")
            while not stop.is_set():
                wake.clear()
                try:
                    if await self.publish_batch() >= self.batch_size:
                        continue
                except Exception:
                    log.exception("relay.publish_failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(wake, stop), self.poll_seconds)
            await driver.remove_listener(NOTIFY_CHANNEL, listener)
        log.info("relay.stopped")

    async def prune(self, older_than: timedelta) -> int:
        """Deletes published rows past retention."""
        async with self.sessionmaker() as session, session.begin():
            result = await session.execute(
                delete(OutboxRow).where(
                    OutboxRow.published_at.is_not(None),
                    OutboxRow.published_at < clock.now() - older_than,
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
