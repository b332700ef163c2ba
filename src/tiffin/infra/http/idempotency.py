"""`Idempotency-Key` for POSTs that create things (Stripe's semantics, held by PostgreSQL).

The key row is inserted in the same transaction as the work. A concurrent retry blocks on the
key's primary key until the first attempt commits (then it replays the stored response) or
rolls back (then it does the work itself). The same key with a different request is refused.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Request
from pydantic import BaseModel
from sqlalchemy import LargeBinary, String, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from starlette.responses import Response

from tiffin.infra.db import Base
from tiffin.infra.http.deps import SessionDep, TenantId
from tiffin.infra.http.errors import TiffinError


class IdempotencyKeyReused(TiffinError):
    status, type, title = (
        422,
        "idempotency-key-reused",
        ("This Idempotency-Key was used with a different request"),
    )


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    request_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    status_code: Mapped[int | None]
    response: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Idempotency:
    def __init__(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        key: str | None,
        method: str,
        path: str,
        body: bytes,
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.key = key
        self.method = method
        self.path = path
        self.request_hash = hashlib.sha256(method.encode() + path.encode() + b"\0" + body).digest()

    async def run(
        self, create: Callable[[], Awaitable[BaseModel]], *, status_code: int = 201
    ) -> Response:
        if self.key is None:
            return _json(await create(), status_code)
        claimed = await self.session.scalar(
            insert(IdempotencyKey)
            .values(
                tenant_id=self.tenant_id,
                key=self.key,
                method=self.method,
                path=self.path,
                request_hash=self.request_hash,
            )
            .on_conflict_do_nothing()
            .returning(IdempotencyKey.key)
        )
        if claimed is None:
            return await self._replay()
        result = await create()
        await self.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.tenant_id == self.tenant_id, IdempotencyKey.key == self.key)
            .values(status_code=status_code, response=result.model_dump(mode="json"))
        )
        return _json(result, status_code)

    async def _replay(self) -> Response:
        row = (
            await self.session.scalars(
                select(IdempotencyKey).where(
                    IdempotencyKey.tenant_id == self.tenant_id, IdempotencyKey.key == self.key
                )
            )
        ).one()
        if row.request_hash != self.request_hash:
            raise IdempotencyKeyReused()
        return Response(
            orjson.dumps(row.response),
            status_code=row.status_code or 200,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )


def _json(model: BaseModel, status_code: int) -> Response:
    return Response(
        model.model_dump_json().encode(), status_code=status_code, media_type="application/json"
    )


async def get_idempotency(
    request: Request,
    session: SessionDep,
    tenant_id: TenantId,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> Idempotency:
    body = await request.body()
    return Idempotency(session, tenant_id, idempotency_key, request.method, request.url.path, body)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
