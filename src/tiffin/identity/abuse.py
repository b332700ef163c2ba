"""Lockout after repeated failures, with exponential backoff, keyed by what the caller typed
(so an unknown account locks exactly like a real one and reveals nothing)."""

from __future__ import annotations

import hashlib
import time
import uuid

from redis.asyncio import Redis

# KEYS[1] the lockout; ARGV: now, threshold, base, max. Counts a failure; returns locked_until.
_FAIL = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local locked_until = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if failures >= tonumber(ARGV[2]) then
  local level = redis.call('HINCRBY', KEYS[1], 'level', 1)
  local wait = math.min(tonumber(ARGV[3]) * 2 ^ (level - 1), tonumber(ARGV[4]))
  locked_until = tonumber(ARGV[1]) + wait
  redis.call('HSET', KEYS[1], 'failures', 0, 'until', locked_until)
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]) * 4)
return tostring(locked_until)
"""


class Lockout:
    def __init__(self, redis: Redis, *, threshold: int, base_seconds: int, max_seconds: int):
        self.redis = redis
        self.threshold = threshold
        self.base = base_seconds
        self.max = max_seconds
        self._fail = redis.register_script(_FAIL)

    @staticmethod
    def _key(tenant_id: uuid.UUID, identifier: str) -> str:
        digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]
        return f"{{tenant:{tenant_id}}}:lockout:{digest}"

    async def retry_after(self, tenant_id: uuid.UUID, identifier: str) -> int:
        """Seconds until this identifier may try again (0: now)."""
        until = await self.redis.hget(self._key(tenant_id, identifier), "until")
        wait = float(until or 0) - time.time()
        return max(0, int(wait + 0.999))

    async def failed(self, tenant_id: uuid.UUID, identifier: str) -> None:
        await self._fail(
            keys=[self._key(tenant_id, identifier)],
            args=[time.time(), self.threshold, self.base, self.max],
        )

    async def succeeded(self, tenant_id: uuid.UUID, identifier: str) -> None:
        await self.redis.delete(self._key(tenant_id, identifier))
