"""Wallets and order money end to end: every movement a ledger transfer keyed by business ids."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest

from tests.fixtures.tenants import Brand
from tiffin.infra.clock import FrozenClock, clock
from tiffin.infra.db import tenant_transaction
from tiffin.infra.resources import Resources
from tiffin.ledger.errors import (
    CreditLineMismatch,
    InsufficientFunds,
    OrderAmountMismatch,
    PromotionAlreadyExpired,
    TransferRefused,
)
from tiffin.ledger.schemas import (
    Account,
    AccountType,
    CashDeposit,
    OrderDelivery,
    PromotionGrant,
    RefundCreate,
    RestaurantBalance,
    RiderBalance,
    TopUpCreate,
    Transfer,
    WalletBalance,
    WalletPaymentCreate,
)
from tiffin.ledger.service import ledger
from tiffin.ledger.wallets import business_id, platform, wallets


async def wallet(resources: Resources, brand: Brand, customer: uuid.UUID) -> WalletBalance:
    async with tenant_transaction(resources.sessionmaker, brand.id) as session:
        return await wallets.wallet(session, brand.id, customer)


async def restaurant(resources: Resources, brand: Brand, rid: uuid.UUID) -> RestaurantBalance:
    async with tenant_transaction(resources.sessionmaker, brand.id) as session:
        return await wallets.restaurant(session, brand.id, rid)


async def rider(resources: Resources, brand: Brand, rider_id: uuid.UUID) -> RiderBalance:
    async with tenant_transaction(resources.sessionmaker, brand.id) as session:
        return await wallets.rider(session, brand.id, rider_id)


async def platform_balance(resources: Resources, brand: Brand, type_: AccountType) -> int:
    async with tenant_transaction(resources.sessionmaker, brand.id) as session:
        account: Account = await ledger.account(session, brand.id, platform(type_).id(brand.id))
    return account.balance


async def top_up(resources: Resources, brand: Brand, customer: uuid.UUID, amount: int) -> None:
    await wallets.top_up(
        resources.sessionmaker,
        brand.id,
        customer_id=customer,
        data=TopUpCreate(payment_id=f"pay_{uuid.uuid4().hex[:14]}", amount=amount),
    )


async def grant(
    resources: Resources, brand: Brand, customer: uuid.UUID, amount: int, *, hours: float
) -> None:
    await wallets.grant_promotion(
        resources.sessionmaker,
        brand.id,
        customer_id=customer,
        data=PromotionGrant(
            key=f"campaign-{uuid.uuid4().hex[:8]}",
            kind="promo_credit",
            amount=amount,
            expires_at=clock.now() + timedelta(hours=hours),
        ),
    )


async def pay(
    resources: Resources,
    brand: Brand,
    customer: uuid.UUID,
    order: uuid.UUID,
    amount: int,
    *,
    timeout: timedelta = timedelta(hours=1),
) -> None:
    await wallets.pay_order(
        resources.sessionmaker,
        brand.id,
        order_id=order,
        data=WalletPaymentCreate(
            customer_id=customer, amount=amount, timeout_seconds=int(timeout.total_seconds())
        ),
    )


def wallet_order(customer: uuid.UUID, restaurant_id: uuid.UUID, total: int) -> OrderDelivery:
    return OrderDelivery(
        restaurant_id=restaurant_id, payment="wallet", customer_id=customer, subtotal=total
    )


async def transfer(resources: Resources, brand: Brand, transfer_id: uuid.UUID) -> Transfer:
    async with tenant_transaction(resources.sessionmaker, brand.id) as session:
        return await ledger.get_transfer(session, brand.id, transfer_id)


async def books_balance(resources: Resources, brand: Brand) -> None:
    assert await ledger.verify(resources.sessionmaker, [brand.id]) == []


class TestAccountProvisioning:
    async def test_an_owners_accounts_have_derived_ids_and_open_once_under_concurrency(
        self, resources: Resources, brand: Brand
    ) -> None:
        customer = uuid.uuid4()

        async def open_() -> list[Account]:
            async with tenant_transaction(resources.sessionmaker, brand.id) as session:
                return await wallets.open_customer(session, brand.id, customer)

        opened = await asyncio.gather(*(open_() for _ in range(5)))
        assert len({tuple(a.id for a in accounts) for accounts in opened}) == 1
        cash, promo = opened[0]
        assert cash.id == business_id(brand.id, "account", "customer_wallet", "customer", customer)
        assert cash.debits_must_not_exceed_credits and promo.debits_must_not_exceed_credits
        async with tenant_transaction(resources.sessionmaker, brand.id) as session:
            accounts = await wallets.open_platform(session, brand.id)
            earnings, cash_collected = await wallets.open_rider(session, brand.id, uuid.uuid4())
        assert {a.type: a.ledger for a in accounts}["rewards_liability"] == "PTS"
        assert len(accounts) == 7 and earnings.debits_must_not_exceed_credits
        assert cash_collected.credits_must_not_exceed_debits

    async def test_a_restaurants_credit_line_is_set_when_its_payable_opens(
        self, resources: Resources, brand: Brand
    ) -> None:
        rid = uuid.uuid4()
        async with tenant_transaction(resources.sessionmaker, brand.id) as session:
            payable = await wallets.open_restaurant(session, brand.id, rid, credit_limit=5_000)
        assert (payable.credit_limit, payable.owner_id) == (5_000, str(rid))
        with pytest.raises(CreditLineMismatch):
            async with tenant_transaction(resources.sessionmaker, brand.id) as session:
                await wallets.open_restaurant(session, brand.id, rid, credit_limit=0)


class TestTopUps:
    async def test_a_captured_payment_tops_up_the_wallet_exactly_once(
        self, resources: Resources, brand: Brand
    ) -> None:
        customer = uuid.uuid4()
        data = TopUpCreate(payment_id="pay_once", amount=50_000)
        for expected in ("ok", "exists"):
            result = await wallets.top_up(
                resources.sessionmaker, brand.id, customer_id=customer, data=data
            )
            assert result.result == expected
        assert (await wallet(resources, brand, customer)).cash == 50_000
        with pytest.raises(TransferRefused, match="exists_with_different_amount"):
            await wallets.top_up(
                resources.sessionmaker,
                brand.id,
                customer_id=customer,
                data=TopUpCreate(payment_id="pay_once", amount=1),
            )
        assert await platform_balance(resources, brand, "gateway_clearing") == 50_000


class TestWalletPayments:
    async def test_a_checkout_holds_the_total_and_delivery_posts_it(
        self, resources: Resources, brand: Brand
    ) -> None:
        customer, order, rid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await top_up(resources, brand, customer, 1_000)
        await pay(resources, brand, customer, order, 700)
        await pay(resources, brand, customer, order, 700)  # a retried checkout holds once
        held = await wallet(resources, brand, customer)
        assert (held.cash, held.held, held.available) == (1_000, 700, 300)
        delivery = OrderDelivery(
            restaurant_id=rid,
            payment="wallet",
            customer_id=customer,
            subtotal=600,
            commission=90,
            tax=30,
            delivery_fee=70,
        )
        results = await wallets.deliver_order(
            resources.sessionmaker, brand.id, order_id=order, data=delivery
        )
        assert {r.result for r in results} == {"ok"}
        after = await wallet(resources, brand, customer)
        assert (after.cash, after.held, after.available) == (300, 0, 300)
        assert (await restaurant(resources, brand, rid)).balance == 510
        # Wallet payments clear through gateway clearing, which nets to nothing for them.
        assert await platform_balance(resources, brand, "gateway_clearing") == 1_000
        await books_balance(resources, brand)

    async def test_a_cancelled_order_releases_its_hold_and_cannot_be_delivered(
        self, resources: Resources, brand: Brand
    ) -> None:
        customer, order = uuid.uuid4(), uuid.uuid4()
        await top_up(resources, brand, customer, 500)
        await pay(resources, brand, customer, order, 400)
        [void] = await wallets.cancel_order(resources.sessionmaker, brand.id, order_id=order)
        assert void.result == "ok"
        assert (await wallet(resources, brand, customer)).available == 500
        with pytest.raises(TransferRefused, match="pending_transfer_already_voided"):
            await wallets.deliver_order(
                resources.sessionmaker,
                brand.id,
                order_id=order,
                data=wallet_order(customer, uuid.uuid4(), 400),
            )
        await books_balance(resources, brand)

    async def test_a_checkout_beyond_the_wallet_holds_nothing(
        self, resources: Resources, brand: Brand
    ) -> None:
        customer, order = uuid.uuid4(), uuid.uuid4()
        await top_up(resources, brand, customer, 100)
        with pytest.raises(InsufficientFunds):
            await pay(resources, brand, customer, order, 101)
        assert (await wallet(resources, brand, customer)).held == 0

    async def test_a_delivered_total_other_than_the_hold_is_refused(
        self, resources: Resources, brand: Brand
    ) -> None:
        customer, order = uuid.uuid4(), uuid.uuid4()
        await top_up(resources, brand, customer, 500)
        await pay(resources, brand, customer, order, 400)
        with pytest.raises(OrderAmountMismatch):
            await wallets.deliver_order(
                resources.sessionmaker,
                brand.id,
                order_id=order,
                data=wallet_order(customer, uuid.uuid4(), 450),
            )

    async def test_a_hold_past_its_timeout_lapses(self, resources: Resources, brand: Brand) -> None:
        customer, order = uuid.uuid4(), uuid.uuid4()
        await top_up(resources, brand, customer, 500)
        await pay(resources, brand, customer, order, 400)
        with clock.use(FrozenClock(clock.now() + timedelta(hours=2))):
            assert await ledger.expire_pending(resources.sessionmaker, brand.id) == 1
            with pytest.raises(TransferRefused, match="pending_transfer_expired"):
                await wallets.deliver_order(
                    resources.sessionmaker,
                    brand.id,
                    order_id=order,
                    data=wallet_order(customer, uuid.uuid4(), 400),
                )
        assert (await wallet(resources, brand, customer)).available == 500


class TestRefunds:
    async def test_a_refund_to_the_wallet_charged_to_the_restaurant(
        self, resources: Resources, brand: Brand
    ) -> None:
        customer, order, rid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await wallets.deliver_order(
            resources.sessionmaker,
            brand.id,
            order_id=order,
            data=OrderDelivery(restaurant_id=rid, payment="online", subtotal=500),
        )
        refund = RefundCreate(
            refund_id="rfnd_1",
            order_id=order,
            customer_id=customer,
            amount=200,
            destination="wallet",
            charged_to="restaurant",
            restaurant_id=rid,
        )
        for expected in ("ok", "exists"):
            result = await wallets.refund(resources.sessionmaker, brand.id, data=refund)
            assert result.result == expected
        assert (await wallet(resources, brand, customer)).cash == 200
        assert (await restaurant(resources, brand, rid)).balance == 300
        await books_balance(resources, brand)

    async def test_a_refund_to_source_goes_back_out_through_gateway_clearing(
        self, resources: Resources, brand: Brand
    ) -> None:
        order, rid = uuid.uuid4(), uuid.uuid4()
        await wallets.deliver_order(
            resources.sessionmaker,
            brand.id,
            order_id=order,
            data=OrderDelivery(restaurant_id=rid, payment="online", subtotal=500, delivery_fee=40),
        )
        result = await wallets.refund(
            resources.sessionmaker,
            brand.id,
            data=RefundCreate(
                refund_id="rfnd_src",
                order_id=order,
                customer_id=uuid.uuid4(),
                amount=40,
                destination="source",
                charged_to="platform",
            ),
        )
        assert (await transfer(resources, brand, result.id)).code == "refund_to_source"
        assert await platform_balance(resources, brand, "gateway_clearing") == 500
        assert await platform_balance(resources, brand, "platform_revenue") == 0

    async def test_a_restaurant_cannot_be_charged_beyond_its_credit_line(
        self, resources: Resources, brand: Brand
    ) -> None:
        rid = uuid.uuid4()
        async with tenant_transaction(resources.sessionmaker, brand.id) as session:
            await wallets.open_restaurant(session, brand.id, rid, credit_limit=100)

        def refund(key: str, amount: int) -> RefundCreate:
            return RefundCreate(
                refund_id=key,
                order_id=uuid.uuid4(),
                customer_id=uuid.uuid4(),
                amount=amount,
                destination="wallet",
                charged_to="restaurant",
                restaurant_id=rid,
            )

        await wallets.refund(resources.sessionmaker, brand.id, data=refund("r1", 100))
        assert (await restaurant(resources, brand, rid)).balance == -100
        with pytest.raises(TransferRefused, match="exceeds_credit_limit"):
            await wallets.refund(resources.sessionmaker, brand.id, data=refund("r2", 1))


class TestPromotionalCredit:
    async def test_promotional_credit_is_spent_before_the_customers_money(
        self, resources: Resources, brand: Brand
    ) -> None:
        customer, order = uuid.uuid4(), uuid.uuid4()
        await top_up(resources, brand, customer, 1_000)
        await grant(resources, brand, customer, 300, hours=24)
        payment = await wallets.pay_order(
            resources.sessionmaker,
            brand.id,
            order_id=order,
            data=WalletPaymentCreate(customer_id=customer, amount=500),
        )
        assert (payment.promotional, payment.cash) == (300, 200)
        await wallets.deliver_order(
            resources.sessionmaker,
            brand.id,
            order_id=order,
            data=wallet_order(customer, uuid.uuid4(), 500),
        )
        after = await wallet(resources, brand, customer)
        assert (after.cash, after.promotional) == (800, 0)
        assert await platform_balance(resources, brand, "promotions_expense") == 300

    async def test_an_expired_unspent_promotion_goes_back_to_promotions_expense(
        self, resources: Resources, brand: Brand
    ) -> None:
        customer = uuid.uuid4()
        await grant(resources, brand, customer, 300, hours=1)
        assert await wallets.expire_promotions(resources.sessionmaker, brand.id) == 0
        with clock.use(FrozenClock(clock.now() + timedelta(hours=2))):
            assert await wallets.expire_promotions(resources.sessionmaker, brand.id) == 1
            assert await wallets.expire_promotions(resources.sessionmaker, brand.id) == 0
        assert (await wallet(resources, brand, customer)).promotional == 0
        assert await platform_balance(resources, brand, "promotions_expense") == 0
        await books_balance(resources, brand)

    async def test_a_promotion_cannot_be_granted_already_expired(
        self, resources: Resources, brand: Brand
    ) -> None:
        with pytest.raises(PromotionAlreadyExpired):
            await grant(resources, brand, uuid.uuid4(), 100, hours=-1)

    async def test_expiry_waits_for_a_checkout_holding_promotional_money_never_going_negative(
        self, resources: Resources, brand: Brand
    ) -> None:
        customer, order = uuid.uuid4(), uuid.uuid4()
        await grant(resources, brand, customer, 100, hours=1)
        await pay(resources, brand, customer, order, 60, timeout=timedelta(hours=4))
        with clock.use(FrozenClock(clock.now() + timedelta(hours=2))):
            # 100 is unspent on the books but 60 of it is held: decide once the hold resolves.
            assert await wallets.expire_promotions(resources.sessionmaker, brand.id) == 0
            await wallets.deliver_order(
                resources.sessionmaker,
                brand.id,
                order_id=order,
                data=wallet_order(customer, uuid.uuid4(), 60),
            )
            assert await wallets.expire_promotions(resources.sessionmaker, brand.id) == 1
        after = await wallet(resources, brand, customer)
        assert (after.promotional, after.available) == (0, 0)
        assert await platform_balance(resources, brand, "promotions_expense") == 60
        await books_balance(resources, brand)

    async def test_grants_are_spent_soonest_expiring_first(
        self, resources: Resources, brand: Brand
    ) -> None:
        customer, order = uuid.uuid4(), uuid.uuid4()
        await grant(resources, brand, customer, 100, hours=1)
        await grant(resources, brand, customer, 100, hours=3)
        await pay(resources, brand, customer, order, 150)
        await wallets.deliver_order(
            resources.sessionmaker,
            brand.id,
            order_id=order,
            data=wallet_order(customer, uuid.uuid4(), 150),
        )
        with clock.use(FrozenClock(clock.now() + timedelta(hours=2))):
            await wallets.expire_promotions(resources.sessionmaker, brand.id)
        # The first grant was spent in full; the later one keeps its unspent 50.
        assert (await wallet(resources, brand, customer)).promotional == 50
        with clock.use(FrozenClock(clock.now() + timedelta(hours=4))):
            await wallets.expire_promotions(resources.sessionmaker, brand.id)
        assert (await wallet(resources, brand, customer)).promotional == 0
        assert await platform_balance(resources, brand, "promotions_expense") == 150

    async def test_a_checkout_never_spends_expired_promotional_credit(
        self, resources: Resources, brand: Brand
    ) -> None:
        customer = uuid.uuid4()
        await top_up(resources, brand, customer, 50)
        await grant(resources, brand, customer, 100, hours=1)
        with clock.use(FrozenClock(clock.now() + timedelta(hours=2))):
            payment = await wallets.pay_order(
                resources.sessionmaker,
                brand.id,
                order_id=uuid.uuid4(),
                data=WalletPaymentCreate(customer_id=customer, amount=50),
            )
        assert (payment.promotional, payment.cash) == (0, 50)


class TestOrderSplit:
    async def test_an_online_order_splits_in_one_balanced_batch_once(
        self, resources: Resources, brand: Brand
    ) -> None:
        order, rid, rider_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        delivery = OrderDelivery(
            restaurant_id=rid,
            payment="online",
            subtotal=1_000,
            commission=200,
            tax=50,
            delivery_fee=40,
            rider_id=rider_id,
            rider_fee=30,
        )
        for expected in ("ok", "exists"):
            results = await wallets.deliver_order(
                resources.sessionmaker, brand.id, order_id=order, data=delivery
            )
            assert [r.result for r in results] == [expected] * 5
        assert await platform_balance(resources, brand, "gateway_clearing") == delivery.total
        parts = {
            "restaurant": (await restaurant(resources, brand, rid)).balance,
            "commission": await platform_balance(resources, brand, "platform_commission"),
            "tax": await platform_balance(resources, brand, "tax_payable"),
            "revenue": await platform_balance(resources, brand, "platform_revenue"),
            "rider": (await rider(resources, brand, rider_id)).earnings,
        }
        assert parts == {
            "restaurant": 800,
            "commission": 200,
            "tax": 50,
            "revenue": 10,
            "rider": 30,
        }
        assert sum(parts.values()) == delivery.total
        await books_balance(resources, brand)

    async def test_cash_on_delivery_is_owed_by_the_rider_until_deposited(
        self, resources: Resources, brand: Brand
    ) -> None:
        rid, rider_id = uuid.uuid4(), uuid.uuid4()
        await wallets.deliver_order(
            resources.sessionmaker,
            brand.id,
            order_id=uuid.uuid4(),
            data=OrderDelivery(
                restaurant_id=rid, payment="cod", subtotal=700, tax=35, rider_id=rider_id
            ),
        )
        assert (await rider(resources, brand, rider_id)).cash_owed == 735
        assert (await restaurant(resources, brand, rid)).balance == 700

        async def deposit(key: str, amount: int) -> None:
            await wallets.deposit_cash(
                resources.sessionmaker,
                brand.id,
                rider_id=rider_id,
                data=CashDeposit(deposit_id=key, amount=amount),
            )

        await deposit("d1", 500)
        await deposit("d1", 500)  # the same deposit, retried
        assert (await rider(resources, brand, rider_id)).cash_owed == 235
        with pytest.raises(TransferRefused, match="exceeds_debits"):
            await deposit("d2", 236)
        await deposit("d3", 235)
        assert (await rider(resources, brand, rider_id)).cash_owed == 0
        assert await platform_balance(resources, brand, "gateway_clearing") == 735
        await books_balance(resources, brand)


class TestOverHttp:
    async def test_a_wallet_order_from_top_up_to_delivery(
        self, client: httpx.AsyncClient, brand: Brand
    ) -> None:
        customer, order, rid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        h = brand.writer
        base = "/v1/ledger"
        top = await client.post(
            f"{base}/wallets/{customer}/top-ups",
            json={"payment_id": "pay_http", "amount": 900},
            headers=h,
        )
        assert top.json()["result"] == "ok", top.text
        hold = await client.post(
            f"{base}/orders/{order}/wallet-payment",
            json={"customer_id": str(customer), "amount": 500},
            headers=h,
        )
        assert hold.json()["cash"] == 500, hold.text
        split = {"restaurant_id": str(rid), "payment": "wallet", "customer_id": str(customer)}
        done = await client.post(
            f"{base}/orders/{order}/delivery", json={**split, "subtotal": 500}, headers=h
        )
        assert done.status_code == 200, done.text
        view = (await client.get(f"{base}/wallets/{customer}", headers=h)).json()
        assert (view["cash"], view["available"]) == (400, 400)
        owed = (await client.get(f"{base}/restaurants/{rid}", headers=h)).json()
        assert owed["balance"] == 500
        refused = await client.post(
            f"{base}/orders/{uuid.uuid4()}/wallet-payment",
            json={"customer_id": str(customer), "amount": 401},
            headers=h,
        )
        assert refused.status_code == 409
        assert refused.json()["type"].endswith("/insufficient-funds")
        invalid = await client.post(
            f"{base}/orders/{order}/delivery",
            json={**split, "payment": "cod", "subtotal": 500},
            headers=h,
        )
        assert invalid.status_code == 422
