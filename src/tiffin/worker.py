"""The worker role: the outbox relay, event consumers and the Temporal worker."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

import structlog
from temporalio.worker import Worker

from tiffin.infra.bus.consumer import Consumer
from tiffin.infra.bus.outbox import OutboxRelay
from tiffin.infra.resources import Resources

log = structlog.get_logger(__name__)

# Capability modules add their workflows, activities and consumers here as they gain them.
WORKFLOWS: list[type[Any]] = []
ACTIVITIES: list[Any] = []


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
        worker = Worker(
            resources.temporal,
            task_queue=settings.temporal_task_queue,
            workflows=WORKFLOWS,
            activities=ACTIVITIES,
        )

        async def temporal_worker() -> None:
            async with worker:
                await stop.wait()

        tasks.append(asyncio.create_task(temporal_worker(), name="temporal-worker"))
    log.info("worker.started", tasks=[t.get_name() for t in tasks])
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        log.info("worker.stopped")
