"""Wallets and the money of orders, restaurants and riders, as ledger transfers.

Nothing here keeps a balance. Every movement is a ledger transfer whose id derives from a
business key (uuid5 of tenant and key), so a retried call is the same transfer and the ledger
answers `exists`; accounts have deterministic ids too and are opened the first time a movement
needs them.

Promotional credit (cashback, promo_credit) sits in a second wallet account per customer:
posted at once, spendable at once, spent before the customer's own money. Expiry is a
scheduled reversal (`expire_promotions`), not a pending transfer: a pending credit cannot be
spent, and posting part of one would release the rest. The reversal takes back only what is
unspent and never more than the account holds, so the wallet never goes negative.

Settlement is T+1: the run of day D pays each restaurant what was credited to its payable
before D's midnight in the tenant's time zone, less everything already debited (earlier
payouts, refunds) and held. Its payout has an id derived from (tenant, restaurant, D): however
often the run is retried or restarted, the ledger stores that payout once.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from tiffin.infra.clock import clock
from tiffin.infra.db import tenant_transaction
from tiffin.ledger.engine import Transfer as StoredTransfer
from tiffin.ledger.errors import (
    AccountNotFound,
    CreditLineMismatch,
    InsufficientFunds,
    OrderAmountMismatch,
    PayoutRaced,
    PayoutRefused,
    PromotionAlreadyExpired,
    SettlementNotDue,
    SettlementNotFound,
    TransferRefused,
    WalletPaymentNotFound,
)
from tiffin.ledger.models import SettlementRun as SettlementRunRow
from tiffin.ledger.models import SettlementStatementRow, WalletPromotion
from tiffin.ledger.repository import LedgerRepository, WalletRepository
from tiffin.ledger.schemas import (
    Account,
    AccountCreate,
    AccountType,
    CashDeposit,
    DailySettlementInput,
    OrderDelivery,
    PayoutInput,
    PromotionGrant,
    RefundCreate,
    RestaurantBalance,
    RestaurantPayout,
    RiderBalance,
    SettlementInput,
    SettlementPlan,
    SettlementRequest,
    SettlementRun,
    SettlementScheduleCreate,
    SettlementStarted,
    SettlementStatement,
    SettlementStatementRef,
    SettlementSummary,
    StatementInput,
    StatementLine,
    TopUpCreate,
    TransferCreate,
    TransferResult,
    WalletBalance,
    WalletPayment,
    WalletPaymentCreate,
)
from tiffin.ledger.service import ledger

CURRENCY = "INR"
POINTS = "PTS"
SETTLEMENT_WORKFLOW = "SettlementWorkflow"
DAILY_SETTLEMENT_WORKFLOW = "DailySettlementWorkflow"

# Fixed forever: every derived id depends on it.
_NAMESPACE = uuid.UUID("28219f56-31bc-536b-98fb-edb5a5e1a12e")
_OK = frozenset({"ok", "exists"})
_ACCOUNT_MISSING = frozenset({"debit_account_not_found", "credit_account_not_found"})
_EXCEEDS = frozenset({"exceeds_credits", "exceeds_debits", "exceeds_credit_limit"})
CSV_COLUMNS = (
    "restaurant_id",
    "settlement_date",
    "timestamp",
    "transfer_id",
    "code",
    "order_id",
    "amount_minor",
    "currency",
)
PLATFORM_ACCOUNTS: tuple[AccountType, ...] = (
    "gateway_clearing",
    "platform_revenue",
    "platform_commission",
    "tax_payable",
    "promotions_expense",
    "settlement_payout",
    "rewards_liability",
)


def business_id(tenant_id: uuid.UUID, *key: object) -> uuid.UUID:
    """The id of the thing a business key names, the same on every retry."""
    return uuid.uuid5(_NAMESPACE, "/".join([str(tenant_id), *(str(k) for k in key)]))


# -- accounts --------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountSpec:
    """An owner's account: its id follows from (tenant, type, owner), its rules from its role."""

    type: AccountType
    owner_type: str
    owner_id: str
    ledger: str = CURRENCY
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False
    credit_limit: int = field(default=0, compare=False)

    def id(self, tenant_id: uuid.UUID) -> uuid.UUID:
        return business_id(tenant_id, "account", self.type, self.owner_type, self.owner_id)

    def create(self, tenant_id: uuid.UUID) -> AccountCreate:
        return AccountCreate(
            id=self.id(tenant_id),
            ledger=self.ledger,
            type=self.type,
            owner_type=self.owner_type,
            owner_id=self.owner_id,
            debits_must_not_exceed_credits=self.debits_must_not_exceed_credits,
            credits_must_not_exceed_debits=self.credits_must_not_exceed_debits,
            credit_limit=self.credit_limit,
        )


def customer_wallet(customer_id: uuid.UUID) -> AccountSpec:
    return AccountSpec(
        "customer_wallet", "customer", str(customer_id), debits_must_not_exceed_credits=True
    )


def customer_promotions(customer_id: uuid.UUID) -> AccountSpec:
    return AccountSpec(
        "customer_wallet",
        "customer_promotions",
        str(customer_id),
        debits_must_not_exceed_credits=True,
    )


def restaurant_payable(restaurant_id: uuid.UUID, *, credit_limit: int = 0) -> AccountSpec:
    return AccountSpec(
        "restaurant_payable",
        "restaurant",
        str(restaurant_id),
        debits_must_not_exceed_credits=True,
        credit_limit=credit_limit,
    )


def rider_earnings(rider_id: uuid.UUID) -> AccountSpec:
    return AccountSpec(
        "rider_earnings", "rider", str(rider_id), debits_must_not_exceed_credits=True
    )


def rider_cash(rider_id: uuid.UUID) -> AccountSpec:
    """Cash the rider collected and owes until deposited: a deposit can never exceed it."""
    return AccountSpec(
        "rider_cash_collected", "rider", str(rider_id), credits_must_not_exceed_debits=True
    )


def platform(type_: AccountType) -> AccountSpec:
    return AccountSpec(
        type_, "platform", "platform", POINTS if type_ == "rewards_liability" else CURRENCY
    )


GATEWAY = platform("gateway_clearing")


@dataclass
class _Batch:
    """Transfers of one call and the accounts they need, for `WalletService._submit`."""

    tenant_id: uuid.UUID
    transfers: list[TransferCreate] = field(default_factory=list)
    specs: dict[uuid.UUID, AccountSpec] = field(default_factory=dict)

    def move(
        self,
        key: Sequence[object],
        debit: AccountSpec,
        credit: AccountSpec,
        amount: int,
        code: str,
        *,
        kind: Literal["single", "pending"] = "single",
        timeout_seconds: int = 0,
        **user_data: Any,
    ) -> uuid.UUID:
        transfer_id = business_id(self.tenant_id, *key)
        for spec in (debit, credit):
            self.specs[spec.id(self.tenant_id)] = spec
        self.transfers.append(
            TransferCreate(
                id=transfer_id,
                kind=kind,
                debit_account_id=debit.id(self.tenant_id),
                credit_account_id=credit.id(self.tenant_id),
                amount=amount,
                ledger=debit.ledger,
                code=code,
                timeout_seconds=timeout_seconds,
                user_data=user_data,
            )
        )
        return transfer_id

    def resolve(
        self, key: Sequence[object], kind: Literal["post", "void"], pending_id: uuid.UUID
    ) -> None:
        self.transfers.append(
            TransferCreate(
                id=business_id(self.tenant_id, *key),
                kind=kind,
                pending_id=pending_id,
            )
        )


def _refused(results: Iterable[TransferResult]) -> TransferRefused:
    return TransferRefused([r.model_dump(mode="json") for r in results])


def _all_ok(results: Sequence[TransferResult]) -> bool:
    return all(r.result in _OK for r in results)


def settlement_window(settlement_date: date, timezone: str) -> tuple[datetime, datetime]:
    """[start of the previous local day, start of `settlement_date`), in UTC."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(settlement_date - timedelta(days=1), time(), tzinfo=zone)
    cutoff = datetime.combine(settlement_date, time(), tzinfo=zone)
    return start.astimezone(UTC), cutoff.astimezone(UTC)


def statement_csv(statement: SettlementStatement) -> str:
    """One row per movement of the period, then the payout; amounts in minor units."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    head = (str(statement.restaurant_id), statement.settlement_date.isoformat())
    rows = [
        (line.timestamp.isoformat(), line.transfer_id, line.code, line.order_id, line.amount)
        for line in statement.lines
    ]
    if statement.payout_transfer_id is not None:
        rows.append(
            ("", statement.payout_transfer_id, "settlement_payout", None, -statement.payout_amount)
        )
    for at, transfer_id, code, order_id, amount in rows:
        writer.writerow(
            (*head, at, str(transfer_id), code, order_id or "", amount, statement.ledger)
        )
    return out.getvalue()


class WalletService:
    # -- accounts -----------------------------------------------------------------------------
    async def open_customer(
        self, session: AsyncSession, tenant_id: uuid.UUID, customer_id: uuid.UUID
    ) -> list[Account]:
        """The customer's wallet and promotional wallet (get or create)."""
        return await self._ensure(
            session, tenant_id, [customer_wallet(customer_id), customer_promotions(customer_id)]
        )

    async def open_restaurant(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        restaurant_id: uuid.UUID,
        *,
        credit_limit: int = 0,
    ) -> Account:
        """The restaurant's payable; `credit_limit` is its credit line (how far charges and
        payouts may take it below zero)."""
        [account] = await self._ensure(
            session, tenant_id, [restaurant_payable(restaurant_id, credit_limit=credit_limit)]
        )
        if account.credit_limit != credit_limit:
            raise CreditLineMismatch(f"the payable's credit line is {account.credit_limit}")
        return account

    async def open_rider(
        self, session: AsyncSession, tenant_id: uuid.UUID, rider_id: uuid.UUID
    ) -> list[Account]:
        """The rider's earnings and cash-collected accounts."""
        return await self._ensure(
            session, tenant_id, [rider_earnings(rider_id), rider_cash(rider_id)]
        )

    async def open_platform(self, session: AsyncSession, tenant_id: uuid.UUID) -> list[Account]:
        """The tenant's platform accounts (rewards_liability in points)."""
        return await self._ensure(session, tenant_id, [platform(t) for t in PLATFORM_ACCOUNTS])

    async def _ensure(
        self, session: AsyncSession, tenant_id: uuid.UUID, specs: Iterable[AccountSpec]
    ) -> list[Account]:
        accounts = []
        for spec in specs:
            try:
                async with session.begin_nested():
                    account = await ledger.create_account(
                        session, tenant_id, data=spec.create(tenant_id)
                    )
            except IntegrityError:  # a concurrent call opened it between our read and insert
                account = await ledger.account(session, tenant_id, spec.id(tenant_id))
            accounts.append(account)
        return accounts

    async def _submit(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        batch: _Batch,
        *,
        linked: bool,
    ) -> list[TransferResult]:
        """Submits the batch; opens the accounts it names if one is missing and submits again
        (the usual path costs one writer round trip, not an account lookup)."""
        results = await ledger.submit(batch.tenant_id, batch.transfers, linked=linked)
        if any(r.result in _ACCOUNT_MISSING for r in results):
            async with tenant_transaction(sessionmaker, batch.tenant_id) as session:
                await self._ensure(session, batch.tenant_id, batch.specs.values())
            results = await ledger.submit(batch.tenant_id, batch.transfers, linked=linked)
        return results

    async def _must(
        self, sessionmaker: async_sessionmaker[AsyncSession], batch: _Batch
    ) -> list[TransferResult]:
        """All of the batch or none of it; a refusal raises `TransferRefused` (409)."""
        results = await self._submit(sessionmaker, batch, linked=True)
        if not _all_ok(results):
            raise _refused(results)
        return results

    # -- reads --------------------------------------------------------------------------------
    async def wallet(
        self, session: AsyncSession, tenant_id: uuid.UUID, customer_id: uuid.UUID
    ) -> WalletBalance:
        cash, promo = await self._views(
            session, tenant_id, customer_wallet(customer_id), customer_promotions(customer_id)
        )
        return WalletBalance(
            customer_id=customer_id,
            ledger=CURRENCY,
            cash=cash.balance if cash else 0,
            promotional=promo.balance if promo else 0,
            held=sum(a.debits_pending for a in (cash, promo) if a),
            available=sum(a.available for a in (cash, promo) if a),
        )

    async def rider(
        self, session: AsyncSession, tenant_id: uuid.UUID, rider_id: uuid.UUID
    ) -> RiderBalance:
        earnings, owed = await self._views(
            session, tenant_id, rider_earnings(rider_id), rider_cash(rider_id)
        )
        return RiderBalance(
            rider_id=rider_id,
            ledger=CURRENCY,
            earnings=earnings.balance if earnings else 0,
            cash_owed=owed.balance if owed else 0,
        )

    async def restaurant(
        self, session: AsyncSession, tenant_id: uuid.UUID, restaurant_id: uuid.UUID
    ) -> RestaurantBalance:
        [payable] = await self._views(session, tenant_id, restaurant_payable(restaurant_id))
        return RestaurantBalance(
            restaurant_id=restaurant_id,
            ledger=CURRENCY,
            balance=payable.balance if payable else 0,
            available=payable.available if payable else 0,
            credit_limit=payable.credit_limit if payable else 0,
        )

    async def _views(
        self, session: AsyncSession, tenant_id: uuid.UUID, *specs: AccountSpec
    ) -> list[Account | None]:
        views: list[Account | None] = []
        for spec in specs:
            try:
                views.append(await ledger.account(session, tenant_id, spec.id(tenant_id)))
            except AccountNotFound:  # never moved money yet
                views.append(None)
        return views

    # -- customer wallet ----------------------------------------------------------------------
    async def top_up(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        customer_id: uuid.UUID,
        data: TopUpCreate,
    ) -> TransferResult:
        """A captured payment becomes wallet money, once per payment id."""
        batch = _Batch(tenant_id)
        batch.move(
            ("top-up", data.payment_id),
            GATEWAY,
            customer_wallet(customer_id),
            data.amount,
            "wallet_top_up",
            payment_id=data.payment_id,
        )
        [result] = await self._must(sessionmaker, batch)
        return result

    async def grant_promotion(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        customer_id: uuid.UUID,
        data: PromotionGrant,
    ) -> TransferResult:
        """Cashback or promotional credit, spendable at once, taken back when it expires
        unspent. The expiry schedule is written after the money: a retry fills it in."""
        if data.expires_at <= clock.now():
            raise PromotionAlreadyExpired()
        promo = customer_promotions(customer_id)
        batch = _Batch(tenant_id)
        grant_id = batch.move(
            ("promotion", data.key),
            platform("promotions_expense"),
            promo,
            data.amount,
            data.kind,
            promotion=data.key,
            expires_at=data.expires_at.isoformat(),
        )
        [result] = await self._must(sessionmaker, batch)
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            await WalletRepository.from_session(session).add_promotion(
                WalletPromotion(
                    tenant_id=tenant_id,
                    id=grant_id,
                    customer_id=customer_id,
                    account_id=promo.id(tenant_id),
                    kind=data.kind,
                    amount=data.amount,
                    expires_at=data.expires_at,
                )
            )
        return result

    async def expire_promotions(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        customer_id: uuid.UUID | None = None,
        limit: int = 500,
    ) -> int:
        """Takes back the unspent part of grants past their expiry (one customer's, or the
        tenant's); returns how many grants it settled.

        Promotional money is deemed spent soonest-expiring first, so what is left of a grant
        is the balance beyond the grants that expire after it. While a checkout holds some
        of that money the grant waits: the hold may yet be posted or voided."""
        account_id = customer_promotions(customer_id).id(tenant_id) if customer_id else None
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            due = await WalletRepository.from_session(session).due_promotions(
                tenant_id, clock.now(), account_id=account_id, limit=limit
            )
        settled = 0
        for _, grants in groupby(due, key=lambda g: g.account_id):
            for grant in grants:
                if not await self._expire(sessionmaker, tenant_id, grant):
                    break  # later grants of this account wait for this one
                settled += 1
        return settled

    async def _expire(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        grant: WalletPromotion,
    ) -> bool:
        reversal_id = business_id(tenant_id, "promotion-expiry", grant.id)
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            stored = await self._stored(session, tenant_id, reversal_id)
            if stored is None:
                account = await ledger.account(session, tenant_id, grant.account_id)
                later = await WalletRepository.from_session(session).promotions_after(grant)
                unspent = max(0, min(grant.amount, account.balance - later))
                if unspent > account.available:
                    return False
        if stored is None and unspent > 0:
            [result] = await ledger.submit(
                tenant_id,
                [
                    TransferCreate(
                        id=reversal_id,
                        debit_account_id=grant.account_id,
                        credit_account_id=platform("promotions_expense").id(tenant_id),
                        amount=unspent,
                        ledger=CURRENCY,
                        code="promotion_expired",
                        user_data={"grant_id": str(grant.id)},
                    )
                ],
            )
            if result.result in _EXCEEDS:  # spent in the meantime: the next sweep decides
                return False
            if result.result.startswith("exists_with_different"):  # another sweep won
                async with tenant_transaction(sessionmaker, tenant_id) as session:
                    stored = await self._stored(session, tenant_id, reversal_id)
            elif result.result not in _OK:
                raise _refused([result])
        clawed_back = stored.amount if stored else unspent
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            await WalletRepository.from_session(session).settle_promotion(
                tenant_id, grant.id, clawed_back=clawed_back, at=clock.now()
            )
        return True

    async def _stored(
        self, session: AsyncSession, tenant_id: uuid.UUID, transfer_id: uuid.UUID
    ) -> StoredTransfer | None:
        repo = LedgerRepository.from_session(session)
        return (await repo.transfers(tenant_id, [transfer_id])).get(transfer_id)

    # -- order money --------------------------------------------------------------------------
    def _hold_ids(self, tenant_id: uuid.UUID, order_id: uuid.UUID) -> dict[str, uuid.UUID]:
        return {
            part: business_id(tenant_id, "order", order_id, "hold", part)
            for part in ("promotional", "cash")
        }

    async def _holds(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        order_id: uuid.UUID,
    ) -> dict[str, StoredTransfer]:
        ids = self._hold_ids(tenant_id, order_id)
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            stored = await LedgerRepository.from_session(session).transfers(
                tenant_id, list(ids.values())
            )
        return {part: stored[i] for part, i in ids.items() if i in stored}

    async def pay_order(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        order_id: uuid.UUID,
        data: WalletPaymentCreate,
    ) -> WalletPayment:
        """Holds the order's total at checkout: promotional credit first, then the customer's
        money, as pending transfers into gateway clearing (the clearing every order's split
        starts from) that lapse after `timeout_seconds`."""
        promo, cash = customer_promotions(data.customer_id), customer_wallet(data.customer_id)
        ids = self._hold_ids(tenant_id, order_id)
        for _ in range(3):  # a concurrent spend or expiry may take the promotional part first
            holds = await self._holds(sessionmaker, tenant_id, order_id)
            if holds:  # a retried checkout: the holds are the answer
                return self._payment(order_id, data.customer_id, holds)
            await self.expire_promotions(sessionmaker, tenant_id, customer_id=data.customer_id)
            async with tenant_transaction(sessionmaker, tenant_id) as session:
                [promo_view] = await self._views(session, tenant_id, promo)
            promotional = min(max(promo_view.available, 0) if promo_view else 0, data.amount)
            batch = _Batch(tenant_id)
            for part, spec, amount in (
                ("promotional", promo, promotional),
                ("cash", cash, data.amount - promotional),
            ):
                if amount:
                    batch.move(
                        ("order", order_id, "hold", part),
                        spec,
                        GATEWAY,
                        amount,
                        "order_payment",
                        kind="pending",
                        timeout_seconds=data.timeout_seconds,
                        order_id=str(order_id),
                    )
            results = await self._submit(sessionmaker, batch, linked=True)
            if _all_ok(results):
                return WalletPayment(
                    order_id=order_id,
                    customer_id=data.customer_id,
                    amount=data.amount,
                    promotional=promotional,
                    cash=data.amount - promotional,
                    hold_ids=[r.id for r in results],
                )
            by_id = {r.id: r.result for r in results}
            if by_id.get(ids["cash"]) in _EXCEEDS:
                raise InsufficientFunds(_refused(results).detail)
            raced = by_id.get(ids["promotional"]) in _EXCEEDS or any(
                r.startswith("exists_with_different") for r in by_id.values()
            )
            if not raced:
                raise _refused(results)
        raise InsufficientFunds("the wallet kept changing during checkout; try again")

    def _payment(
        self, order_id: uuid.UUID, customer_id: uuid.UUID, holds: dict[str, StoredTransfer]
    ) -> WalletPayment:
        promotional = holds["promotional"].amount if "promotional" in holds else 0
        cash = holds["cash"].amount if "cash" in holds else 0
        return WalletPayment(
            order_id=order_id,
            customer_id=customer_id,
            amount=promotional + cash,
            promotional=promotional,
            cash=cash,
            hold_ids=[h.id for h in holds.values()],
        )

    async def deliver_order(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        order_id: uuid.UUID,
        data: OrderDelivery,
    ) -> list[TransferResult]:
        """One linked batch: the wallet holds posted (wallet payments), then the order's
        money from gateway clearing (or, cash on delivery, from the rider's cash account) to
        the restaurant (net of commission), commission, tax and delivery fee, and the rider's
        earning from platform revenue."""
        batch = _Batch(tenant_id)
        if data.payment == "wallet":
            holds = await self._holds(sessionmaker, tenant_id, order_id)
            if not holds:
                raise WalletPaymentNotFound()
            held = sum(h.amount for h in holds.values())
            if held != data.total:
                raise OrderAmountMismatch(f"held {held}, the delivered order totals {data.total}")
            for part, hold in holds.items():
                batch.resolve(("order", order_id, "post", part), "post", hold.id)
        source = GATEWAY
        if data.payment == "cod":
            assert data.rider_id is not None  # the schema requires it
            source = rider_cash(data.rider_id)
        for credit, amount, code in (
            (
                restaurant_payable(data.restaurant_id),
                data.subtotal - data.commission,
                "order_payable",
            ),
            (platform("platform_commission"), data.commission, "commission"),
            (platform("tax_payable"), data.tax, "tax"),
            (platform("platform_revenue"), data.delivery_fee, "delivery_fee"),
        ):
            if amount:
                batch.move(
                    ("order", order_id, code), source, credit, amount, code, order_id=str(order_id)
                )
        if data.rider_fee and data.rider_id:
            batch.move(
                ("order", order_id, "rider_earning"),
                platform("platform_revenue"),
                rider_earnings(data.rider_id),
                data.rider_fee,
                "rider_earning",
                order_id=str(order_id),
            )
        return await self._must(sessionmaker, batch)

    async def cancel_order(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        order_id: uuid.UUID,
    ) -> list[TransferResult]:
        """Releases the order's wallet holds. An order paid online holds nothing here: its
        money goes back through the gateway (or to the wallet, by `refund`)."""
        holds = await self._holds(sessionmaker, tenant_id, order_id)
        if not holds:
            return []
        batch = _Batch(tenant_id)
        for part, hold in holds.items():
            batch.resolve(("order", order_id, "void", part), "void", hold.id)
        results = await ledger.submit(tenant_id, batch.transfers, linked=True)
        # A hold past its timeout is released already (or by the next expiry sweep).
        if not all(r.result in _OK | {"pending_transfer_expired"} for r in results):
            raise _refused(results)
        return results

    async def refund(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        data: RefundCreate,
    ) -> TransferResult:
        """Money back to the customer's wallet, or to the source (out through gateway
        clearing), taken from whoever bears it."""
        if data.charged_to == "restaurant":
            assert data.restaurant_id is not None  # the schema requires it
            debit = restaurant_payable(data.restaurant_id)
        else:
            debit = platform("platform_revenue") if data.charged_to == "platform" else GATEWAY
        credit, code = (
            (customer_wallet(data.customer_id), "refund_to_wallet")
            if data.destination == "wallet"
            else (GATEWAY, "refund_to_source")
        )
        batch = _Batch(tenant_id)
        batch.move(
            ("refund", data.refund_id),
            debit,
            credit,
            data.amount,
            code,
            order_id=str(data.order_id),
            refund_id=data.refund_id,
            customer_id=str(data.customer_id),
        )
        [result] = await self._must(sessionmaker, batch)
        return result

    async def deposit_cash(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        rider_id: uuid.UUID,
        data: CashDeposit,
    ) -> TransferResult:
        """The rider hands in cash collected on delivery: their debt shrinks, the money is in
        clearing towards the platform's bank. Never more than they owe."""
        batch = _Batch(tenant_id)
        batch.move(
            ("cash-deposit", data.deposit_id),
            GATEWAY,
            rider_cash(rider_id),
            data.amount,
            "cash_deposit",
            deposit_id=data.deposit_id,
        )
        [result] = await self._must(sessionmaker, batch)
        return result

    # -- settlements: starting them -----------------------------------------------------------
    async def start_settlement(
        self,
        client: Client,
        tenant_id: uuid.UUID,
        *,
        data: SettlementRequest,
        task_queue: str,
    ) -> SettlementStarted:
        """Starts the day's settlement, or joins the one running. A day settled before
        answers with that run (a failed or terminated one is started afresh)."""
        day = data.settlement_date or clock.now().astimezone(ZoneInfo(data.timezone)).date()
        if settlement_window(day, data.timezone)[1] > clock.now():
            raise SettlementNotDue(f"{day} has not begun in {data.timezone}")
        run = SettlementInput(tenant_id=tenant_id, settlement_date=day, timezone=data.timezone)
        try:
            handle = await client.start_workflow(
                SETTLEMENT_WORKFLOW,
                run,
                id=run.workflow_id,
                task_queue=task_queue,
                result_type=SettlementSummary,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
            return SettlementStarted(workflow_id=handle.id, run_id=handle.result_run_id)
        except WorkflowAlreadyStartedError:  # completed before
            described = await client.get_workflow_handle(run.workflow_id).describe()
            return SettlementStarted(workflow_id=run.workflow_id, run_id=described.run_id)

    async def schedule_settlements(
        self,
        client: Client,
        tenant_id: uuid.UUID,
        *,
        data: SettlementScheduleCreate,
        task_queue: str,
    ) -> str:
        """A Temporal schedule that settles the tenant daily at a local time; returns its
        id. Setting it again replaces the time and zone."""
        schedule_id = f"settlement-schedule-{tenant_id}"
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                DAILY_SETTLEMENT_WORKFLOW,
                DailySettlementInput(tenant_id=tenant_id, timezone=data.timezone),
                id=f"settlement-daily-{tenant_id}",
                task_queue=task_queue,
            ),
            spec=ScheduleSpec(
                calendars=[
                    ScheduleCalendarSpec(
                        hour=[ScheduleRange(data.hour)], minute=[ScheduleRange(data.minute)]
                    )
                ],
                time_zone_name=data.timezone,
            ),
            policy=SchedulePolicy(
                overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)
            ),
        )
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            await client.get_schedule_handle(schedule_id).update(replace)
        return schedule_id

    # -- settlements: the activities' work ----------------------------------------------------
    async def open_settlement(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        settlement_date: date,
        timezone: str,
    ) -> SettlementPlan:
        """Records the run (the first record wins, so a restart keeps its window) and lists
        the restaurants to settle."""
        period_start, cutoff = settlement_window(settlement_date, timezone)
        if cutoff > clock.now():
            raise SettlementNotDue(f"{settlement_date} has not begun in {timezone}")
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            repo = WalletRepository.from_session(session)
            run = await repo.add_settlement_run(
                SettlementRunRow(
                    tenant_id=tenant_id,
                    settlement_date=settlement_date,
                    timezone=timezone,
                    period_start=period_start,
                    cutoff=cutoff,
                    ledger=CURRENCY,
                    status="running",
                )
            )
            payables = await repo.accounts_of_type(
                tenant_id, "restaurant_payable", created_before=run.cutoff
            )
        return SettlementPlan(
            tenant_id=tenant_id,
            settlement_date=settlement_date,
            period_start=run.period_start,
            cutoff=run.cutoff,
            restaurants=[
                uuid.UUID(a.owner_id)
                for a in payables
                if a.owner_type == "restaurant" and a.owner_id and a.ledger == CURRENCY
            ],
        )

    async def pay_restaurant(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        data: PayoutInput,
    ) -> RestaurantPayout:
        """Pays what the restaurant was owed at the cutoff: credits before it, less every
        debit so far (earlier payouts included) and what is held. The payout's id is the
        business key, so a second attempt finds the first one's transfer."""
        payable = restaurant_payable(data.restaurant_id)
        payout_id = business_id(tenant_id, "payout", data.restaurant_id, data.settlement_date)
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            stored = await self._stored(session, tenant_id, payout_id)
            if stored is not None:
                return self._payout(data.restaurant_id, stored)
            row = await LedgerRepository.from_session(session).account(
                tenant_id, payable.id(tenant_id)
            )
            if row is None:
                return self._payout(data.restaurant_id, None)
            credited = await WalletRepository.from_session(session).credits_before(
                tenant_id, row.id, data.cutoff
            )
            owed = credited - row.debits_posted - row.debits_pending
        if owed <= 0:
            return self._payout(data.restaurant_id, None)
        batch = _Batch(tenant_id)
        batch.move(
            ("payout", data.restaurant_id, data.settlement_date),
            payable,
            platform("settlement_payout"),
            owed,
            "settlement_payout",
            restaurant_id=str(data.restaurant_id),
            settlement_date=data.settlement_date.isoformat(),
        )
        [result] = await self._submit(sessionmaker, batch, linked=False)
        if result.result in _OK or result.result.startswith("exists_with_different"):
            async with tenant_transaction(sessionmaker, tenant_id) as session:
                stored = await self._stored(session, tenant_id, payout_id)
                return self._payout(data.restaurant_id, stored)
        if result.result in _EXCEEDS:
            raise PayoutRaced(result.result)
        raise PayoutRefused(result.result)

    def _payout(self, restaurant_id: uuid.UUID, stored: StoredTransfer | None) -> RestaurantPayout:
        return RestaurantPayout(
            restaurant_id=restaurant_id,
            ledger=CURRENCY,
            amount=stored.amount if stored else 0,
            transfer_id=stored.id if stored else None,
        )

    async def write_statement(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        data: StatementInput,
    ) -> bool:
        """Stores the restaurant's statement of the run (JSON and CSV), once; a restaurant
        with no movement in the period and nothing paid gets none. True if one exists."""
        restaurant_id = data.payout.restaurant_id
        payable_id = restaurant_payable(restaurant_id).id(tenant_id)
        # A run made before its cutoff has passed in real time would list its own payout.
        own_payout = business_id(tenant_id, "payout", restaurant_id, data.settlement_date)
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            repo = WalletRepository.from_session(session)
            if await repo.statement(tenant_id, data.settlement_date, restaurant_id):
                return True
            lines = [
                StatementLine(
                    transfer_id=t.id,
                    timestamp=t.timestamp,
                    code=t.code,
                    order_id=(t.user_data or {}).get("order_id"),
                    amount=t.amount if t.credit_account_id == payable_id else -t.amount,
                )
                for t in await repo.movements(tenant_id, payable_id, data.period_start, data.cutoff)
                if t.id != own_payout
            ]
            if not lines and not data.payout.amount:
                return False
            statement = SettlementStatement(
                restaurant_id=restaurant_id,
                settlement_date=data.settlement_date,
                period_start=data.period_start,
                cutoff=data.cutoff,
                ledger=data.payout.ledger,
                lines=lines,
                credits=sum(line.amount for line in lines if line.amount > 0),
                debits=-sum(line.amount for line in lines if line.amount < 0),
                payout_amount=data.payout.amount,
                payout_transfer_id=data.payout.transfer_id,
            )
            await repo.add_statement(
                SettlementStatementRow(
                    tenant_id=tenant_id,
                    settlement_date=data.settlement_date,
                    restaurant_id=restaurant_id,
                    ledger=statement.ledger,
                    payout_amount=statement.payout_amount,
                    payout_transfer_id=statement.payout_transfer_id,
                    document=statement.model_dump(mode="json"),
                    csv=statement_csv(statement),
                )
            )
        return True

    async def close_settlement(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
        *,
        settlement_date: date,
    ) -> SettlementSummary:
        async with tenant_transaction(sessionmaker, tenant_id) as session:
            run = await WalletRepository.from_session(session).complete_settlement_run(
                tenant_id, settlement_date, at=clock.now()
            )
            if run is None:
                raise SettlementNotFound()
            return SettlementSummary(
                tenant_id=tenant_id,
                settlement_date=settlement_date,
                status=run.status,
                restaurants_paid=run.restaurants_paid,
                total_paid=run.total_paid,
                ledger=run.ledger,
            )

    # -- settlements: reading them ------------------------------------------------------------
    async def settlement(
        self, session: AsyncSession, tenant_id: uuid.UUID, settlement_date: date
    ) -> SettlementRun:
        repo = WalletRepository.from_session(session)
        run = await repo.settlement_run(tenant_id, settlement_date)
        if run is None:
            raise SettlementNotFound()
        return SettlementRun(
            settlement_date=run.settlement_date,
            timezone=run.timezone,
            period_start=run.period_start,
            cutoff=run.cutoff,
            ledger=run.ledger,
            status=run.status,
            restaurants_paid=run.restaurants_paid,
            total_paid=run.total_paid,
            started_at=run.started_at,
            completed_at=run.completed_at,
            statements=[
                SettlementStatementRef(
                    restaurant_id=s.restaurant_id,
                    payout_amount=s.payout_amount,
                    payout_transfer_id=s.payout_transfer_id,
                )
                for s in await repo.statements(tenant_id, settlement_date)
            ],
        )

    async def statement(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        settlement_date: date,
        restaurant_id: uuid.UUID,
    ) -> tuple[SettlementStatement, str]:
        """A restaurant's statement of a settlement: the document and its CSV."""
        row = await WalletRepository.from_session(session).statement(
            tenant_id, settlement_date, restaurant_id
        )
        if row is None:
            raise SettlementNotFound("no statement for this restaurant on that day")
        return SettlementStatement.model_validate(row.document), row.csv


wallets = WalletService()
