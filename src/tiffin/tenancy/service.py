"""Tenants: creation, API keys, and resolving which tenant a request is for."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from cachetools import TTLCache
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiffin.infra.bus import outbox
from tiffin.infra.clock import clock
from tiffin.tenancy.errors import (
    ApiKeyNotFound,
    InvalidApiKey,
    TenantExists,
    TenantMismatch,
    TenantSuspended,
    UnknownTenant,
)
from tiffin.tenancy.events import TenantCreated
from tiffin.tenancy.models import Tenant as TenantRow
from tiffin.tenancy.models import TenantApiKey, TenantDomain
from tiffin.tenancy.repository import TenantRepository
from tiffin.tenancy.schemas import ApiKeyIssued, ApiKeyPrincipal, Tenant, TenantCreate

API_KEY_PREFIX = "tfn_"


def hash_api_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _normalise_host(host: str) -> str:
    return host.split(":", 1)[0].strip().lower().rstrip(".")


class TenantService:
    def __init__(self, *, cache_seconds: float = 30.0) -> None:
        self.configure(cache_seconds=cache_seconds)

    def configure(self, *, cache_seconds: float) -> None:
        # Resolution runs on every request: answers are cached per process for a short while.
        # A miss is cached for a shorter while so an unknown host cannot hammer the database.
        self._hits: TTLCache[tuple[str, str], Tenant] = TTLCache(100_000, cache_seconds)
        self._misses: TTLCache[tuple[str, str], bool] = TTLCache(100_000, min(cache_seconds, 2.0))
        self._keys: TTLCache[bytes, ApiKeyPrincipal] = TTLCache(100_000, min(cache_seconds, 5.0))

    def forget(self) -> None:
        self._hits.clear()
        self._misses.clear()
        self._keys.clear()

    async def create(self, session: AsyncSession, data: TenantCreate) -> Tenant:
        repo = TenantRepository.from_session(session)
        if await repo.get_by_slug(data.slug) or await repo.hostnames_taken(data.domains):
            raise TenantExists()
        row = TenantRow(slug=data.slug, name=data.name, status="active")
        await repo.add(row)
        await repo.add(*(TenantDomain(hostname=h, tenant_id=row.id) for h in data.domains))
        await outbox.append(
            session,
            TenantCreated(tenant_id=row.id, slug=row.slug),
            tenant_id=row.id,
            aggregate_id=row.id,
        )
        self._misses.clear()
        return Tenant.model_validate(row)

    async def ids(self, session: AsyncSession) -> list[uuid.UUID]:
        """Every tenant (platform jobs iterate over them)."""
        return await TenantRepository.from_session(session).ids()

    async def get_by_slug(self, session: AsyncSession, slug: str) -> Tenant | None:
        row = await TenantRepository.from_session(session).get_by_slug(slug)
        return Tenant.model_validate(row) if row else None

    async def issue_api_key(
        self, session: AsyncSession, tenant_id: uuid.UUID, *, name: str, scopes: list[str]
    ) -> ApiKeyIssued:
        prefix = secrets.token_hex(4)
        key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        row = TenantApiKey(
            tenant_id=tenant_id,
            name=name,
            prefix=prefix,
            key_hash=hash_api_key(key),
            scopes=sorted(set(scopes)),
        )
        await TenantRepository.from_session(session).add(row)
        return ApiKeyIssued(id=row.id, name=name, key=key, scopes=row.scopes)

    async def revoke_api_key(
        self, session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID
    ) -> None:
        row = await session.get(TenantApiKey, key_id)
        if row is None or row.tenant_id != tenant_id:
            raise ApiKeyNotFound()
        row.revoked_at = clock.now()
        await session.flush()
        self._keys.clear()

    async def resolve(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        host: str | None,
        tenant_ref: str | None,
        api_key: str | None,
    ) -> tuple[Tenant, ApiKeyPrincipal | None]:
        """Which tenant a request is for: by API key, `X-Tenant-ID` (id or slug) or Host.

        Every source given must agree: a key of brand A sent to brand B's host is refused.
        The API key decides first, then the header, then the host.
        """
        # Answers come from the caches on almost every request; a session (and a connection)
        # is opened only for a miss.
        principal = await self._by_api_key(sessionmaker, api_key) if api_key else None
        claims: list[Tenant] = []
        if principal is not None:
            by_key = await self._lookup(sessionmaker, "id", str(principal.tenant_id))
            if by_key is None:
                raise InvalidApiKey()
            claims.append(by_key)
        if tenant_ref:
            kind = "id" if _is_uuid(tenant_ref) else "slug"
            by_ref = await self._lookup(sessionmaker, kind, tenant_ref.strip().lower())
            if by_ref is None:
                raise UnknownTenant(f"no brand {tenant_ref!r}")
            claims.append(by_ref)
        by_host = await self._lookup(sessionmaker, "host", _normalise_host(host)) if host else None
        if by_host is not None:
            claims.append(by_host)
        if not claims:
            raise UnknownTenant("send X-Tenant-ID, an API key, or use the brand's domain")
        if any(c.id != claims[0].id for c in claims):
            raise TenantMismatch()
        if claims[0].status != "active":
            raise TenantSuspended()
        return claims[0], principal

    async def _lookup(
        self, sessionmaker: async_sessionmaker[AsyncSession], kind: str, value: str
    ) -> Tenant | None:
        cache_key = (kind, value)
        if (hit := self._hits.get(cache_key)) is not None:
            return hit
        if cache_key in self._misses:
            return None
        async with sessionmaker() as session:
            repo = TenantRepository.from_session(session)
            if kind == "host":
                row = await repo.get_by_hostname(value)
            elif kind == "slug":
                row = await repo.get_by_slug(value)
            else:
                row = await repo.get(uuid.UUID(value))
        if row is None:
            self._misses[cache_key] = True
            return None
        tenant = Tenant.model_validate(row)
        self._hits[cache_key] = tenant
        return tenant

    async def _by_api_key(
        self, sessionmaker: async_sessionmaker[AsyncSession], key: str
    ) -> ApiKeyPrincipal:
        key_hash = hash_api_key(key)
        if (hit := self._keys.get(key_hash)) is not None:
            return hit
        async with sessionmaker() as session:
            row = await TenantRepository.from_session(session).get_api_key(key_hash)
        if row is None:
            raise InvalidApiKey()
        principal = ApiKeyPrincipal(
            id=row.id, tenant_id=row.tenant_id, scopes=frozenset(row.scopes)
        )
        self._keys[key_hash] = principal
        return principal


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


tenants = TenantService()
