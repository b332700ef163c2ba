"""argon2id password hashing with a pepper, off the event loop.

The pepper (an HMAC key kept outside the database) means a stolen table alone cannot be
cracked. Changing it invalidates every password, so it is set once per deployment.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, *, pepper: str, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._pepper = pepper.encode()
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        # Verified against when the account does not exist, so both answers take as long.
        self._decoy = self._hasher.hash(self._peppered("decoy password"))

    def _peppered(self, password: str) -> bytes:
        return hmac.new(self._pepper, password.encode(), hashlib.sha256).digest()

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, self._peppered(password))

    async def verify(self, stored: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, stored, password)

    def _verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._decoy, self._peppered(password)) and (
                stored is not None
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)
