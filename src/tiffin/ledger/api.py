"""The ledger over HTTP: accounts and balances, transfers (single, two-phase, linked),
lookups, statements, and audited adjustments; wallets, order money, riders' cash and
restaurant settlements."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from tiffin.infra.http.auth import Principal, require_scope
from tiffin.infra.http.deps import ResourcesDep, SessionDep, TenantId
from tiffin.infra.resources import Resources
from tiffin.ledger.schemas import (
    Account,
    AccountCreate,
    Adjustment,
    CashDeposit,
    CreditLine,
    OrderDelivery,
    PromotionGrant,
    RefundCreate,
    RestaurantBalance,
    RiderBalance,
    SettlementRequest,
    SettlementRun,
    SettlementScheduleCreate,
    SettlementStarted,
    SettlementStatement,
    Statement,
    TopUpCreate,
    Transfer,
    TransferBatch,
    TransferResult,
    WalletBalance,
    WalletPayment,
    WalletPaymentCreate,
)
from tiffin.ledger.service import ledger
from tiffin.ledger.wallets import wallets

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


# -- wallets, order money, riders' cash, restaurant settlements ---------------------------------
# Each movement's id derives from its business key (payment, order, refund, deposit, promotion
# key), so a retried POST is the same movement: these routes need no Idempotency-Key.


@router.get("/wallets/{customer_id}", response_model=WalletBalance)
async def get_wallet(
    customer_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, _: Reader
) -> WalletBalance:
    return await wallets.wallet(session, tenant_id, customer_id)


@router.post(
    "/wallets/{customer_id}/top-ups",
    response_model=TransferResult,
    summary="Credit the wallet from a captured payment (once per payment id)",
)
async def top_up(
    customer_id: uuid.UUID,
    body: TopUpCreate,
    resources: ResourcesDep,
    tenant_id: TenantId,
    _: Writer,
) -> TransferResult:
    return await wallets.top_up(
        resources.sessionmaker, tenant_id, customer_id=customer_id, data=body
    )


@router.post(
    "/wallets/{customer_id}/promotions",
    response_model=TransferResult,
    summary="Grant cashback or promotional credit that expires",
)
async def grant_promotion(
    customer_id: uuid.UUID,
    body: PromotionGrant,
    resources: ResourcesDep,
    tenant_id: TenantId,
    _: Writer,
) -> TransferResult:
    return await wallets.grant_promotion(
        resources.sessionmaker, tenant_id, customer_id=customer_id, data=body
    )


@router.post(
    "/orders/{order_id}/wallet-payment",
    response_model=WalletPayment,
    summary="Hold an order's total in the wallet at checkout",
)
async def pay_order(
    order_id: uuid.UUID,
    body: WalletPaymentCreate,
    resources: ResourcesDep,
    tenant_id: TenantId,
    _: Writer,
) -> WalletPayment:
    return await wallets.pay_order(resources.sessionmaker, tenant_id, order_id=order_id, data=body)


@router.post(
    "/orders/{order_id}/delivery",
    response_model=list[TransferResult],
    summary="Split a delivered order's money (one linked batch)",
)
async def deliver_order(
    order_id: uuid.UUID,
    body: OrderDelivery,
    resources: ResourcesDep,
    tenant_id: TenantId,
    _: Writer,
) -> list[TransferResult]:
    return await wallets.deliver_order(
        resources.sessionmaker, tenant_id, order_id=order_id, data=body
    )


@router.post(
    "/orders/{order_id}/cancellation",
    response_model=list[TransferResult],
    summary="Release a cancelled order's wallet holds",
)
async def cancel_order(
    order_id: uuid.UUID, resources: ResourcesDep, tenant_id: TenantId, _: Writer
) -> list[TransferResult]:
    return await wallets.cancel_order(resources.sessionmaker, tenant_id, order_id=order_id)


@router.post("/refunds", response_model=TransferResult, summary="Refund to wallet or source")
async def refund(
    body: RefundCreate, resources: ResourcesDep, tenant_id: TenantId, _: Writer
) -> TransferResult:
    return await wallets.refund(resources.sessionmaker, tenant_id, data=body)


@router.get("/riders/{rider_id}", response_model=RiderBalance)
async def get_rider(
    rider_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, _: Reader
) -> RiderBalance:
    return await wallets.rider(session, tenant_id, rider_id)


@router.post(
    "/riders/{rider_id}/cash-deposits",
    response_model=TransferResult,
    summary="Record cash a rider handed in",
)
async def deposit_cash(
    rider_id: uuid.UUID,
    body: CashDeposit,
    resources: ResourcesDep,
    tenant_id: TenantId,
    _: Writer,
) -> TransferResult:
    return await wallets.deposit_cash(
        resources.sessionmaker, tenant_id, rider_id=rider_id, data=body
    )


@router.get("/restaurants/{restaurant_id}", response_model=RestaurantBalance)
async def get_restaurant(
    restaurant_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, _: Reader
) -> RestaurantBalance:
    return await wallets.restaurant(session, tenant_id, restaurant_id)


@router.put(
    "/restaurants/{restaurant_id}/account",
    response_model=Account,
    summary="Open the restaurant's payable with its credit line",
)
async def open_restaurant(
    restaurant_id: uuid.UUID,
    body: CreditLine,
    session: SessionDep,
    tenant_id: TenantId,
    _: Writer,
) -> Account:
    return await wallets.open_restaurant(
        session, tenant_id, restaurant_id, credit_limit=body.credit_limit
    )


@router.post(
    "/settlements",
    status_code=202,
    response_model=SettlementStarted,
    summary="Settle a day (T+1); joins the run already under way",
)
async def start_settlement(
    body: SettlementRequest, resources: ResourcesDep, tenant_id: TenantId, _: Writer
) -> SettlementStarted:
    return await wallets.start_settlement(
        resources.temporal,
        tenant_id,
        data=body,
        task_queue=resources.settings.temporal_task_queue,
    )


@router.put(
    "/settlements/schedule",
    response_model=dict[str, str],
    summary="Settle this tenant daily at a local time",
)
async def schedule_settlements(
    body: SettlementScheduleCreate, resources: ResourcesDep, tenant_id: TenantId, _: Writer
) -> dict[str, str]:
    schedule_id = await wallets.schedule_settlements(
        resources.temporal,
        tenant_id,
        data=body,
        task_queue=resources.settings.temporal_task_queue,
    )
    return {"schedule_id": schedule_id}


@router.get("/settlements/{settlement_date}", response_model=SettlementRun)
async def get_settlement(
    settlement_date: date, session: SessionDep, tenant_id: TenantId, _: Reader
) -> SettlementRun:
    return await wallets.settlement(session, tenant_id, settlement_date)


@router.get(
    "/settlements/{settlement_date}/statements/{restaurant_id}",
    response_model=SettlementStatement,
    responses={200: {"content": {"text/csv": {}}}},
    summary="A restaurant's statement of a settlement, as JSON or CSV",
)
async def get_settlement_statement(
    settlement_date: date,
    restaurant_id: uuid.UUID,
    session: SessionDep,
    tenant_id: TenantId,
    _: Reader,
    as_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> SettlementStatement | Response:
    document, csv = await wallets.statement(session, tenant_id, settlement_date, restaurant_id)
    if as_ == "csv":
        return Response(csv, media_type="text/csv")
    return document
