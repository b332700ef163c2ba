"""Brand configuration: versioned documents (draft → publish → rollback), and the app config
each caller gets: the live document with its sections and switches resolved by flags."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import jsonpatch
import orjson
from pydantic import ValidationError
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiffin.config.errors import (
    InvalidConfig,
    NeverPublished,
    NoPublishedConfig,
    NotADraft,
    VersionNotFound,
)
from tiffin.config.events import ConfigPublished
from tiffin.config.models import ConfigState, ConfigVersionRow
from tiffin.config.repository import ConfigRepository
from tiffin.config.schemas import AppConfig, BrandConfig, ConfigVersion, DiffOp
from tiffin.flags.schemas import EvaluationContext
from tiffin.flags.service import flags
from tiffin.infra import audit, live
from tiffin.infra.bus import outbox
from tiffin.infra.clock import clock
from tiffin.infra.db import after_commit, tenant_transaction

RENDERED_CACHE_SIZE = 10_000


def revision_key(tenant_id: uuid.UUID) -> str:
    return f"{{tenant:{tenant_id}}}:config-rev"


class LiveConfig:
    """The live document of a tenant as this process holds it."""

    __slots__ = ("document", "revision", "version")

    def __init__(self, revision: int, version: int, document: dict[str, Any]) -> None:
        self.revision = revision
        self.version = version
        self.document = document


class ConfigService:
    redis: Redis

    def configure(self, redis: Redis) -> None:
        self.redis = redis
        self._live: live.TenantCache[LiveConfig | None] = live.TenantCache(
            redis, revision_key, lambda current: current.revision if current else 0
        )
        # Keys carry both revisions, so a change never serves a stale answer; old entries
        # just age out of the bounded cache.
        self._rendered: dict[tuple[Any, ...], tuple[bytes, str]] = {}
        live.broadcaster.on_change("config", self._live.forget)

    @staticmethod
    def schema() -> dict[str, Any]:
        return BrandConfig.model_json_schema()

    # -- versions -------------------------------------------------------------------------------
    async def create_draft(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        *,
        document: dict[str, Any],
        note: str,
        actor: str,
    ) -> ConfigVersion:
        text = self._validated(document)
        repo = ConfigRepository.from_session(session)
        await repo.lock(tenant_id)
        row = ConfigVersionRow(
            tenant_id=tenant_id,
            version=await repo.next_version(),
            status="draft",
            document=text,
            note=note,
            created_by=actor,
        )
        await repo.add(row)
        await audit.record(
            session,
            tenant_id,
            actor=actor,
            entity="config",
            entity_id=str(row.version),
            action="drafted",
        )
        return await self._view(repo, tenant_id, row)

    async def update_draft(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        version: int,
        *,
        document: dict[str, Any],
        note: str,
        actor: str,
    ) -> ConfigVersion:
        text = self._validated(document)
        repo = ConfigRepository.from_session(session)
        row = await self._row(repo, tenant_id, version, for_update=True)
        if row.status != "draft":
            raise NotADraft()
        before = orjson.loads(row.document)
        row.document, row.note = text, note
        await audit.record(
            session,
            tenant_id,
            actor=actor,
            entity="config",
            entity_id=str(version),
            action="updated",
            before=before,
            after=orjson.loads(text),
        )
        return await self._view(repo, tenant_id, row)

    async def publish(
        self, session: AsyncSession, tenant_id: uuid.UUID, version: int, *, actor: str
    ) -> ConfigVersion:
        repo = ConfigRepository.from_session(session)
        await repo.lock(tenant_id)
        row = await self._row(repo, tenant_id, version, for_update=True)
        if row.status != "draft":
            raise NotADraft()
        row.status, row.published_by, row.published_at = "published", actor, clock.now()
        await self._go_live(session, repo, tenant_id, version, actor=actor, rollback=False)
        return await self._view(repo, tenant_id, row)

    async def rollback(
        self, session: AsyncSession, tenant_id: uuid.UUID, version: int, *, actor: str
    ) -> ConfigVersion:
        """Makes an earlier published version live again, exactly as it was."""
        repo = ConfigRepository.from_session(session)
        await repo.lock(tenant_id)
        row = await self._row(repo, tenant_id, version)
        if row.status != "published":
            raise NeverPublished()
        await self._go_live(session, repo, tenant_id, version, actor=actor, rollback=True)
        return await self._view(repo, tenant_id, row)

    async def _go_live(
        self,
        session: AsyncSession,
        repo: ConfigRepository,
        tenant_id: uuid.UUID,
        version: int,
        *,
        actor: str,
        rollback: bool,
    ) -> None:
        state = await repo.state(tenant_id)
        before = state.live_version if state else None
        if state is None:
            state = ConfigState(tenant_id=tenant_id, live_version=version, revision=1)
            await repo.add(state)
        else:
            state.live_version, state.revision = version, state.revision + 1
        await session.flush()
        revision = state.revision
        await audit.record(
            session,
            tenant_id,
            actor=actor,
            entity="config",
            entity_id=str(version),
            action="rolled_back" if rollback else "published",
            before={"live_version": before},
            after={"live_version": version},
        )
        await outbox.append(
            session,
            ConfigPublished(version=version, rollback=rollback),
            tenant_id=tenant_id,
            aggregate_id=f"config:{tenant_id}",
        )

        async def announce() -> None:
            self._live.forget(tenant_id)
            await live.advance_revision(self.redis, revision_key(tenant_id), revision)
            await live.publish(self.redis, tenant_id, "config")

        after_commit(session, announce)

    async def versions(
        self, session: AsyncSession, tenant_id: uuid.UUID, *, limit: int = 50
    ) -> list[ConfigVersion]:
        repo = ConfigRepository.from_session(session)
        state = await repo.state(tenant_id)
        live_version = state.live_version if state else None
        return [_view(r, live_version) for r in await repo.versions(limit)]

    async def version(
        self, session: AsyncSession, tenant_id: uuid.UUID, version: int
    ) -> ConfigVersion:
        repo = ConfigRepository.from_session(session)
        return await self._view(repo, tenant_id, await self._row(repo, tenant_id, version))

    async def raw_document(self, session: AsyncSession, tenant_id: uuid.UUID, version: int) -> str:
        """The stored text, exactly."""
        row = await self._row(ConfigRepository.from_session(session), tenant_id, version)
        return row.document

    async def diff(
        self, session: AsyncSession, tenant_id: uuid.UUID, source: int, target: int
    ) -> list[DiffOp]:
        repo = ConfigRepository.from_session(session)
        a = orjson.loads((await self._row(repo, tenant_id, source)).document)
        b = orjson.loads((await self._row(repo, tenant_id, target)).document)
        return [DiffOp.model_validate(op) for op in jsonpatch.make_patch(a, b).patch]

    # -- what apps get --------------------------------------------------------------------------
    async def live_config(
        self, sessionmaker: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID
    ) -> LiveConfig | None:
        """The live document, current as of this call (see `live.TenantCache`)."""
        return await self._live.get(tenant_id, lambda: self._load_live(sessionmaker, tenant_id))

    @staticmethod
    async def _load_live(
        sessionmaker: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID
    ) -> LiveConfig | None:
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            repo = ConfigRepository.from_session(session)
            state = await repo.state(tenant_id)
            row = await repo.version(tenant_id, state.live_version) if state else None
        if state is None or row is None:
            return None
        return LiveConfig(state.revision, state.live_version, orjson.loads(row.document))

    async def render(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        context: EvaluationContext,
    ) -> tuple[bytes, str]:
        """The app config as JSON bytes and its ETag. Rendered answers are kept per (live
        config, flags, caller): apps re-read it often with the same context."""
        current = await self.live_config(sessionmaker, tenant_id)
        flag_set = await flags.flag_set(sessionmaker, tenant_id)
        key = (
            tenant_id,
            current.revision if current else 0,
            flag_set.revision,
            context.model_dump_json(),
        )
        if (hit := self._rendered.get(key)) is not None:
            return hit
        body = (await self.app_config(sessionmaker, tenant_id, context)).model_dump_json()
        rendered = (
            body.encode(),
            '"' + hashlib.blake2b(body.encode(), digest_size=16).hexdigest() + '"',
        )
        if len(self._rendered) >= RENDERED_CACHE_SIZE:
            del self._rendered[next(iter(self._rendered))]
        self._rendered[key] = rendered
        return rendered

    async def app_config(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        context: EvaluationContext,
    ) -> AppConfig:
        config = await self.live_config(sessionmaker, tenant_id)
        if config is None:
            raise NoPublishedConfig()
        flag_set = await flags.flag_set(sessionmaker, tenant_id)
        attributes = context.model_dump()
        evaluations = {
            key: flags.evaluate_in(flag_set, key, attributes) for key in sorted(flag_set.keys())
        }
        brand = config.document.get("features", {})
        boolean_flags = {k for k, e in evaluations.items() if isinstance(e.value, bool)}

        def on(feature: str, *switches: dict[str, bool]) -> bool:
            # A feature shows when no switch of the brand turns it off and its flag (if
            # there is one) is on for this caller.
            if any(s.get(feature) is False for s in (brand, *switches)):
                return False
            evaluation = evaluations.get(feature)
            return evaluation is None or evaluation.value is not False

        pages = {}
        for name, page in config.document.get("pages", {}).items():
            switches = page.get("features", {})
            pages[name] = {
                "sections": [
                    s
                    for s in page.get("sections", [])
                    if s.get("feature") is None or on(s["feature"], switches)
                ],
                "features": {f: on(f, switches) for f in switches},
            }
        return AppConfig(
            version=config.version,
            theme=config.document["theme"],
            pages=pages,
            features={f: on(f) for f in sorted(set(brand) | boolean_flags)},
            flags={k: {"variant": e.variant, "value": e.value} for k, e in evaluations.items()},
        )

    # -- helpers --------------------------------------------------------------------------------
    @staticmethod
    def _validated(document: dict[str, Any]) -> str:
        try:
            return BrandConfig.model_validate(document).model_dump_json()
        except ValidationError as e:
            raise InvalidConfig(
                [
                    {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
                    for err in e.errors()
                ]
            ) from None

    @staticmethod
    async def _row(
        repo: ConfigRepository, tenant_id: uuid.UUID, version: int, *, for_update: bool = False
    ) -> ConfigVersionRow:
        row = await repo.version(tenant_id, version, for_update=for_update)
        if row is None:
            raise VersionNotFound()
        return row

    @staticmethod
    async def _view(
        repo: ConfigRepository, tenant_id: uuid.UUID, row: ConfigVersionRow
    ) -> ConfigVersion:
        state = await repo.state(tenant_id)
        return _view(row, state.live_version if state else None)


def _view(row: ConfigVersionRow, live_version: int | None) -> ConfigVersion:
    return ConfigVersion(
        version=row.version,
        status="published" if row.status == "published" else "draft",
        document=orjson.loads(row.document),
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
        published_by=row.published_by,
        published_at=row.published_at,
        live=row.version == live_version,
    )


config = ConfigService()
