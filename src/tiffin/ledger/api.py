"""The ledger over HTTP: accounts and balances, transfers (single, two-phase, linked),
lookups, statements, and audited adjustments."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tiffin.infra.http.auth import Principal, require_scope
from tiffin.infra.http.deps import ResourcesDep, SessionDep, TenantId
from tiffin.infra.resources import Resources
from tiffin.ledger.schemas import (
    Account,
    AccountCreate,
    Adjustment,
    Statement,
    Transfer,
    TransferBatch,
    TransferResult,
)
from tiffin.ledger.service import ledger

Reader = Annotated[Principal, Depends(require_scope("ledger:read"))]
Writer = Annotated[Principal, Depends(require_scope("ledger:write"))]
Adjuster = Annotated[Principal, Depends(require_scope("ledger:adjust"))]


@asynccontextmanager
async def ledger_runtime(resources: Resources) -> AsyncIterator[None]:
    ledger.configure(resources.sessionmaker)
    try:
        yield
    finally:
        await ledger.writer.close()


router = APIRouter(prefix="/v1/ledger", tags=["ledger"])


@router.post(
    "/accounts",
    status_code=201,
    response_model=Account,
    summary="Open an account (the same id returns the same account)",
)
async def create_account(
    body: AccountCreate, session: SessionDep, tenant_id: TenantId, _: Writer
) -> Account:
    return await ledger.create_account(session, tenant_id, data=body)


@router.get("/accounts/{account_id}", response_model=Account)
async def get_account(
    account_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, _: Reader
) -> Account:
    return await ledger.account(session, tenant_id, account_id)


@router.get("/accounts/{account_id}/statement", response_model=Statement)
async def statement(
    account_id: uuid.UUID,
    session: SessionDep,
    tenant_id: TenantId,
    _: Reader,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Statement:
    return await ledger.statement(session, tenant_id, account_id, cursor=cursor, limit=limit)


@router.post(
    "/transfers",
    response_model=list[TransferResult],
    summary="Create transfers; each gets `ok`, `exists` or the reason it was refused",
)
async def create_transfers(
    body: TransferBatch, tenant_id: TenantId, _: Writer
) -> list[TransferResult]:
    return await ledger.submit(tenant_id, body.transfers, linked=body.linked)


@router.get("/transfers/{transfer_id}", response_model=Transfer)
async def get_transfer(
    transfer_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, _: Reader
) -> Transfer:
    return await ledger.get_transfer(session, tenant_id, transfer_id)


@router.post(
    "/adjustments",
    response_model=TransferResult,
    summary="An operator's correction, with a reason, audited",
)
async def adjust(
    body: Adjustment, resources: ResourcesDep, tenant_id: TenantId, who: Adjuster
) -> TransferResult:
    return await ledger.adjust(resources.sessionmaker, tenant_id, data=body, actor=who.actor)
