"""The worker role: the outbox relay, event consumers and the Temporal worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from temporalio.worker import Worker

from tiffin.infra.bus.consumer import Consumer
from tiffin.infra.bus.outbox import OutboxRelay
from tiffin.infra.db import tenant_transaction
from tiffin.infra.resources import Resources
from tiffin.infra.temporal import connect_temporal
from tiffin.ledger.activities import SettlementActivities
from tiffin.ledger.service import ledger
from tiffin.ledger.wallets import wallets
from tiffin.ledger.workflows import DailySettlementWorkflow, SettlementWorkflow
from tiffin.tenancy.service import tenants

log = structlog.get_logger(__name__)
SWEEP_SECONDS = 15.0

# Capability modules add their workflows, activities and consumers here as they gain them.
WORKFLOWS: list[type[Any]] = [SettlementWorkflow, DailySettlementWorkflow]
ACTIVITIES: list[Any] = []


def activities(resources: Resources) -> list[Callable[..., Any]]:
    """ACTIVITIES and the activities bound to this process's connections."""
    return [*ACTIVITIES, *SettlementActivities(resources.sessionmaker).all()]


@asynccontextmanager
async def ledger_writer(resources: Resources) -> AsyncIterator[None]:
    """Activities move money through the process's ledger writer: `tiffin dev` has one from
    the api's module runtimes, `tiffin worker` starts its own."""
    if hasattr(ledger, "writer"):
        yield
        return
    ledger.configure(resources.sessionmaker)
    try:
        yield
    finally:
        await ledger.writer.close()


def consumers(resources: Resources) -> list[Consumer]:
    return []


async def run_worker(resources: Resources, stop: asyncio.Event) -> None:
    settings = resources.settings
    instance = f"{socket.gethostname()}-{os.getpid()}"
    relay = OutboxRelay(
        resources.sessionmaker,
        resources.bus,
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
    )
    tasks = [asyncio.create_task(relay.run(stop), name="outbox-relay")]
    tasks += [
        asyncio.create_task(c.run(resources.bus, stop, instance=instance), name=c.name)
        for c in consumers(resources)
    ]
    if WORKFLOWS or ACTIVITIES:

        async def temporal_worker() -> None:
            # Workers need a connected client; the shared one is lazy so that an api process
            # starts while Temporal is away.
            assert settings.temporal_address
            client = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
            worker = Worker(
                client,
                task_queue=settings.temporal_task_queue,
                workflows=WORKFLOWS,
                activities=activities(resources),
            )
            async with worker:
                await stop.wait()

        tasks.append(asyncio.create_task(temporal_worker(), name="temporal-worker"))
    tasks.append(asyncio.create_task(sweep_ledger(resources, stop), name="ledger-sweeper"))
    log.info("worker.started", tasks=[t.get_name() for t in tasks])
    try:
        async with ledger_writer(resources):
            await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        log.info("worker.stopped")


async def sweep_ledger(
    resources: Resources, stop: asyncio.Event, *, every_seconds: float = SWEEP_SECONDS
) -> None:
    """Releases holds past their timeout and takes back expired promotional credit, for
    every tenant. Both are idempotent (ids derive from what they resolve), so several
    workers may sweep at once."""
    while not stop.is_set():
        try:
            async with tenant_transaction(resources.sessionmaker, None) as session:
                tenant_ids = await tenants.ids(session)
            for tenant_id in tenant_ids:
                await ledger.expire_pending(resources.sessionmaker, tenant_id)
                await wallets.expire_promotions(resources.sessionmaker, tenant_id)
        except Exception:
            log.exception("ledger.sweep_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_seconds)
