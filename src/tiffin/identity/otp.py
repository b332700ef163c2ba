"""One-time codes by SMS: 6 digits, HMAC-hashed in Redis, expiring, attempt-limited."""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

from tiffin.infra.crypto import keyed_hash

# KEYS[1] the challenge. Counts the attempt first, so concurrent guesses cannot exceed the cap.
# Returns {status, stored_hash}: 0 no challenge, 1 counted, 2 over the cap (challenge dropped).
_ATTEMPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, ''} end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts > tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) return {2, ''} end
return {1, redis.call('HGET', KEYS[1], 'hash')}
"""


@dataclass(frozen=True)
class Issued:
    code: str
    expires_in: int


class Cooldown(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after


class OtpOutcome:
    OK, WRONG, EXCEEDED = "ok", "wrong", "exceeded"


class OneTimeCodes:
    def __init__(
        self, redis: Redis, *, key: bytes, ttl: int, max_attempts: int, resend_after: int
    ) -> None:
        self.redis = redis
        self.key = key
        self.ttl = ttl
        self.max_attempts = max_attempts
        self.resend_after = resend_after
        self._attempt = redis.register_script(_ATTEMPT)

    @staticmethod
    def _keys(tenant_id: uuid.UUID, phone: str) -> tuple[str, str]:
        tag = f"{{tenant:{tenant_id}}}"
        return f"{tag}:otp:{phone}", f"{tag}:otp-cooldown:{phone}"

    async def issue(self, tenant_id: uuid.UUID, phone: str) -> Issued:
        challenge, cooldown = self._keys(tenant_id, phone)
        if not await self.redis.set(cooldown, 1, ex=self.resend_after, nx=True):
            raise Cooldown(max(1, int(await self.redis.ttl(cooldown))))
        code = f"{secrets.randbelow(10**6):06d}"
        digest = keyed_hash(self.key, str(tenant_id), phone, code).hex()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(challenge)
            pipe.hset(challenge, mapping={"hash": digest, "attempts": 0})
            pipe.expire(challenge, self.ttl)
            await pipe.execute()
        return Issued(code=code, expires_in=self.ttl)

    async def check(self, tenant_id: uuid.UUID, phone: str, code: str) -> str:
        challenge, _ = self._keys(tenant_id, phone)
        status, stored = await self._attempt(keys=[challenge], args=[self.max_attempts])
        if int(status) == 2:
            return OtpOutcome.EXCEEDED
        if int(status) == 0:
            return OtpOutcome.WRONG
        expected = keyed_hash(self.key, str(tenant_id), phone, code).hex()
        stored_hex = stored.decode() if isinstance(stored, bytes) else str(stored)
        if not hmac.compare_digest(expected, stored_hex):
            return OtpOutcome.WRONG
        await self.redis.delete(challenge)
        return OtpOutcome.OK
