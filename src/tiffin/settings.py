"""All configuration, read once from `TIFFIN_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIFFIN_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"

    # Engines. Unset URLs mean "start the embedded engine" (only `tiffin dev` and the tests do).
    database_url: str | None = Field(
        default=None,
        description="Runtime connection (postgresql+asyncpg://). Its role must not be a "
        "superuser nor have BYPASSRLS: row-level security is the tenant boundary.",
    )
    database_admin_url: str | None = Field(
        default=None,
        description="Owner connection used by `tiffin migrate`; defaults to database_url.",
    )
    redis_url: str | None = None
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_task_queue: str = "tiffin"
    data_dir: Path = Path(".tiffin")

    # HTTP.
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1_048_576
    tenant_cache_seconds: float = 30.0

    # Pools.
    db_pool_size: int = 10
    db_max_overflow: int = 10

    # Events.
    relay_batch_size: int = 500
    relay_poll_seconds: float = 1.0
    event_stream_maxlen: int = 1_000_000

    # Logs.
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"


@lru_cache
def get_settings() -> Settings:
    return Settings()
