"""Events leave only after commit, survive a relay crash, and take effect once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.tenants import Brand
from tiffin.infra.bus import DomainEvent, Envelope, EventBus
from tiffin.infra.bus.consumer import Consumer
from tiffin.infra.bus.outbox import OutboxRelay, OutboxRow, append
from tiffin.infra.bus.redis_streams import RedisStreamsBus, stream_key
from tiffin.infra.db import tenant_transaction
from tiffin.infra.resources import Resources


class ThingHappened(DomainEvent):
    type = "testing.thing_happened"
    thing_id: uuid.UUID


async def _published_ids(resources: Resources, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """Event ids of `tenant_id` found in the Redis stream, in stream order (with repeats)."""
    entries = await resources.redis.xrange(stream_key("testing"))
    ids = []
    for _, fields in entries:
        if fields[b"tenant"] == tenant_id.bytes:
            ids.append(uuid.UUID(bytes=fields[b"id"]))
    return ids


async def _emit(resources: Resources, brand: Brand, n: int = 1) -> list[uuid.UUID]:
    async with tenant_transaction(resources.sessionmaker, brand.id) as session:
        return [
            await append(
                session,
                ThingHappened(thing_id=uuid.uuid4()),
                tenant_id=brand.id,
                aggregate_id=f"thing-{i}",
            )
            for i in range(n)
        ]


class FlakyBus:
    """The real Redis bus, but the process 'dies' after `survive` messages of a batch."""

    def __init__(self, inner: EventBus, survive: int) -> None:
        self.inner = inner
        self.survive = survive

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.inner.publish(envelopes[: self.survive])
        raise ConnectionError("relay killed mid-batch")

    def subscribe(self, group: str, consumer: str, topics: Sequence[str]):  # type: ignore[no-untyped-def]
        return self.inner.subscribe(group, consumer, topics)


@pytest.fixture
def relay(resources: Resources) -> OutboxRelay:
    return OutboxRelay(resources.sessionmaker, resources.bus, batch_size=1000)


class TestPublishedOnlyAfterCommit:
    async def test_an_uncommitted_event_is_not_published(
        self, resources: Resources, brand: Brand, relay: OutboxRelay
    ) -> None:
        async with resources.sessionmaker() as session, session.begin():
            await session.execute(
                text("SELECT set_config('tiffin.tenant_id', :t, true)"), {"t": str(brand.id)}
            )
            event_id = await append(
                session, ThingHappened(thing_id=uuid.uuid4()), tenant_id=brand.id, aggregate_id="t"
            )
            await relay.drain()  # another connection: it cannot see the open transaction
            assert event_id not in await _published_ids(resources, brand.id)
        await relay.drain()
        assert await _published_ids(resources, brand.id) == [event_id]

    async def test_a_rolled_back_event_is_never_published(
        self, resources: Resources, brand: Brand, relay: OutboxRelay
    ) -> None:
        with pytest.raises(RuntimeError):
            async with tenant_transaction(resources.sessionmaker, brand.id) as session:
                await append(
                    session,
                    ThingHappened(thing_id=uuid.uuid4()),
                    tenant_id=brand.id,
                    aggregate_id="t",
                )
                raise RuntimeError("the state change failed")
        await relay.drain()
        assert await _published_ids(resources, brand.id) == []

    async def test_the_running_relay_is_woken_by_the_commit(
        self, resources: Resources, brand: Brand
    ) -> None:
        # A poll interval far longer than the deadline: only the NOTIFY can wake it in time.
        relay = OutboxRelay(resources.sessionmaker, resources.bus, poll_seconds=60)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            await asyncio.sleep(0)  # let it LISTEN before the commit
            await _until(lambda: _listening(resources))
            [event_id] = await _emit(resources, brand)
            await _until(lambda: _contains(resources, brand.id, event_id))
        finally:
            stop.set()
            await task


class TestRelayCrash:
    async def test_a_relay_killed_mid_batch_resumes_without_loss(
        self, resources: Resources, brand: Brand
    ) -> None:
        emitted = await _emit(resources, brand, n=10)
        crashing = OutboxRelay(
            resources.sessionmaker, FlakyBus(resources.bus, survive=4), batch_size=1000
        )
        with pytest.raises(ConnectionError):
            await crashing.drain()
        # The batch stayed unmarked: the next relay publishes all of it again.
        async with tenant_transaction(resources.sessionmaker, None) as session:
            unpublished = (
                await session.scalars(
                    select(OutboxRow.event_id).where(
                        OutboxRow.tenant_id == brand.id,
                        OutboxRow.topic == "testing",
                        OutboxRow.published_at.is_(None),
                    )
                )
            ).all()
        assert set(unpublished) == set(emitted)
        await OutboxRelay(resources.sessionmaker, resources.bus, batch_size=1000).drain()
        published = await _published_ids(resources, brand.id)
        assert set(published) == set(emitted)
        assert published[-len(emitted) :] == emitted  # after the survivors, the batch in order


class TestConsumersTakeEffectOnce:
    async def test_a_duplicated_delivery_is_handled_once(
        self, resources: Resources, brand: Brand, relay: OutboxRelay
    ) -> None:
        seen: list[uuid.UUID] = []

        async def count(session: AsyncSession, envelope: Envelope) -> None:
            seen.append(envelope.id)

        consumer = Consumer(
            f"test-{uuid.uuid4().hex[:8]}", ["testing"], count, sessionmaker=resources.sessionmaker
        )
        [event_id] = await _emit(resources, brand)
        await relay.drain()
        # The same event reaches the stream twice (a relay that crashed after publishing).
        async with tenant_transaction(resources.sessionmaker, None) as session:
            row = (
                await session.scalars(select(OutboxRow).where(OutboxRow.event_id == event_id))
            ).one()
        await resources.bus.publish([row.envelope()])

        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(resources.bus, stop, instance="one"))
        try:
            await _until(lambda: _caught_up(resources, consumer.name))
        finally:
            stop.set()
            await task
        assert seen.count(event_id) == 1

    async def test_a_failed_handler_rolls_back_its_mark_so_the_retry_runs(
        self, resources: Resources, brand: Brand
    ) -> None:
        attempts = 0

        async def flaky(session: AsyncSession, envelope: Envelope) -> None:
            nonlocal attempts
            attempts += 1
            if attempts == 1:
                raise RuntimeError("downstream hiccup")

        consumer = Consumer("flaky", ["testing"], flaky, sessionmaker=resources.sessionmaker)
        [event_id] = await _emit(resources, brand)
        async with tenant_transaction(resources.sessionmaker, None) as session:
            row = (
                await session.scalars(select(OutboxRow).where(OutboxRow.event_id == event_id))
            ).one()
        with pytest.raises(RuntimeError):
            await consumer.handle(row.envelope())
        assert await consumer.handle(row.envelope()) is True
        assert await consumer.handle(row.envelope()) is False
        assert attempts == 2

    async def test_the_handler_runs_in_the_events_tenant(
        self, resources: Resources, brand: Brand
    ) -> None:
        tenants_seen: list[str] = []

        async def who(session: AsyncSession, envelope: Envelope) -> None:
            tenants_seen.append(
                (await session.execute(text("SELECT current_setting('tiffin.tenant_id')"))).scalar()
            )

        consumer = Consumer("who", ["testing"], who, sessionmaker=resources.sessionmaker)
        [event_id] = await _emit(resources, brand)
        async with tenant_transaction(resources.sessionmaker, None) as session:
            row = (
                await session.scalars(select(OutboxRow).where(OutboxRow.event_id == event_id))
            ).one()
        await consumer.handle(row.envelope())
        assert tenants_seen == [str(brand.id)]


async def _until(check, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def _listening(resources: Resources) -> bool:
    async with resources.engine.connect() as conn:
        return bool(
            (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN \"tiffin_outbox\";'"
                        " OR query LIKE 'LISTEN%tiffin_outbox%'"
                    )
                )
            ).scalar()
        )


async def _contains(resources: Resources, tenant_id: uuid.UUID, event_id: uuid.UUID) -> bool:
    return event_id in await _published_ids(resources, tenant_id)


async def _caught_up(resources: Resources, group: str) -> bool:
    """The group has read to the end of the stream and acknowledged everything."""
    [(last_id, _)] = await resources.redis.xrevrange(stream_key("testing"), count=1)
    for g in await resources.redis.xinfo_groups(stream_key("testing")):
        if g["name"].decode() == group:
            return bool(g["pending"] == 0 and g["last-delivered-id"] == last_id)
    return False


__all__ = ["RedisStreamsBus"]
