from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
