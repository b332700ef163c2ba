"""Redis Streams transport: one stream per topic, consumer groups for delivery."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import orjson
import structlog
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from tiffin.infra.bus import Delivery, Envelope

log = structlog.get_logger(__name__)


def stream_key(topic: str) -> str:
    # The hash tag keeps one topic's stream on one Redis Cluster slot.
    return f"tiffin:events:{{{topic}}}"


def encode(envelope: Envelope) -> dict[str, bytes]:
    return {
        "id": envelope.id.bytes,
        "type": envelope.type.encode(),
        "tenant": envelope.tenant_id.bytes if envelope.tenant_id else b"",
        "aggregate": envelope.aggregate_id.encode(),
        "at": envelope.occurred_at.isoformat().encode(),
        "payload": orjson.dumps(envelope.payload),
    }


def decode(topic: str, fields: dict[bytes, bytes]) -> Envelope:
    tenant = fields[b"tenant"]
    return Envelope(
        id=uuid.UUID(bytes=fields[b"id"]),
        type=fields[b"type"].decode(),
        topic=topic,
        tenant_id=uuid.UUID(bytes=tenant) if tenant else None,
        aggregate_id=fields[b"aggregate"].decode(),
        occurred_at=datetime.fromisoformat(fields[b"at"].decode()),
        payload=orjson.loads(fields[b"payload"]),
    )


class RedisStreamsBus:
    def __init__(self, redis: Redis, *, maxlen: int = 1_000_000) -> None:
        self.redis = redis
        self.maxlen = maxlen

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for envelope in envelopes:
                pipe.xadd(
                    stream_key(envelope.topic),
                    encode(envelope),  # type: ignore[arg-type]
                    maxlen=self.maxlen,
                    approximate=True,
                )
            await pipe.execute()

    def subscribe(self, group: str, consumer: str, topics: Sequence[str]) -> RedisSubscription:
        return RedisSubscription(self.redis, group, consumer, topics)


class RedisSubscription:
    """At-least-once delivery through a consumer group.

    It first replays this consumer's own unacknowledged entries (left by a crash), then reads
    new ones; entries another consumer left pending longer than `claim_idle_ms` are claimed.
    """

    def __init__(
        self,
        redis: Redis,
        group: str,
        consumer: str,
        topics: Sequence[str],
        *,
        block_ms: int = 1000,
        count: int = 100,
        claim_idle_ms: int = 30_000,
    ) -> None:
        self.redis = redis
        self.group = group
        self.consumer = consumer
        self.topics = list(topics)
        self.block_ms = block_ms
        self.count = count
        self.claim_idle_ms = claim_idle_ms
        self._closed = False

    async def _ensure_groups(self) -> None:
        for topic in self.topics:
            try:
                # "0": a new group sees what the stream still holds, not only what comes next.
                await self.redis.xgroup_create(stream_key(topic), self.group, id="0", mkstream=True)
            except ResponseError as e:
                if "BUSYGROUP" not in str(e):
                    raise

    def _deliveries(self, topic: str, entries: list[Any]) -> list[Delivery]:
        return [
            Delivery(decode(topic, fields), (topic, entry_id))
            for entry_id, fields in entries
            if fields  # a trimmed entry comes back without fields
        ]

    async def _read(self, start: str) -> list[Delivery]:
        streams: dict[Any, Any] = {stream_key(t): start for t in self.topics}
        block = self.block_ms if start == ">" else None
        response: Any = await self.redis.xreadgroup(
            self.group, self.consumer, streams, count=self.count, block=block
        )
        out: list[Delivery] = []
        for key, entries in response or []:
            topic = key.decode().split("{", 1)[1].rstrip("}")
            out += self._deliveries(topic, entries)
        return out

    async def _claim(self) -> list[Delivery]:
        out: list[Delivery] = []
        for topic in self.topics:
            # Redis 6.2 answers [cursor, entries]; 7 adds the ids of deleted entries.
            response = await self.redis.xautoclaim(
                stream_key(topic),
                self.group,
                self.consumer,
                self.claim_idle_ms,
                count=self.count,
            )
            out += self._deliveries(topic, response[1])
        return out

    async def deliveries(self) -> AsyncIterator[Delivery]:
        await self._ensure_groups()
        for delivery in await self._read("0"):
            yield delivery
        while not self._closed:
            batch = await self._claim() or await self._read(">")
            for delivery in batch:
                yield delivery

    async def ack(self, delivery: Delivery) -> None:
        topic, entry_id = delivery.receipt
        await self.redis.xack(stream_key(topic), self.group, entry_id)

    async def close(self) -> None:
        self._closed = True
