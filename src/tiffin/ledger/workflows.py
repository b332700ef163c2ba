"""Settlement workflows. Deterministic: every effect is an activity, every clock read is
`workflow.now()`.

`SettlementWorkflow` (id `settlement-{tenant}-{date}`) opens the run, pays each restaurant
and writes its statement, then closes the run. Crash safety does not rest on Temporal alone:
a payout's transfer id is derived from (tenant, restaurant, date), so a retried activity, a
replayed workflow, or a run terminated and started afresh finds the payout already in the
ledger and pays nothing twice.

`DailySettlementWorkflow` is what a tenant's Temporal schedule starts: it settles the local
day as a child with the business-key id, and steps aside when that day is settled already.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from tiffin.ledger.activities import SettlementActivities
    from tiffin.ledger.schemas import (
        DailySettlementInput,
        PayoutInput,
        SettlementInput,
        SettlementPlan,
        SettlementSummary,
        StatementInput,
    )

TIMEOUT = timedelta(minutes=2)
# Unlimited attempts with backoff: a database or worker outage only delays the run.
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
PARALLEL = 8  # restaurants settled at once; bounds the load on the ledger writer


@workflow.defn(name="SettlementWorkflow")
class SettlementWorkflow:
    @workflow.run
    async def run(self, data: SettlementInput) -> SettlementSummary:
        plan = await workflow.execute_activity_method(
            SettlementActivities.open, data, start_to_close_timeout=TIMEOUT, retry_policy=RETRY
        )
        for i in range(0, len(plan.restaurants), PARALLEL):
            chunk = plan.restaurants[i : i + PARALLEL]
            await asyncio.gather(*(self._settle(plan, r) for r in chunk))
        return await workflow.execute_activity_method(
            SettlementActivities.close, data, start_to_close_timeout=TIMEOUT, retry_policy=RETRY
        )

    async def _settle(self, plan: SettlementPlan, restaurant_id: uuid.UUID) -> None:
        payout = await workflow.execute_activity_method(
            SettlementActivities.pay_restaurant,
            PayoutInput(
                tenant_id=plan.tenant_id,
                settlement_date=plan.settlement_date,
                cutoff=plan.cutoff,
                restaurant_id=restaurant_id,
            ),
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )
        await workflow.execute_activity_method(
            SettlementActivities.write_statement,
            StatementInput(
                tenant_id=plan.tenant_id,
                settlement_date=plan.settlement_date,
                period_start=plan.period_start,
                cutoff=plan.cutoff,
                payout=payout,
            ),
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )


@workflow.defn(name="DailySettlementWorkflow")
class DailySettlementWorkflow:
    @workflow.run
    async def run(self, data: DailySettlementInput) -> SettlementSummary | None:
        # Time zones need tzdata, which the sandbox keeps out: a local activity reads the date.
        today = await workflow.execute_local_activity_method(
            SettlementActivities.today, data, start_to_close_timeout=timedelta(seconds=10)
        )
        day = SettlementInput(
            tenant_id=data.tenant_id, settlement_date=today, timezone=data.timezone
        )
        try:
            return await workflow.execute_child_workflow(
                SettlementWorkflow.run,
                day,
                id=day.workflow_id,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                # A settlement outlives the schedule's run that started it.
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.info(
                "settlement already started or done", extra={"id": day.workflow_id}
            )
            return None
