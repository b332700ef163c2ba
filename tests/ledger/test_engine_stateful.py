"""Hypothesis drives the ledger engine through any sequence of operations; the books must
always balance and no account may break its limits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tiffin.ledger.engine import Account, Engine, Result, Transfer

OK = (Result.ok, Result.exists)
amounts = st.integers(min_value=0, max_value=2_000)


class LedgerMachine(RuleBasedStateMachine):
    @initialize(
        flags=st.lists(
            st.tuples(st.booleans(), st.booleans(), st.sampled_from([0, 0, 500])),
            min_size=3,
            max_size=6,
        )
    )
    def open_accounts(self, flags: list[tuple[bool, bool, int]]) -> None:
        accounts = {}
        for debit_limited, credit_limited, limit in flags:
            account = Account(
                id=uuid.uuid4(),
                ledger="INR",
                debits_must_not_exceed_credits=debit_limited,
                credits_must_not_exceed_debits=credit_limited and not debit_limited,
                credit_limit=limit,
            )
            accounts[account.id] = account
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        self.engine = Engine(accounts, {}, {}, self.now)
        self.ids = list(accounts)
        self.pending_ids: list[uuid.UUID] = []
        self.sent: list[Transfer] = []

    def _transfer(self, debit: int, credit: int, amount: int, **extra: object) -> Transfer:
        return Transfer(
            id=uuid.uuid4(),
            debit_account_id=self.ids[debit % len(self.ids)],
            credit_account_id=self.ids[credit % len(self.ids)],
            amount=amount,
            ledger="INR",
            code="t",
            **extra,
        )  # type: ignore[arg-type]

    @rule(debit=st.integers(0, 9), credit=st.integers(0, 9), amount=amounts)
    def single(self, debit: int, credit: int, amount: int) -> None:
        self.engine.apply([self._transfer(debit, credit, amount)], linked=False)

    @rule(
        debit=st.integers(0, 9),
        credit=st.integers(0, 9),
        amount=amounts,
        timeout=st.sampled_from([0, 60]),
    )
    def pending(self, debit: int, credit: int, amount: int, timeout: int) -> None:
        transfer = self._transfer(debit, credit, amount, kind="pending", timeout_seconds=timeout)
        if self.engine.apply([transfer], linked=False) == [Result.ok]:
            self.pending_ids.append(transfer.id)

    @rule(data=st.data(), kind=st.sampled_from(["post", "void"]), amount=amounts)
    def resolve(self, data: st.DataObject, kind: str, amount: int) -> None:
        if not self.pending_ids:
            return
        pending = data.draw(st.sampled_from(self.pending_ids))
        self.engine.apply(
            [
                Transfer(
                    id=uuid.uuid4(),
                    debit_account_id=None,
                    credit_account_id=None,
                    amount=amount,
                    ledger="",
                    code="",
                    kind=kind,
                    pending_id=pending,
                )
            ],
            linked=False,
        )

    @rule(minutes=st.integers(1, 3))
    def time_passes_and_holds_expire(self, minutes: int) -> None:
        self.engine.now += timedelta(minutes=minutes)
        for pending in self.pending_ids:
            self.engine.apply(
                [
                    Transfer(
                        id=uuid.uuid5(pending, "expire"),
                        debit_account_id=None,
                        credit_account_id=None,
                        amount=0,
                        ledger="",
                        code="",
                        kind="expire",
                        pending_id=pending,
                    )
                ],
                linked=False,
            )

    @rule(
        legs=st.lists(
            st.tuples(st.integers(0, 9), st.integers(0, 9), amounts), min_size=2, max_size=4
        )
    )
    def linked_batch(self, legs: list[tuple[int, int, int]]) -> None:
        before = {k: v.balances() for k, v in self.engine.accounts.items()}
        accepted = len(self.engine.accepted)
        results = self.engine.apply([self._transfer(*leg) for leg in legs], linked=True)
        if any(r not in OK for r in results):
            assert {k: v.balances() for k, v in self.engine.accounts.items()} == before
            assert len(self.engine.accepted) == accepted

    @rule()
    def a_retry_is_idempotent(self) -> None:
        if self.engine.accepted:
            last = self.engine.accepted[-1]
            assert self.engine.apply([last], linked=False) == [Result.exists]

    @invariant()
    def balances_equal_the_sums_of_their_transfers(self) -> None:
        derived: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        by_id = {t.id: t for t in self.engine.accepted}
        for t in self.engine.accepted:
            debit, credit = derived[t.debit_account_id], derived[t.credit_account_id]  # type: ignore[index]
            if t.kind == "single":
                debit[0] += t.amount
                credit[1] += t.amount
            elif t.kind == "pending":
                debit[2] += t.amount
                credit[3] += t.amount
            else:
                held = by_id[t.pending_id].amount  # type: ignore[index]
                debit[2] -= held
                credit[3] -= held
                if t.kind == "post":
                    debit[0] += t.amount
                    credit[1] += t.amount
        for account in self.engine.accounts.values():
            assert list(account.balances()) == derived[account.id]

    @invariant()
    def debits_equal_credits(self) -> None:
        accounts = self.engine.accounts.values()
        assert sum(a.debits_posted for a in accounts) == sum(a.credits_posted for a in accounts)
        assert sum(a.debits_pending for a in accounts) == sum(a.credits_pending for a in accounts)

    @invariant()
    def no_account_breaks_its_flags(self) -> None:
        for a in self.engine.accounts.values():
            assert min(a.balances()) >= 0
            if a.debits_must_not_exceed_credits:
                assert a.debits_posted + a.debits_pending <= a.credits_posted + a.credit_limit
            if a.credits_must_not_exceed_debits:
                assert a.credits_posted + a.credits_pending <= a.debits_posted + a.credit_limit


LedgerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestLedgerMachine = LedgerMachine.TestCase
