"""The same random operation sequences, through the real writer and PostgreSQL: afterwards
`verify` finds every balance equal to its transfers and the books balanced."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.tenants import Brand
from tests.ledger.conftest import OpenAccount, balances
from tiffin.infra.resources import Resources
from tiffin.ledger.schemas import TransferCreate
from tiffin.ledger.service import ledger

operation = st.one_of(
    st.tuples(st.just("single"), st.integers(0, 3), st.integers(0, 3), st.integers(0, 500)),
    st.tuples(st.just("pending"), st.integers(0, 3), st.integers(0, 3), st.integers(0, 500)),
    st.tuples(st.just("post"), st.integers(0, 20), st.integers(0, 0), st.integers(0, 500)),
    st.tuples(st.just("void"), st.integers(0, 20), st.integers(0, 0), st.integers(0, 0)),
    st.tuples(st.just("batch"), st.integers(0, 3), st.integers(0, 3), st.integers(0, 500)),
)


async def test_random_histories_leave_balanced_books(
    resources: Resources, brand: Brand, open_account: OpenAccount
) -> None:
    histories: list[list[tuple[str, int, int, int]]] = []

    @settings(
        max_examples=8,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(st.lists(operation, min_size=5, max_size=40))
    def collect(history: list[tuple[str, int, int, int]]) -> None:
        histories.append(history)

    collect()
    accounts = [
        await open_account("gateway_clearing"),
        await open_account("customer_wallet", debits_must_not_exceed_credits=True),
        await open_account(
            "restaurant_payable", debits_must_not_exceed_credits=True, credit_limit=300
        ),
        await open_account(
            "platform_revenue", credits_must_not_exceed_debits=True, credit_limit=1_000
        ),
    ]
    holds: list[uuid.UUID] = []
    for history in histories:
        for kind, a, b, amount in history:

            def leg(a: int = a, b: int = b, amount: int = amount, **extra: Any) -> TransferCreate:
                return TransferCreate(
                    id=uuid.uuid4(),
                    debit_account_id=accounts[a].id,
                    credit_account_id=accounts[b].id,
                    amount=amount,
                    ledger="INR",
                    code="prop",
                    **extra,
                )

            if kind in ("single", "pending"):
                [result] = await ledger.submit(brand.id, [leg(kind=kind)])
                if kind == "pending" and result.result == "ok":
                    holds.append(result.id)
            elif kind in ("post", "void") and holds:
                await ledger.submit(
                    brand.id,
                    [
                        TransferCreate(
                            id=uuid.uuid4(),
                            kind=kind,
                            pending_id=holds[a % len(holds)],
                            amount=amount,
                        )
                    ],
                )
            elif kind == "batch":
                await ledger.submit(brand.id, [leg(), leg(a=b, b=a)], linked=True)
    assert await ledger.verify(resources.sessionmaker, [brand.id]) == []
    for account in accounts:
        now = await balances(resources, brand, account)
        if now.debits_must_not_exceed_credits:
            assert now.debits_posted + now.debits_pending <= now.credits_posted + now.credit_limit
        if now.credits_must_not_exceed_debits:
            assert now.credits_posted + now.credits_pending <= now.debits_posted + now.credit_limit
