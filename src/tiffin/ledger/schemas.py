from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

AccountType = Literal[
    "customer_wallet", "restaurant_payable", "rider_earnings", "rider_cash_collected",
    "platform_revenue", "platform_commission", "gateway_clearing", "tax_payable",
    "rewards_liability", "promotions_expense", "credit_line", "settlement_payout",
    "adjustments",
]  # fmt: skip
# The side an account's balance grows on: liabilities and income grow by credits, assets and
# expenses by debits.
DEBIT_NORMAL = frozenset({
    "rider_cash_collected", "gateway_clearing", "promotions_expense", "settlement_payout",
    "adjustments",
})  # fmt: skip
LEDGER = r"^[A-Z]{3}$"


class AccountCreate(BaseModel):
    id: uuid.UUID | None = Field(default=None, description="client-chosen (idempotent)")
    ledger: str = Field(pattern=LEDGER, description="currency (INR) or PTS for points")
    type: AccountType
    owner_type: str | None = Field(default=None, max_length=32)
    owner_id: str | None = Field(default=None, max_length=64)
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False
    credit_limit: int = Field(default=0, ge=0)


class Account(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    ledger: str
    type: str
    owner_type: str | None
    owner_id: str | None
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    credit_limit: int
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int
    balance: int = Field(description="posted, on the account's normal side")
    available: int = Field(description="posted less what pending transfers hold")


class TransferCreate(BaseModel):
    id: uuid.UUID = Field(description="client-chosen: the same id is the same transfer")
    kind: Literal["single", "pending", "post", "void"] = "single"
    debit_account_id: uuid.UUID | None = None
    credit_account_id: uuid.UUID | None = None
    amount: int = Field(default=0, ge=0, description="minor units; 0 on post = all of it")
    ledger: str = Field(default="", pattern=r"^([A-Z]{3})?$")
    code: str = Field(default="", max_length=64)
    pending_id: uuid.UUID | None = None
    timeout_seconds: int = Field(default=0, ge=0, le=30 * 86400)
    user_data: dict[str, Any] = Field(default_factory=dict)


class TransferBatch(BaseModel):
    transfers: list[TransferCreate] = Field(min_length=1, max_length=8190)
    linked: bool = Field(default=False, description="all or nothing")


class TransferResult(BaseModel):
    id: uuid.UUID
    result: str


class Transfer(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: int
    ledger: str
    code: str
    pending_id: uuid.UUID | None
    timeout_seconds: int
    expires_at: datetime | None
    user_data: dict[str, Any]
    timestamp: datetime


class StatementEntry(BaseModel):
    transfer_id: uuid.UUID
    timestamp: datetime
    code: str
    amount: int = Field(description="signed on the account's normal side")
    balance_after: int
    counterparty_account_id: uuid.UUID
    user_data: dict[str, Any]


class Statement(BaseModel):
    account: Account
    entries: list[StatementEntry]
    next_cursor: str | None


class Adjustment(BaseModel):
    id: uuid.UUID
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: int = Field(gt=0)
    reason: str = Field(min_length=3, max_length=500)


# -- wallets, order money and settlements (tiffin.ledger.wallets) ------------------------------
DEFAULT_TIMEZONE = "Asia/Kolkata"
BusinessKey = Annotated[str, Field(min_length=1, max_length=64)]


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown IANA time zone {value!r}") from e
    return value


TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_timezone)]


class WalletBalance(BaseModel):
    customer_id: uuid.UUID
    ledger: str
    cash: int = Field(description="posted balance of the customer's own money")
    promotional: int = Field(description="posted balance of unexpired cashback and promotions")
    held: int = Field(description="reserved by checkouts not yet delivered or cancelled")
    available: int = Field(description="what a checkout can spend now")


class RiderBalance(BaseModel):
    rider_id: uuid.UUID
    ledger: str
    earnings: int = Field(description="what the platform owes the rider")
    cash_owed: int = Field(description="cash collected on delivery and not yet deposited")


class RestaurantBalance(BaseModel):
    restaurant_id: uuid.UUID
    ledger: str
    balance: int = Field(description="what the platform owes the restaurant (negative: drawn)")
    available: int
    credit_limit: int


class CreditLine(BaseModel):
    credit_limit: int = Field(default=0, ge=0, description="how far payouts and charges may draw")


class TopUpCreate(BaseModel):
    payment_id: BusinessKey = Field(description="the captured payment: one top-up per payment")
    amount: int = Field(gt=0)


class PromotionGrant(BaseModel):
    key: BusinessKey = Field(description="campaign or order key: one grant per key")
    kind: Literal["cashback", "promo_credit"]
    amount: int = Field(gt=0)
    expires_at: AwareDatetime


class WalletPaymentCreate(BaseModel):
    customer_id: uuid.UUID
    amount: int = Field(gt=0)
    timeout_seconds: int = Field(default=3600, ge=60, le=7 * 86400)


class WalletPayment(BaseModel):
    order_id: uuid.UUID
    customer_id: uuid.UUID
    amount: int
    promotional: int = Field(description="held from promotional credit (spent first)")
    cash: int
    hold_ids: list[uuid.UUID]


class OrderDelivery(BaseModel):
    """What a delivered order's money becomes. The customer paid subtotal + tax + delivery fee;
    the restaurant is owed the subtotal less the platform's commission."""

    restaurant_id: uuid.UUID
    payment: Literal["online", "wallet", "cod"]
    customer_id: uuid.UUID | None = None
    subtotal: int = Field(ge=0)
    commission: int = Field(default=0, ge=0)
    tax: int = Field(default=0, ge=0)
    delivery_fee: int = Field(default=0, ge=0)
    rider_id: uuid.UUID | None = None
    rider_fee: int = Field(default=0, ge=0)

    @property
    def total(self) -> int:
        return self.subtotal + self.tax + self.delivery_fee

    @model_validator(mode="after")
    def _consistent(self) -> OrderDelivery:
        if self.commission > self.subtotal:
            raise ValueError("commission exceeds the subtotal")
        if self.total == 0:
            raise ValueError("an order with nothing to pay has no money to split")
        if (self.payment == "cod" or self.rider_fee) and self.rider_id is None:
            raise ValueError("cash on delivery and rider fees need rider_id")
        if self.payment == "wallet" and self.customer_id is None:
            raise ValueError("a wallet payment needs customer_id")
        return self


class RefundCreate(BaseModel):
    refund_id: BusinessKey
    order_id: uuid.UUID
    customer_id: uuid.UUID
    amount: int = Field(gt=0)
    destination: Literal["wallet", "source"]
    charged_to: Literal["restaurant", "platform", "gateway"] = Field(
        description="who gives the money back: the restaurant's payable, the platform's "
        "revenue, or (an order never delivered) the payment still at the gateway"
    )
    restaurant_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RefundCreate:
        if self.charged_to == "restaurant" and self.restaurant_id is None:
            raise ValueError("a refund charged to the restaurant needs restaurant_id")
        if self.charged_to == "gateway" and self.destination == "source":
            raise ValueError("money still at the gateway goes back there without the ledger")
        return self


class CashDeposit(BaseModel):
    deposit_id: BusinessKey
    amount: int = Field(gt=0)


class SettlementRequest(BaseModel):
    settlement_date: date | None = Field(
        default=None, description="the day the settlement is made (T+1); default: today"
    )
    timezone: TimeZone = DEFAULT_TIMEZONE


class SettlementScheduleCreate(BaseModel):
    timezone: TimeZone = DEFAULT_TIMEZONE
    hour: int = Field(default=2, ge=0, le=23, description="local time the daily run starts")
    minute: int = Field(default=0, ge=0, le=59)


class SettlementStarted(BaseModel):
    workflow_id: str
    run_id: str | None


# Temporal payloads: one Pydantic input per workflow and activity.
class SettlementInput(BaseModel):
    tenant_id: uuid.UUID
    settlement_date: date = Field(description="covers movements up to this day's start")
    timezone: TimeZone = DEFAULT_TIMEZONE

    @property
    def workflow_id(self) -> str:
        return f"settlement-{self.tenant_id}-{self.settlement_date.isoformat()}"


class DailySettlementInput(BaseModel):
    tenant_id: uuid.UUID
    timezone: TimeZone = DEFAULT_TIMEZONE


class SettlementPlan(BaseModel):
    tenant_id: uuid.UUID
    settlement_date: date
    period_start: datetime
    cutoff: datetime
    restaurants: list[uuid.UUID]


class PayoutInput(BaseModel):
    tenant_id: uuid.UUID
    settlement_date: date
    cutoff: datetime
    restaurant_id: uuid.UUID


class RestaurantPayout(BaseModel):
    restaurant_id: uuid.UUID
    ledger: str
    amount: int
    transfer_id: uuid.UUID | None = Field(description="none when nothing was owed")


class StatementInput(BaseModel):
    tenant_id: uuid.UUID
    settlement_date: date
    period_start: datetime
    cutoff: datetime
    payout: RestaurantPayout


class SettlementSummary(BaseModel):
    tenant_id: uuid.UUID
    settlement_date: date
    status: str
    restaurants_paid: int
    total_paid: int
    ledger: str


class StatementLine(BaseModel):
    transfer_id: uuid.UUID
    timestamp: datetime
    code: str
    order_id: str | None
    amount: int = Field(description="signed: what the movement added to the restaurant's due")


class SettlementStatement(BaseModel):
    restaurant_id: uuid.UUID
    settlement_date: date
    period_start: datetime
    cutoff: datetime
    ledger: str
    lines: list[StatementLine]
    credits: int
    debits: int
    payout_amount: int
    payout_transfer_id: uuid.UUID | None


class SettlementStatementRef(BaseModel):
    restaurant_id: uuid.UUID
    payout_amount: int
    payout_transfer_id: uuid.UUID | None


class SettlementRun(BaseModel):
    settlement_date: date
    timezone: str
    period_start: datetime
    cutoff: datetime
    ledger: str
    status: str
    restaurants_paid: int
    total_paid: int
    started_at: datetime
    completed_at: datetime | None
    statements: list[SettlementStatementRef]
