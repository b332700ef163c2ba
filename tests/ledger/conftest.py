from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from tests.fixtures.tenants import Brand
from tiffin.infra.db import tenant_transaction
from tiffin.infra.resources import Resources
from tiffin.ledger.schemas import Account, AccountCreate, TransferCreate, TransferResult
from tiffin.ledger.service import ledger

OpenAccount = Callable[..., Coroutine[Any, Any, Account]]


@pytest.fixture
def open_account(resources: Resources, brand: Brand) -> OpenAccount:
    async def open_(
        type_: str = "customer_wallet", *, ledger_code: str = "INR", **flags: Any
    ) -> Account:
        async with tenant_transaction(resources.sessionmaker, brand.id) as session:
            return await ledger.create_account(
                session,
                brand.id,
                data=AccountCreate(ledger=ledger_code, type=type_, **flags),  # type: ignore[arg-type]
            )

    return open_


async def move(
    brand: Brand,
    debit: Account,
    credit: Account,
    amount: int,
    *,
    kind: str = "single",
    id_: uuid.UUID | None = None,
    **extra: Any,
) -> TransferResult:
    [result] = await ledger.submit(
        brand.id,
        [
            TransferCreate(
                id=id_ or uuid.uuid4(),
                kind=kind,
                debit_account_id=debit.id,  # type: ignore[arg-type]
                credit_account_id=credit.id,
                amount=amount,
                ledger=debit.ledger,
                code="test",
                **extra,
            )
        ],
    )
    return result


async def balances(resources: Resources, brand: Brand, account: Account) -> Account:
    async with tenant_transaction(resources.sessionmaker, brand.id) as session:
        return await ledger.account(session, brand.id, account.id)


@pytest.fixture(autouse=True)
def _module_runtimes(app: Any) -> None:
    """The ledger writer lives in the module runtimes the `app` fixture starts."""
