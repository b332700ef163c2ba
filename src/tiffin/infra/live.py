"""Live fan-out across api processes: a change published once (Redis Pub/Sub) reaches every
process, and each process hands it to its local listeners (SSE connections) of that tenant."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

import orjson
import structlog
from redis.asyncio import Redis

log = structlog.get_logger(__name__)

CHANNEL = "tiffin:live"
T = TypeVar("T")


async def publish(redis: Redis, tenant_id: uuid.UUID, kind: str) -> None:
    await redis.publish(CHANNEL, orjson.dumps({"tenant": str(tenant_id), "kind": kind}))


Invalidate = Callable[[uuid.UUID | None], None]


class Broadcaster:
    """Also the invalidation channel of per-process caches: a module registers a callback
    per kind; it runs for each change of that kind (tenant id), and for every kind with
    `None` whenever the subscription (re)starts, since messages may have been missed."""

    def __init__(self) -> None:
        self._listeners: dict[uuid.UUID, set[asyncio.Queue[str]]] = defaultdict(set)
        self._invalidators: dict[str, list[Invalidate]] = defaultdict(list)
        self.connected = False

    def on_change(self, kind: str, invalidate: Invalidate) -> None:
        if invalidate not in self._invalidators[kind]:
            self._invalidators[kind].append(invalidate)

    @contextlib.asynccontextmanager
    async def listen(self, tenant_id: uuid.UUID) -> AsyncIterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=100)
        self._listeners[tenant_id].add(queue)
        try:
            yield queue
        finally:
            self._listeners[tenant_id].discard(queue)
            if not self._listeners[tenant_id]:
                del self._listeners[tenant_id]

    def deliver(self, tenant_id: uuid.UUID, kind: str) -> None:
        for invalidate in self._invalidators.get(kind, ()):
            invalidate(tenant_id)
        for queue in list(self._listeners.get(tenant_id, ())):
            with contextlib.suppress(asyncio.QueueFull):  # a slow listener re-reads anyway
                queue.put_nowait(kind)

    async def run(self, redis: Redis, stop: asyncio.Event) -> None:
        """Relays the channel to local listeners until `stop`; reconnects on failure."""
        while not stop.is_set():
            pubsub = redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                for callbacks in self._invalidators.values():
                    for invalidate in callbacks:
                        invalidate(None)
                self.connected = True
                while not stop.is_set():
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is None:
                        continue
                    body = orjson.loads(message["data"])
                    self.deliver(uuid.UUID(body["tenant"]), body["kind"])
            except Exception:
                log.exception("live.relay_failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
            finally:
                self.connected = False
                await pubsub.aclose()  # type: ignore[no-untyped-call]


broadcaster = Broadcaster()


# Moves a revision counter forward only: after-commit callbacks of concurrent writers may
# run out of order, and a counter that went back would make readers reload forever.
_ADVANCE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('GET', KEYS[1])
"""


async def advance_revision(redis: Redis, key: str, revision: int) -> None:
    await redis.eval(_ADVANCE, 1, key, str(revision))


RECHECK_SECONDS = 30.0
LOST_COUNTER_GRACE_SECONDS = 1.0


class TenantCache(Generic[T]):
    """Per-tenant values (compiled flags, the live config) that a change must reach at once.

    A writer drops its own copy at commit and announces the change over `CHANNEL`; every
    process's `Broadcaster` drops theirs. So a read is a dict lookup while that channel is up;
    while it is down, and every 30 s regardless, the value's revision is checked in Redis and
    the value is reloaded when it moved.
    """

    def __init__(
        self, redis: Redis, key: Callable[[uuid.UUID], str], revision: Callable[[T], int]
    ) -> None:
        self.redis = redis
        self.key = key
        self.revision = revision
        self._entries: dict[uuid.UUID, tuple[T, float]] = {}

    async def get(self, tenant_id: uuid.UUID, load: Callable[[], Awaitable[T]]) -> T:
        cached = self._entries.get(tenant_id)
        if cached is not None:
            value, checked_at = cached
            if broadcaster.connected and time.monotonic() - checked_at < RECHECK_SECONDS:
                return value
            published = await self.redis.get(self.key(tenant_id))
            if published is not None and int(published) == self.revision(value):
                self._entries[tenant_id] = (value, time.monotonic())
                return value
            # Redis lost the counter (a restart): trust what we have for a second.
            if published is None and time.monotonic() - checked_at < LOST_COUNTER_GRACE_SECONDS:
                return value
        else:
            published = await self.redis.get(self.key(tenant_id))
        value = await load()
        if published is None:
            await advance_revision(self.redis, self.key(tenant_id), self.revision(value))
        self._entries[tenant_id] = (value, time.monotonic())
        return value

    def peek(self, tenant_id: uuid.UUID) -> T | None:
        """The last value without checking for a newer one (for synchronous callers)."""
        cached = self._entries.get(tenant_id)
        return cached[0] if cached else None

    def forget(self, tenant_id: uuid.UUID | None) -> None:
        if tenant_id is None:
            self._entries.clear()
        else:
            self._entries.pop(tenant_id, None)
