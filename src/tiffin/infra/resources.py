"""The process's connections to the engines, opened once and shared by every role."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from tiffin.infra.bus import EventBus
from tiffin.infra.bus.redis_streams import RedisStreamsBus
from tiffin.infra.db import assert_rls_enforced, create_engine, create_sessionmaker
from tiffin.infra.redis import create_redis
from tiffin.infra.temporal import connect_temporal
from tiffin.settings import Settings


class MissingSetting(RuntimeError):
    pass


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    temporal: Client
    bus: EventBus
    # Outbound HTTP to third parties (identity providers, SMS, gateways): one pooled client.
    http: httpx.AsyncClient

    @classmethod
    async def open(cls, settings: Settings) -> Resources:
        missing = [
            name
            for name in ("database_url", "redis_url", "temporal_address")
            if getattr(settings, name) is None
        ]
        if missing:
            names = ", ".join(f"TIFFIN_{m.upper()}" for m in missing)
            raise MissingSetting(f"{names} must be set (or run `tiffin dev` for embedded engines)")
        assert settings.database_url and settings.redis_url and settings.temporal_address
        engine = create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        await assert_rls_enforced(engine)
        redis = create_redis(settings.redis_url)
        temporal = await connect_temporal(
            settings.temporal_address, settings.temporal_namespace, lazy=True
        )
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            redis=redis,
            temporal=temporal,
            bus=RedisStreamsBus(redis, maxlen=settings.event_stream_maxlen),
            http=httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)),
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.redis.aclose()
        await self.engine.dispose()
