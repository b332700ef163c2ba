"""Readiness: each engine checked on its own, with a short deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

Check = Callable[[], Awaitable[object]]


async def _run(check: Check, timeout: float) -> str:
    try:
        await asyncio.wait_for(check(), timeout)
    except TimeoutError:
        return "timeout"
    except Exception as e:
        return f"error: {type(e).__name__}"
    return "ok"


async def readiness(
    engine: AsyncEngine,
    redis: Redis,
    temporal: Callable[[], Awaitable[Client]],
    *,
    timeout: float = 2.0,
) -> dict[str, str]:
    async def postgres() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def redis_ping() -> None:
        await redis.ping()

    async def temporal_health() -> None:
        client = await temporal()
        await client.service_client.check_health()

    names = ["postgres", "redis", "temporal"]
    results = await asyncio.gather(
        *(_run(c, timeout) for c in (postgres, redis_ping, temporal_health))
    )
    return dict(zip(names, results, strict=True))
