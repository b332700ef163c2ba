"""All configuration, read once from `TIFFIN_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "tiffin-dev-secret-do-not-use-in-production"  # noqa: S105 (refused in prod)


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

    # Secrets. The defaults serve dev and tests only; `prod` refuses to start with them.
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    password_pepper: SecretStr = SecretStr("")

    # Identity.
    jwt_issuer: str = "tiffin"
    access_token_seconds: int = 600
    refresh_token_days: int = 30
    refresh_grace_seconds: float = 5.0
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19_456
    argon2_parallelism: int = 1
    otp_ttl_seconds: int = 300
    otp_max_attempts: int = 5
    otp_resend_seconds: int = 30
    login_limit_per_ip: str = "30/60"
    login_limit_per_account: str = "10/60"
    otp_limit_per_ip: str = "20/600"
    otp_limit_per_phone: str = "5/600"
    refresh_limit_per_session: str = "30/60"
    lockout_threshold: int = 5
    lockout_base_seconds: int = 30
    lockout_max_seconds: int = 900
    default_max_sessions: int = 10
    sms_api_url: str | None = None
    sms_account_sid: str = ""
    sms_auth_token: SecretStr = SecretStr("")
    sms_from: str = "TIFFIN"

    # Feature flags: which environment of each flag this deployment serves.
    flags_environment: str = "production"

    # Logs.
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"

    @model_validator(mode="after")
    def _production_secrets(self) -> Settings:
        if self.env == "prod" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("TIFFIN_SECRET_KEY must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
