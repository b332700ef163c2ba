"""Feature flags: definitions per brand and environment, evaluated in-process.

Each process keeps every tenant's flags compiled in memory. A change is announced on Redis
Pub/Sub after its commit and drops the compiled flags in every process (the writing process
drops its own at once), so it takes effect on the next request everywhere, and a request pays a
dict lookup, not a round trip. While the subscription is down, and every 30 s regardless, a
request checks the tenant's revision in Redis instead.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiffin.flags.errors import FlagNotFound, InvalidFlag, SegmentNotFound
from tiffin.flags.evaluator import PLATFORM_DEFAULTS, FlagSet, compile_flags, semver
from tiffin.flags.events import FlagsChanged
from tiffin.flags.models import FlagRow, SegmentRow
from tiffin.flags.repository import FlagRepository
from tiffin.flags.schemas import (
    Evaluation,
    EvaluationContext,
    Flag,
    FlagDefinition,
    Segment,
    SegmentDefinition,
)
from tiffin.infra import audit, live
from tiffin.infra.bus import outbox
from tiffin.infra.clock import clock
from tiffin.infra.db import after_commit, tenant_transaction
from tiffin.settings import Settings


def revision_key(tenant_id: uuid.UUID) -> str:
    return f"{{tenant:{tenant_id}}}:flags-rev"


class FlagService:
    environment: str
    redis: Redis

    def configure(self, settings: Settings, redis: Redis) -> None:
        self.environment = settings.flags_environment
        self.redis = redis
        self._sets: live.TenantCache[FlagSet] = live.TenantCache(
            redis, revision_key, lambda flags: flags.revision
        )
        live.broadcaster.on_change("flags", self._sets.forget)

    # -- evaluation ---------------------------------------------------------------------------
    async def flag_set(
        self, sessionmaker: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID
    ) -> FlagSet:
        """The tenant's compiled flags, current as of this call."""
        return await self._sets.get(tenant_id, lambda: self._load(sessionmaker, tenant_id))

    def cached(self, tenant_id: uuid.UUID) -> FlagSet | None:
        """The last compiled flags without checking for newer ones (for synchronous callers
        such as the OpenFeature provider)."""
        return self._sets.peek(tenant_id)

    async def _load(
        self, sessionmaker: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID
    ) -> FlagSet:
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            repo = FlagRepository.from_session(session)
            revision = await repo.revision()
            flags = await repo.flags()
            segments = await repo.segments()
        return compile_flags(
            revision,
            [(f.key, FlagDefinition.model_validate(f.definition), f.killed) for f in flags],
            [(s.key, SegmentDefinition.model_validate(s.definition)) for s in segments],
            self.environment,
            clock.now(),
        )

    @staticmethod
    def evaluate_in(flags: FlagSet, key: str, context: dict[str, Any]) -> Evaluation:
        result = flags.evaluate(key, context, time.time())
        return Evaluation(key=key, variant=result.variant, value=result.value, reason=result.reason)

    async def evaluate(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        key: str,
        context: EvaluationContext,
    ) -> Evaluation:
        flags = await self.flag_set(sessionmaker, tenant_id)
        return self.evaluate_in(flags, key, context.model_dump())

    async def evaluate_all(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        context: EvaluationContext,
    ) -> dict[str, Evaluation]:
        flags = await self.flag_set(sessionmaker, tenant_id)
        attributes = context.model_dump()
        return {key: self.evaluate_in(flags, key, attributes) for key in sorted(flags.keys())}

    async def is_on(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        key: str,
        context: EvaluationContext,
    ) -> bool:
        return (await self.evaluate(sessionmaker, tenant_id, key, context)).value is True

    # -- definitions ----------------------------------------------------------------------------
    async def list_flags(self, session: AsyncSession) -> list[Flag]:
        rows = await FlagRepository.from_session(session).flags()
        return [self._flag(r) for r in rows]

    async def get_flag(self, session: AsyncSession, tenant_id: uuid.UUID, key: str) -> Flag:
        row = await FlagRepository.from_session(session).flag(tenant_id, key)
        if row is None:
            raise FlagNotFound()
        return self._flag(row)

    async def put_flag(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        key: str,
        *,
        definition: FlagDefinition,
        actor: str,
    ) -> Flag:
        repo = FlagRepository.from_session(session)
        self._check_environments(definition)
        await self._check_prerequisites(repo, key, definition)
        row = await repo.flag(tenant_id, key, for_update=True)
        before = self._flag(row).model_dump(mode="json") if row else None
        revision = await self._changed(session, repo, tenant_id, key)
        if row is None:
            row = FlagRow(
                tenant_id=tenant_id,
                key=key,
                killed=False,
                revision=revision,
                definition=definition.model_dump(mode="json"),
            )
            await repo.add(row)
        else:
            row.definition = definition.model_dump(mode="json")
            row.revision = revision
        await session.flush()
        await session.refresh(row)
        flag = self._flag(row)
        await audit.record(
            session,
            tenant_id,
            actor=actor,
            entity="flag",
            entity_id=key,
            action="created" if before is None else "updated",
            before=before,
            after=flag.model_dump(mode="json"),
        )
        return flag

    async def set_killed(
        self, session: AsyncSession, tenant_id: uuid.UUID, key: str, *, killed: bool, actor: str
    ) -> Flag:
        """The kill switch: serves the off variant everywhere at once, whatever the rules."""
        repo = FlagRepository.from_session(session)
        row = await repo.flag(tenant_id, key, for_update=True)
        if row is None:
            raise FlagNotFound()
        row.killed = killed
        row.revision = await self._changed(session, repo, tenant_id, key)
        await session.flush()
        await session.refresh(row)
        await audit.record(
            session,
            tenant_id,
            actor=actor,
            entity="flag",
            entity_id=key,
            action="killed" if killed else "revived",
        )
        return self._flag(row)

    async def delete_flag(
        self, session: AsyncSession, tenant_id: uuid.UUID, key: str, *, actor: str
    ) -> None:
        repo = FlagRepository.from_session(session)
        row = await repo.flag(tenant_id, key, for_update=True)
        if row is None:
            raise FlagNotFound()
        before = self._flag(row).model_dump(mode="json")
        await repo.delete_flag(key)
        await self._changed(session, repo, tenant_id, key)
        await audit.record(
            session,
            tenant_id,
            actor=actor,
            entity="flag",
            entity_id=key,
            action="deleted",
            before=before,
        )

    async def put_segment(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        key: str,
        *,
        definition: SegmentDefinition,
        actor: str,
    ) -> Segment:
        repo = FlagRepository.from_session(session)
        self._check_conditions(definition.conditions)
        row = await repo.segment(tenant_id, key)
        before = row.definition if row else None
        if row is None:
            await repo.add(
                SegmentRow(
                    tenant_id=tenant_id, key=key, definition=definition.model_dump(mode="json")
                )
            )
        else:
            row.definition = definition.model_dump(mode="json")
        await self._changed(session, repo, tenant_id, f"segment:{key}")
        await audit.record(
            session,
            tenant_id,
            actor=actor,
            entity="segment",
            entity_id=key,
            action="created" if before is None else "updated",
            before=before,
            after=definition.model_dump(mode="json"),
        )
        return Segment(key=key, **definition.model_dump())

    async def get_segment(self, session: AsyncSession, tenant_id: uuid.UUID, key: str) -> Segment:
        row = await FlagRepository.from_session(session).segment(tenant_id, key)
        if row is None:
            raise SegmentNotFound()
        return Segment(key=key, **row.definition)

    # -- helpers --------------------------------------------------------------------------------
    async def _changed(
        self, session: AsyncSession, repo: FlagRepository, tenant_id: uuid.UUID, key: str
    ) -> int:
        revision = await repo.bump_revision(tenant_id)
        await outbox.append(
            session,
            FlagsChanged(key=key, revision=revision),
            tenant_id=tenant_id,
            aggregate_id=f"flags:{tenant_id}",
        )

        async def announce() -> None:
            self._sets.forget(tenant_id)
            await live.advance_revision(self.redis, revision_key(tenant_id), revision)
            await live.publish(self.redis, tenant_id, "flags")

        after_commit(session, announce)
        return revision

    def _check_environments(self, definition: FlagDefinition) -> None:
        for env in definition.environments.values():
            for rule in env.rules:
                self._check_conditions(rule.conditions)

    @staticmethod
    def _check_conditions(conditions: list[Any]) -> None:
        for condition in conditions:
            if condition.op.startswith("semver_") and semver(str(condition.value)) is None:
                raise InvalidFlag(f"{condition.value!r} is not a semantic version")

    async def _check_prerequisites(
        self, repo: FlagRepository, key: str, definition: FlagDefinition
    ) -> None:
        graph = {
            row.key: {
                p["flag"]
                for env in row.definition.get("environments", {}).values()
                for p in env.get("prerequisites", [])
            }
            for row in await repo.flags()
        }
        graph[key] = {p.flag for env in definition.environments.values() for p in env.prerequisites}
        known = set(graph) | set(PLATFORM_DEFAULTS)
        if missing := graph[key] - known:
            raise InvalidFlag(f"unknown prerequisite flags {sorted(missing)}")
        seen: set[str] = set()
        stack = list(graph[key])
        while stack:
            current = stack.pop()
            if current == key:
                raise InvalidFlag("prerequisites form a cycle")
            if current not in seen:
                seen.add(current)
                stack.extend(graph.get(current, ()))

    @staticmethod
    def _flag(row: FlagRow) -> Flag:
        return Flag(
            key=row.key,
            killed=row.killed,
            revision=row.revision,
            updated_at=row.updated_at,
            **row.definition,
        )


flags = FlagService()
