"""Transfer evaluation, pure and in memory: TigerBeetle's rules on plain Python objects.

The writer loads the touched accounts (locked) and the transfers a batch refers to, runs
`Engine.apply` for each request in order against balances as they evolve inside the batch,
and writes what it accepted. Property tests drive the same engine directly.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

MAX_AMOUNT = 2**63 - 1


class Result(StrEnum):
    ok = "ok"
    exists = "exists"
    exists_with_different_debit_account_id = "exists_with_different_debit_account_id"
    exists_with_different_credit_account_id = "exists_with_different_credit_account_id"
    exists_with_different_amount = "exists_with_different_amount"
    exists_with_different_ledger = "exists_with_different_ledger"
    exists_with_different_code = "exists_with_different_code"
    exists_with_different_kind = "exists_with_different_kind"
    exists_with_different_pending_id = "exists_with_different_pending_id"
    exists_with_different_timeout = "exists_with_different_timeout"
    exists_with_different_user_data = "exists_with_different_user_data"
    amount_must_not_be_zero = "amount_must_not_be_zero"
    amount_too_large = "amount_too_large"
    accounts_must_be_different = "accounts_must_be_different"
    debit_account_not_found = "debit_account_not_found"
    credit_account_not_found = "credit_account_not_found"
    accounts_must_have_the_same_ledger = "accounts_must_have_the_same_ledger"
    transfer_must_have_the_same_ledger_as_accounts = (
        "transfer_must_have_the_same_ledger_as_accounts"
    )
    exceeds_credits = "exceeds_credits"
    exceeds_debits = "exceeds_debits"
    exceeds_credit_limit = "exceeds_credit_limit"
    pending_id_required = "pending_id_required"
    pending_transfer_not_found = "pending_transfer_not_found"
    pending_transfer_not_pending = "pending_transfer_not_pending"
    pending_transfer_already_posted = "pending_transfer_already_posted"
    pending_transfer_already_voided = "pending_transfer_already_voided"
    pending_transfer_expired = "pending_transfer_expired"
    pending_transfer_not_expired = "pending_transfer_not_expired"
    exceeds_pending_transfer_amount = "exceeds_pending_transfer_amount"
    linked_event_failed = "linked_event_failed"


@dataclass
class Account:
    id: uuid.UUID
    ledger: str
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False
    credit_limit: int = 0
    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0

    def balances(self) -> tuple[int, int, int, int]:
        return self.debits_posted, self.credits_posted, self.debits_pending, self.credits_pending


@dataclass(frozen=True)
class Transfer:
    """A request, and once accepted, the stored transfer (post/void/expire carry the pending
    transfer's accounts and, for void/expire, its amount)."""

    id: uuid.UUID
    debit_account_id: uuid.UUID | None
    credit_account_id: uuid.UUID | None
    amount: int
    ledger: str
    code: str
    kind: str = "single"  # single | pending | post | void | expire
    pending_id: uuid.UUID | None = None
    timeout_seconds: int = 0
    user_data: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None

    def same_as(self, stored: Transfer) -> Result:
        """How a retried request compares with the transfer stored under its id."""
        checks = (
            ("kind", Result.exists_with_different_kind),
            ("pending_id", Result.exists_with_different_pending_id),
            ("debit_account_id", Result.exists_with_different_debit_account_id),
            ("credit_account_id", Result.exists_with_different_credit_account_id),
            ("amount", Result.exists_with_different_amount),
            ("ledger", Result.exists_with_different_ledger),
            ("code", Result.exists_with_different_code),
            ("timeout_seconds", Result.exists_with_different_timeout),
            ("user_data", Result.exists_with_different_user_data),
        )
        for name, result in checks:
            mine = getattr(self, name)
            if name in ("debit_account_id", "credit_account_id", "amount", "ledger") and (
                self.kind in ("post", "void") and (mine is None or mine == 0 or mine == "")
            ):
                continue  # a resolution may leave these to the pending transfer
            if mine != getattr(stored, name):
                return result
        return Result.exists


@dataclass
class Pending:
    """A pending transfer and whether something has resolved it."""

    transfer: Transfer
    resolution: str | None = None  # post | void | expire


class Engine:
    """Balances and pending transfers of one batch, as they evolve."""

    def __init__(
        self,
        accounts: dict[uuid.UUID, Account],
        existing: dict[uuid.UUID, Transfer],
        pendings: dict[uuid.UUID, Pending],
        now: datetime,
    ) -> None:
        self.accounts = accounts
        self.existing = existing  # transfers already stored (by id), for idempotency
        self.pendings = pendings
        self.now = now
        self.accepted: list[Transfer] = []

    def apply(self, transfers: list[Transfer], *, linked: bool) -> list[Result]:
        """Applies `transfers` in order. Linked: all or none (the failing one keeps its
        reason, the others get `linked_event_failed`)."""
        if not linked:
            return [self._apply_one(t) for t in transfers]
        saved_accounts = {k: replace(v) for k, v in self.accounts.items()}
        saved_pendings = {k: replace(v) for k, v in self.pendings.items()}
        saved_existing, saved_accepted = dict(self.existing), list(self.accepted)
        results = []
        for transfer in transfers:
            result = self._apply_one(transfer)
            results.append(result)
            if result not in (Result.ok, Result.exists):
                self.accounts, self.pendings = saved_accounts, saved_pendings
                self.existing, self.accepted = saved_existing, saved_accepted
                failed: list[Result] = [
                    r if r not in (Result.ok, Result.exists) else Result.linked_event_failed
                    for r in results
                ]
                return failed + [Result.linked_event_failed] * (len(transfers) - len(results))
        return results

    def _apply_one(self, t: Transfer) -> Result:
        stored = self.existing.get(t.id)
        if stored is not None:
            return t.same_as(stored)
        if t.kind in ("post", "void", "expire"):
            return self._resolve(t)
        if t.amount <= 0:
            return Result.amount_must_not_be_zero
        if t.amount > MAX_AMOUNT:
            return Result.amount_too_large
        if t.debit_account_id == t.credit_account_id:
            return Result.accounts_must_be_different
        debit = self.accounts.get(t.debit_account_id) if t.debit_account_id else None
        credit = self.accounts.get(t.credit_account_id) if t.credit_account_id else None
        if debit is None:
            return Result.debit_account_not_found
        if credit is None:
            return Result.credit_account_not_found
        if debit.ledger != credit.ledger:
            return Result.accounts_must_have_the_same_ledger
        if t.ledger != debit.ledger:
            return Result.transfer_must_have_the_same_ledger_as_accounts
        if refused := _limits(debit, credit, t.amount):
            return refused
        if t.kind == "pending":
            debit.debits_pending += t.amount
            credit.credits_pending += t.amount
            expires = self.now + timedelta(seconds=t.timeout_seconds) if t.timeout_seconds else None
            t = replace(t, expires_at=expires)
            self.pendings[t.id] = Pending(t)
        else:
            debit.debits_posted += t.amount
            credit.credits_posted += t.amount
        self._accept(t)
        return Result.ok

    def _resolve(self, t: Transfer) -> Result:
        if t.pending_id is None:
            return Result.pending_id_required
        pending = self.pendings.get(t.pending_id)
        if pending is None:
            if t.pending_id in self.existing:
                return Result.pending_transfer_not_pending
            return Result.pending_transfer_not_found
        if pending.resolution == "post":
            return Result.pending_transfer_already_posted
        if pending.resolution in ("void",):
            return Result.pending_transfer_already_voided
        if pending.resolution == "expire":
            return Result.pending_transfer_expired
        p = pending.transfer
        expired = p.expires_at is not None and p.expires_at <= self.now
        if t.kind == "expire" and not expired:
            return Result.pending_transfer_not_expired
        if t.kind in ("post", "void") and expired:
            return Result.pending_transfer_expired
        for mine, theirs, result in (
            (t.debit_account_id, p.debit_account_id, Result.exists_with_different_debit_account_id),
            (
                t.credit_account_id,
                p.credit_account_id,
                Result.exists_with_different_credit_account_id,
            ),
            (t.ledger, p.ledger, Result.exists_with_different_ledger),
        ):
            if mine and mine != theirs:
                return result
        amount = t.amount if (t.kind == "post" and t.amount) else p.amount
        if amount > p.amount:
            return Result.exceeds_pending_transfer_amount
        debit = self.accounts[p.debit_account_id]  # type: ignore[index]
        credit = self.accounts[p.credit_account_id]  # type: ignore[index]
        debit.debits_pending -= p.amount
        credit.credits_pending -= p.amount
        if t.kind == "post":
            debit.debits_posted += amount
            credit.credits_posted += amount
        pending.resolution = t.kind
        self._accept(
            replace(
                t,
                debit_account_id=p.debit_account_id,
                credit_account_id=p.credit_account_id,
                amount=amount,
                ledger=p.ledger,
                code=t.code or p.code,
            )
        )
        return Result.ok

    def _accept(self, t: Transfer) -> None:
        self.accepted.append(t)
        self.existing[t.id] = t


def _limits(debit: Account, credit: Account, amount: int) -> Result | None:
    if debit.debits_must_not_exceed_credits:
        allowed = debit.credits_posted + debit.credit_limit
        if debit.debits_posted + debit.debits_pending + amount > allowed:
            return Result.exceeds_credit_limit if debit.credit_limit else Result.exceeds_credits
    if credit.credits_must_not_exceed_debits:
        allowed = credit.debits_posted + credit.credit_limit
        if credit.credits_posted + credit.credits_pending + amount > allowed:
            return Result.exceeds_credit_limit if credit.credit_limit else Result.exceeds_debits
    return None
