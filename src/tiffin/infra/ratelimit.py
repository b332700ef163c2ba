"""Sliding-window rate limits in Redis (one sorted set per key, trimmed atomically in Lua)."""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

from tiffin.infra.http.errors import TiffinError

# KEYS[1] the window; ARGV: now_ms, window_ms, limit, member. Returns {allowed, retry_after_ms}.
_SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
"""


class RateLimited(TiffinError):
    status, type, title = 429, "rate-limited", "Too many requests; retry later"

    def __init__(self, retry_after: float, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = max(1, math.ceil(retry_after))
        self.headers["Retry-After"] = str(self.retry_after)
        self.extra["retry_after"] = self.retry_after


@dataclass(frozen=True)
class Limit:
    """`count` events per `seconds`, e.g. Limit(10, 60)."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Limit:
        count, _, seconds = text.partition("/")
        return cls(int(count), float(seconds.rstrip("s") or 1))


class RateLimiter:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._script = redis.register_script(_SLIDING_WINDOW)

    async def hit(self, key: str, limit: Limit) -> float:
        """Counts one event; returns 0 when allowed, else the seconds until one is."""
        now_ms = int(time.time() * 1000)
        allowed, retry_ms = await self._script(
            keys=[f"tiffin:rl:{key}"],
            args=[now_ms, int(limit.seconds * 1000), limit.count, uuid.uuid4().hex],
        )
        return 0.0 if int(allowed) else int(retry_ms) / 1000

    async def check(self, limit: Limit, *keys: str) -> None:
        """Counts one event against every key; raises RateLimited if any is over."""
        waits = [await self.hit(key, limit) for key in keys]
        if worst := max(waits, default=0.0):
            raise RateLimited(worst)
