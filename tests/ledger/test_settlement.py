"""Restaurant settlements on the real Temporal dev server: T+1 windows, one payout per
restaurant and day however the run is interrupted, statements in JSON and CSV, the schedule."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests.fixtures.tenants import Brand
from tiffin.infra.clock import FrozenClock, clock
from tiffin.infra.db import tenant_transaction
from tiffin.infra.resources import Resources
from tiffin.infra.temporal import connect_temporal
from tiffin.ledger.activities import SettlementActivities
from tiffin.ledger.errors import SettlementNotDue
from tiffin.ledger.models import LedgerTransfer
from tiffin.ledger.schemas import (
    OrderDelivery,
    PayoutInput,
    RefundCreate,
    RestaurantPayout,
    SettlementInput,
    SettlementRequest,
    SettlementScheduleCreate,
    SettlementSummary,
)
from tiffin.ledger.service import ledger
from tiffin.ledger.wallets import platform, restaurant_payable, settlement_window, wallets
from tiffin.ledger.workflows import DailySettlementWorkflow, SettlementWorkflow
from tiffin.settings import Settings
from tiffin.worker import run_worker

pytestmark = pytest.mark.temporal

ZONE = "Asia/Kolkata"


def local_today() -> date:
    return clock.now().astimezone(ZoneInfo(ZONE)).date()


def tomorrow() -> tuple[date, FrozenClock]:
    """Tomorrow's settlement, and a clock just past its cutoff: what is credited now is in."""
    day = local_today() + timedelta(days=1)
    return day, FrozenClock(settlement_window(day, ZONE)[1] + timedelta(minutes=5))


@pytest.fixture
def task_queue() -> str:
    return f"settlement-test-{uuid.uuid4()}"


@pytest.fixture(scope="module")
async def temporal(settings: Settings) -> Client:
    """A connected client (workers refuse the lazy one of `Resources`)."""
    assert settings.temporal_address
    return await connect_temporal(settings.temporal_address, settings.temporal_namespace)


@asynccontextmanager
async def running_worker(
    temporal: Client,
    resources: Resources,
    task_queue: str,
    activities: SettlementActivities | None = None,
) -> AsyncIterator[Worker]:
    worker = Worker(
        temporal,
        task_queue=task_queue,
        workflows=[SettlementWorkflow, DailySettlementWorkflow],
        activities=(activities or SettlementActivities(resources.sessionmaker)).all(),
    )
    async with worker:
        yield worker


async def deliver(
    resources: Resources, brand: Brand, restaurant_id: uuid.UUID, subtotal: int
) -> None:
    await wallets.deliver_order(
        resources.sessionmaker,
        brand.id,
        order_id=uuid.uuid4(),
        data=OrderDelivery(
            restaurant_id=restaurant_id,
            payment="online",
            subtotal=subtotal,
            commission=subtotal // 10,
            delivery_fee=30,
        ),
    )


async def restaurants_with_orders(
    resources: Resources, brand: Brand, *subtotals: int
) -> dict[uuid.UUID, int]:
    """A restaurant per subtotal, each with two delivered orders; what each is owed."""
    owed = {}
    for subtotal in subtotals:
        rid = uuid.uuid4()
        await deliver(resources, brand, rid, subtotal)
        await deliver(resources, brand, rid, subtotal)
        owed[rid] = 2 * (subtotal - subtotal // 10)
    return owed


async def payouts(resources: Resources, brand: Brand, rid: uuid.UUID) -> list[int]:
    """Every payout transfer ever made from the restaurant's payable."""
    async with tenant_transaction(resources.sessionmaker, brand.id) as session:
        amounts = await session.scalars(
            select(LedgerTransfer.amount).where(
                LedgerTransfer.tenant_id == brand.id,
                LedgerTransfer.debit_account_id == restaurant_payable(rid).id(brand.id),
                LedgerTransfer.code == "settlement_payout",
            )
        )
    return list(amounts)


async def settle(
    client: Client, brand: Brand, task_queue: str, day: date
) -> tuple[str, str | None]:
    started = await wallets.start_settlement(
        client,
        brand.id,
        data=SettlementRequest(settlement_date=day, timezone=ZONE),
        task_queue=task_queue,
    )
    return started.workflow_id, started.run_id


async def result(client: Client, workflow_id: str, run_id: str | None) -> SettlementSummary:
    handle = client.get_workflow_handle_for(SettlementWorkflow.run, workflow_id, run_id=run_id)
    return await handle.result()


class DiesAfterTheFirstPayout(SettlementActivities):
    """A worker process that dies right after writing the first restaurant's payout, before
    Temporal hears of it: it never reports, and it pays nobody else."""

    def __init__(self, resources: Resources) -> None:
        super().__init__(resources.sessionmaker)
        self.paid = asyncio.Event()
        self._one_at_a_time = asyncio.Lock()

    @activity.defn(name="settlement.pay_restaurant")
    async def pay_restaurant(self, data: PayoutInput) -> RestaurantPayout:
        async with self._one_at_a_time:  # held forever by the first: the process is dead
            payout = await super().pay_restaurant(data)
            self.paid.set()
            await asyncio.Event().wait()
        return payout


class TestCrashSafety:
    async def test_a_run_killed_mid_run_and_started_again_pays_each_restaurant_once(
        self, resources: Resources, brand: Brand, task_queue: str, temporal: Client
    ) -> None:
        owed = await restaurants_with_orders(resources, brand, 1_000, 2_000, 3_000)
        day, after_cutoff = tomorrow()
        client = temporal
        with clock.use(after_cutoff):
            dying = DiesAfterTheFirstPayout(resources)
            async with running_worker(temporal, resources, task_queue, dying):
                workflow_id, first_run = await settle(client, brand, task_queue, day)
                await asyncio.wait_for(dying.paid.wait(), timeout=30)
                await client.get_workflow_handle(workflow_id).terminate("killed")
            paid_before = [p for rid in owed for p in await payouts(resources, brand, rid)]
            assert len(paid_before) == 1  # killed mid-run: one restaurant paid, two not

            async with running_worker(temporal, resources, task_queue):
                again, second_run = await settle(client, brand, task_queue, day)
                assert (again, second_run != first_run) == (workflow_id, True)
                summary = await result(client, again, second_run)

        assert {rid: await payouts(resources, brand, rid) for rid in owed} == {
            rid: [amount] for rid, amount in owed.items()
        }
        assert (summary.status, summary.restaurants_paid) == ("completed", 3)
        assert summary.total_paid == sum(owed.values())
        assert await ledger.verify(resources.sessionmaker, [brand.id]) == []

    async def test_a_worker_that_dies_mid_run_is_replaced_and_the_payout_is_not_repeated(
        self, resources: Resources, brand: Brand, task_queue: str, temporal: Client
    ) -> None:
        owed = await restaurants_with_orders(resources, brand, 1_500, 2_500)
        day, after_cutoff = tomorrow()
        client = temporal
        with clock.use(after_cutoff):
            dying = DiesAfterTheFirstPayout(resources)
            async with running_worker(temporal, resources, task_queue, dying):
                workflow_id, run_id = await settle(client, brand, task_queue, day)
                await asyncio.wait_for(dying.paid.wait(), timeout=30)
            # The same run goes on on a new worker: Temporal retries the lost activity.
            async with running_worker(temporal, resources, task_queue):
                summary = await result(client, workflow_id, run_id)
        assert {rid: await payouts(resources, brand, rid) for rid in owed} == {
            rid: [amount] for rid, amount in owed.items()
        }
        assert summary.total_paid == sum(owed.values())
        assert await ledger.verify(resources.sessionmaker, [brand.id]) == []


class TestSettlementRuns:
    async def test_settling_a_day_again_joins_or_returns_the_same_run_and_pays_nothing_more(
        self,
        resources: Resources,
        brand: Brand,
        task_queue: str,
        temporal: Client,
        client: httpx.AsyncClient,
    ) -> None:
        owed = await restaurants_with_orders(resources, brand, 800)
        [rid] = owed
        day, after_cutoff = tomorrow()
        with clock.use(after_cutoff):
            async with running_worker(temporal, resources, task_queue):
                first, second = await asyncio.gather(
                    settle(temporal, brand, task_queue, day),
                    settle(temporal, brand, task_queue, day),
                )
                assert first == second  # the second start joined the running one
                summary = await result(temporal, *first)
                assert await settle(temporal, brand, task_queue, day) == first
        assert (summary.restaurants_paid, summary.total_paid) == (1, owed[rid])
        assert await payouts(resources, brand, rid) == [owed[rid]]

        base = f"/v1/ledger/settlements/{day.isoformat()}"
        run = (await client.get(base, headers=brand.writer)).json()
        assert (run["status"], run["total_paid"], run["timezone"]) == ("completed", 1_440, ZONE)
        document = (await client.get(f"{base}/statements/{rid}", headers=brand.writer)).json()
        assert (document["credits"], document["payout_amount"]) == (owed[rid], owed[rid])
        assert [line["code"] for line in document["lines"]] == ["order_payable"] * 2
        response = await client.get(
            f"{base}/statements/{rid}", params={"format": "csv"}, headers=brand.writer
        )
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [int(r["amount_minor"]) for r in rows] == [720, 720, -1_440]
        assert rows[-1]["code"] == "settlement_payout"

    async def test_a_day_pays_what_was_owed_at_its_cutoff_less_what_left_since(
        self, resources: Resources, brand: Brand, task_queue: str, temporal: Client
    ) -> None:
        owed = await restaurants_with_orders(resources, brand, 1_000)
        [rid] = owed
        async with running_worker(temporal, resources, task_queue):
            # Today's run covers up to last midnight: nothing delivered just now is in it.
            today = await result(
                temporal, *await settle(temporal, brand, task_queue, local_today())
            )
            assert (today.restaurants_paid, today.total_paid) == (0, 0)
            await wallets.refund(
                resources.sessionmaker,
                brand.id,
                data=RefundCreate(
                    refund_id=f"rf-{uuid.uuid4()}",
                    order_id=uuid.uuid4(),
                    customer_id=uuid.uuid4(),
                    amount=100,
                    destination="source",
                    charged_to="restaurant",
                    restaurant_id=rid,
                ),
            )
            day, after_cutoff = tomorrow()
            with clock.use(after_cutoff):
                summary = await result(temporal, *await settle(temporal, brand, task_queue, day))
        assert summary.total_paid == owed[rid] - 100
        assert await payouts(resources, brand, rid) == [owed[rid] - 100]
        async with tenant_transaction(resources.sessionmaker, brand.id) as session:
            balance = await wallets.restaurant(session, brand.id, rid)
            paid_out = await ledger.account(
                session, brand.id, platform("settlement_payout").id(brand.id)
            )
        # Payouts are credits to the (debit-normal) payout clearing account.
        assert (balance.balance, paid_out.credits_posted) == (0, owed[rid] - 100)

    async def test_a_day_not_yet_ended_is_not_settled(
        self, resources: Resources, brand: Brand, task_queue: str, temporal: Client
    ) -> None:
        later = local_today() + timedelta(days=1)
        with pytest.raises(SettlementNotDue):
            await settle(temporal, brand, task_queue, later)
        # Started behind the service's back, the workflow fails for good, with the type.
        run = SettlementInput(tenant_id=brand.id, settlement_date=later, timezone=ZONE)
        async with running_worker(temporal, resources, task_queue):
            with pytest.raises(WorkflowFailureError) as failed:
                await temporal.execute_workflow(
                    SettlementWorkflow.run, run, id=run.workflow_id, task_queue=task_queue
                )
        cause = failed.value.cause
        assert isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError)
        assert (cause.cause.type, cause.cause.non_retryable) == ("settlement-not-due", True)


class TestDailySchedule:
    async def test_the_tenants_schedule_settles_its_local_day(
        self, resources: Resources, brand: Brand, task_queue: str, temporal: Client
    ) -> None:
        schedule_id = await wallets.schedule_settlements(
            temporal,
            brand.id,
            data=SettlementScheduleCreate(timezone=ZONE, hour=2, minute=30),
            task_queue=task_queue,
        )
        # Setting it again updates the one schedule.
        assert schedule_id == await wallets.schedule_settlements(
            temporal, brand.id, data=SettlementScheduleCreate(timezone=ZONE), task_queue=task_queue
        )
        handle = temporal.get_schedule_handle(schedule_id)
        try:
            described = await handle.describe()
            assert described.schedule.spec.time_zone_name == ZONE
            async with running_worker(temporal, resources, task_queue):
                await handle.trigger()
                day = SettlementInput(tenant_id=brand.id, settlement_date=local_today())
                summary = await _when_started(temporal, day.workflow_id)
        finally:
            await handle.delete()
        assert (summary.settlement_date, summary.status) == (local_today(), "completed")


async def _when_started(temporal: Client, workflow_id: str) -> SettlementSummary:
    """The workflow's result once something has started it (polled, with a deadline)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return await result(temporal, workflow_id, None)
        except RPCError as e:  # not started yet
            if e.status != RPCStatusCode.NOT_FOUND or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


class TestWorkerRole:
    async def test_the_worker_role_serves_settlements(
        self, resources: Resources, brand: Brand, task_queue: str, temporal: Client
    ) -> None:
        owed = await restaurants_with_orders(resources, brand, 600)
        settings = resources.settings.model_copy(update={"temporal_task_queue": task_queue})
        stop = asyncio.Event()
        role = asyncio.create_task(run_worker(replace(resources, settings=settings), stop))
        try:
            day, after_cutoff = tomorrow()
            with clock.use(after_cutoff):
                summary = await result(temporal, *await settle(temporal, brand, task_queue, day))
        finally:
            stop.set()
            await asyncio.wait_for(role, timeout=30)
        assert summary.total_paid == sum(owed.values())
