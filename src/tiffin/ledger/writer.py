"""The single writer path: group commit.

Requests queue up while the previous batch commits; the writer then takes everything queued
(up to `max_batch` transfers) and runs it as one transaction per tenant: lock the touched
accounts in id order, evaluate every transfer against balances as they evolve, and write the
accepted transfers and the new balances with one statement each. A hot account is locked once
per batch, not once per transfer. No timer: an idle system commits a lone transfer at once.

A conflict with another process's writer (the same transfer id, or a pending transfer
resolved twice) makes the database refuse the batch; it is retried and then sees the other
side's rows, so every request still gets a precise answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import structlog
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiffin.infra.clock import clock
from tiffin.infra.db import tenant_transaction
from tiffin.ledger.engine import Engine, Result, Transfer
from tiffin.ledger.repository import LedgerRepository

log = structlog.get_logger(__name__)


@dataclass
class _Request:
    tenant_id: uuid.UUID
    transfers: list[Transfer]
    linked: bool
    done: asyncio.Future[list[Result]] = field(repr=False)


class LedgerWriter:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        max_batch: int = 8190,
        attempts: int = 5,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.max_batch = max_batch
        self.attempts = attempts
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def submit(
        self, tenant_id: uuid.UUID, transfers: list[Transfer], *, linked: bool = False
    ) -> list[Result]:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="ledger-writer")
        done: asyncio.Future[list[Result]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(tenant_id, transfers, linked, done))
        return await done

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            size = len(batch[0].transfers)
            while size < self.max_batch and not self._queue.empty():
                request = self._queue.get_nowait()
                batch.append(request)
                size += len(request.transfers)
            by_tenant: dict[uuid.UUID, list[_Request]] = defaultdict(list)
            for request in batch:
                by_tenant[request.tenant_id].append(request)
            for tenant_id, requests in by_tenant.items():
                await self._commit(tenant_id, requests)

    async def _commit(self, tenant_id: uuid.UUID, requests: list[_Request]) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                results = await self._transaction(tenant_id, requests)
            except (IntegrityError, DBAPIError) as e:
                if attempt < self.attempts and _retryable(e):
                    log.info("ledger.batch_retry", attempt=attempt, error=type(e).__name__)
                    continue
                for request in requests:
                    if not request.done.done():
                        request.done.set_exception(e)
                return
            except Exception as e:  # never leave a caller waiting
                for request in requests:
                    if not request.done.done():
                        request.done.set_exception(e)
                return
            for request, result in zip(requests, results, strict=True):
                if not request.done.done():
                    request.done.set_result(result)
            return

    async def _transaction(
        self, tenant_id: uuid.UUID, requests: list[_Request]
    ) -> list[list[Result]]:
        transfers = [t for r in requests for t in r.transfers]
        async with tenant_transaction(self.sessionmaker, tenant_id) as session:
            repo = LedgerRepository.from_session(session)
            existing = await repo.transfers(tenant_id, [t.id for t in transfers])
            pendings = await repo.pendings(
                tenant_id, [t.pending_id for t in transfers if t.pending_id]
            )
            touched = {
                a
                for t in transfers
                for a in (t.debit_account_id, t.credit_account_id)
                if a is not None
            }
            touched |= {
                a
                for p in pendings.values()
                for a in (p.transfer.debit_account_id, p.transfer.credit_account_id)
                if a is not None
            }
            accounts = await repo.lock_accounts(tenant_id, touched)
            before = {k: v.balances() for k, v in accounts.items()}
            engine = Engine(accounts, existing, pendings, clock.now())
            results = [engine.apply(r.transfers, linked=r.linked) for r in requests]
            await repo.insert_transfers(tenant_id, engine.accepted)
            await repo.update_balances(
                tenant_id,
                [a for k, a in engine.accounts.items() if a.balances() != before.get(k)],
            )
        return results


def _retryable(error: Exception) -> bool:
    code = getattr(getattr(error, "orig", None), "sqlstate", None) or ""
    # unique violation (a concurrent writer stored the same id), serialization, deadlock
    return code in ("23505", "40001", "40P01") or isinstance(error, IntegrityError)
