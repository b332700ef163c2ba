"""Transfers: limits, two-phase holds, linked batches, idempotency, concurrency."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from tests.fixtures.tenants import Brand
from tests.ledger.conftest import OpenAccount, balances, move
from tiffin.infra.clock import FrozenClock, clock
from tiffin.infra.resources import Resources
from tiffin.ledger.schemas import TransferCreate
from tiffin.ledger.service import ledger


class TestSingleTransfers:
    async def test_a_top_up_moves_money_and_both_balances(
        self, resources: Resources, brand: Brand, open_account: OpenAccount
    ) -> None:
        gateway = await open_account("gateway_clearing")
        wallet = await open_account("customer_wallet", debits_must_not_exceed_credits=True)
        assert (await move(brand, gateway, wallet, 50_000)).result == "ok"
        assert (await balances(resources, brand, wallet)).balance == 50_000
        assert (await balances(resources, brand, gateway)).balance == 50_000  # debit-normal

    async def test_a_wallet_cannot_go_below_zero(
        self, resources: Resources, brand: Brand, open_account: OpenAccount
    ) -> None:
        gateway, revenue = (
            await open_account("gateway_clearing"),
            await open_account("platform_revenue"),
        )
        wallet = await open_account("customer_wallet", debits_must_not_exceed_credits=True)
        await move(brand, gateway, wallet, 100)
        assert (await move(brand, wallet, revenue, 101)).result == "exceeds_credits"
        assert (await move(brand, wallet, revenue, 100)).result == "ok"

    async def test_a_credit_line_goes_negative_down_to_its_limit_never_further(
        self, brand: Brand, open_account: OpenAccount
    ) -> None:
        payable = await open_account(
            "restaurant_payable", debits_must_not_exceed_credits=True, credit_limit=5_000
        )
        payout = await open_account("settlement_payout")
        assert (await move(brand, payable, payout, 5_000)).result == "ok"
        assert (await move(brand, payable, payout, 1)).result == "exceeds_credit_limit"

    async def test_malformed_transfers_get_precise_reasons(
        self, brand: Brand, open_account: OpenAccount
    ) -> None:
        inr, pts = await open_account(), await open_account(ledger_code="PTS")
        other = await open_account()
        assert (await move(brand, inr, inr, 1)).result == "accounts_must_be_different"
        assert (await move(brand, inr, pts, 1)).result == "accounts_must_have_the_same_ledger"
        assert (await move(brand, inr, other, 0)).result == "amount_must_not_be_zero"
        [missing] = await ledger.submit(
            brand.id,
            [
                TransferCreate(
                    id=uuid.uuid4(),
                    debit_account_id=uuid.uuid4(),
                    credit_account_id=other.id,
                    amount=1,
                    ledger="INR",
                )
            ],
        )
        assert missing.result == "debit_account_not_found"


class TestTwoPhase:
    async def test_a_hold_then_a_partial_post_releases_the_rest(
        self, resources: Resources, brand: Brand, open_account: OpenAccount
    ) -> None:
        gateway, revenue = (
            await open_account("gateway_clearing"),
            await open_account("platform_revenue"),
        )
        wallet = await open_account("customer_wallet", debits_must_not_exceed_credits=True)
        await move(brand, gateway, wallet, 1_000)
        hold = uuid.uuid4()
        assert (await move(brand, wallet, revenue, 800, kind="pending", id_=hold)).result == "ok"
        held = await balances(resources, brand, wallet)
        assert (held.balance, held.available) == (1_000, 200)
        assert (await move(brand, wallet, revenue, 300)).result == "exceeds_credits"
        [posted] = await ledger.submit(
            brand.id, [TransferCreate(id=uuid.uuid4(), kind="post", pending_id=hold, amount=600)]
        )
        assert posted.result == "ok"
        after = await balances(resources, brand, wallet)
        assert (after.balance, after.available, after.debits_pending) == (400, 400, 0)

    async def test_a_pending_transfer_resolves_once(
        self, brand: Brand, open_account: OpenAccount
    ) -> None:
        a, b = await open_account("gateway_clearing"), await open_account()
        hold = uuid.uuid4()
        await move(brand, a, b, 10, kind="pending", id_=hold)
        [void] = await ledger.submit(
            brand.id, [TransferCreate(id=uuid.uuid4(), kind="void", pending_id=hold)]
        )
        [post] = await ledger.submit(
            brand.id, [TransferCreate(id=uuid.uuid4(), kind="post", pending_id=hold)]
        )
        assert (void.result, post.result) == ("ok", "pending_transfer_already_voided")

    async def test_a_hold_past_its_timeout_expires(
        self, resources: Resources, brand: Brand, open_account: OpenAccount
    ) -> None:
        a, b = await open_account("gateway_clearing"), await open_account()
        hold = uuid.uuid4()
        await move(brand, a, b, 10, kind="pending", id_=hold, timeout_seconds=60)
        with clock.use(FrozenClock(clock.now() + timedelta(minutes=2))):
            assert await ledger.expire_pending(resources.sessionmaker, brand.id) == 1
            [late] = await ledger.submit(
                brand.id, [TransferCreate(id=uuid.uuid4(), kind="post", pending_id=hold)]
            )
        assert late.result == "pending_transfer_expired"
        assert (await balances(resources, brand, b)).credits_pending == 0


class TestLinkedBatches:
    async def test_an_order_split_commits_all_or_nothing(
        self, resources: Resources, brand: Brand, open_account: OpenAccount
    ) -> None:
        gateway = await open_account("gateway_clearing")
        restaurant, commission = (
            await open_account("restaurant_payable"),
            await open_account("platform_commission"),
        )
        tax = await open_account("tax_payable")
        order = {"order_id": "o-1"}
        split = [
            TransferCreate(
                id=uuid.uuid4(),
                debit_account_id=gateway.id,
                credit_account_id=restaurant.id,
                amount=800,
                ledger="INR",
                code="order_payable",
                user_data=order,
            ),
            TransferCreate(
                id=uuid.uuid4(),
                debit_account_id=gateway.id,
                credit_account_id=commission.id,
                amount=150,
                ledger="INR",
                code="commission",
                user_data=order,
            ),
            TransferCreate(
                id=uuid.uuid4(),
                debit_account_id=gateway.id,
                credit_account_id=tax.id,
                amount=0,
                ledger="INR",
                code="tax",
            ),
        ]
        results = await ledger.submit(brand.id, split, linked=True)
        assert [r.result for r in results] == [
            "linked_event_failed",
            "linked_event_failed",
            "amount_must_not_be_zero",
        ]
        assert (await balances(resources, brand, restaurant)).balance == 0
        split[2] = split[2].model_copy(update={"amount": 50})
        assert [r.result for r in await ledger.submit(brand.id, split, linked=True)] == ["ok"] * 3
        assert (await balances(resources, brand, gateway)).balance == 1_000


class TestIdempotency:
    async def test_the_same_id_is_the_same_transfer(
        self, resources: Resources, brand: Brand, open_account: OpenAccount
    ) -> None:
        a, b = await open_account("gateway_clearing"), await open_account()
        same = uuid.uuid4()
        assert (await move(brand, a, b, 10, id_=same)).result == "ok"
        assert (await move(brand, a, b, 10, id_=same)).result == "exists"
        assert (await move(brand, a, b, 11, id_=same)).result == "exists_with_different_amount"
        assert (await balances(resources, brand, b)).balance == 10

    async def test_ten_concurrent_sends_of_one_id_post_once(
        self, resources: Resources, brand: Brand, open_account: OpenAccount
    ) -> None:
        a, b = await open_account("gateway_clearing"), await open_account()
        same = uuid.uuid4()
        results = await asyncio.gather(*(move(brand, a, b, 25, id_=same) for _ in range(10)))
        assert sorted(r.result for r in results) == ["exists"] * 9 + ["ok"]
        assert (await balances(resources, brand, b)).balance == 25


async def test_64_concurrent_spenders_drain_a_wallet_of_1000_exactly(
    resources: Resources, brand: Brand, open_account: OpenAccount
) -> None:
    gateway, revenue = (
        await open_account("gateway_clearing"),
        await open_account("platform_revenue"),
    )
    wallet = await open_account("customer_wallet", debits_must_not_exceed_credits=True)
    await move(brand, gateway, wallet, 1_000)

    async def spender() -> list[str]:
        return [(await move(brand, wallet, revenue, 1)).result for _ in range(20)]

    outcomes = [r for rs in await asyncio.gather(*(spender() for _ in range(64))) for r in rs]
    assert outcomes.count("ok") == 1_000
    assert outcomes.count("exceeds_credits") == 64 * 20 - 1_000
    final = await balances(resources, brand, wallet)
    assert final.balance == 0 and final.available == 0
    assert await ledger.verify(resources.sessionmaker, [brand.id]) == []


async def test_the_worker_sweeps_holds_past_their_timeout(
    resources: Resources, brand: Brand, open_account: OpenAccount
) -> None:
    from tiffin.worker import sweep_ledger

    a, b = await open_account("gateway_clearing"), await open_account()
    await move(brand, a, b, 10, kind="pending", timeout_seconds=60)
    stop = asyncio.Event()
    with clock.use(FrozenClock(clock.now() + timedelta(minutes=5))):
        sweeper = asyncio.create_task(sweep_ledger(resources, stop, every_seconds=0.05))
        try:
            deadline = asyncio.get_running_loop().time() + 10
            while (await balances(resources, brand, b)).credits_pending:
                assert asyncio.get_running_loop().time() < deadline, "not swept in time"
                await asyncio.sleep(0.02)
        finally:
            stop.set()
            await sweeper
