"""Settlement activities: each opens its own tenant transactions through the wallet service
and is idempotent by business key (the run by tenant and day, a payout by tenant, restaurant
and day, a statement by all three), so Temporal may run any of them again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from tiffin.infra.clock import clock
from tiffin.infra.http.errors import TiffinError
from tiffin.ledger.errors import PayoutRaced
from tiffin.ledger.schemas import (
    DailySettlementInput,
    PayoutInput,
    RestaurantPayout,
    SettlementInput,
    SettlementPlan,
    SettlementSummary,
    StatementInput,
)
from tiffin.ledger.wallets import wallets


@contextmanager
def _business_errors() -> Iterator[None]:
    """Business failures end the activity with their stable type; only a payout that raced
    a concurrent movement is worth another attempt (it computes what is owed again)."""
    try:
        yield
    except PayoutRaced as e:
        raise ApplicationError(str(e), type=e.type) from e
    except TiffinError as e:
        raise ApplicationError(str(e), type=e.type, non_retryable=True) from e


class SettlementActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    def all(self) -> list[Callable[..., Any]]:
        return [self.today, self.open, self.pay_restaurant, self.write_statement, self.close]

    @activity.defn(name="settlement.today")
    async def today(self, data: DailySettlementInput) -> date:
        """The tenant's local date now: the day a scheduled run settles."""
        return clock.now().astimezone(ZoneInfo(data.timezone)).date()

    @activity.defn(name="settlement.open")
    async def open(self, data: SettlementInput) -> SettlementPlan:
        with _business_errors():
            return await wallets.open_settlement(
                self.sessionmaker,
                data.tenant_id,
                settlement_date=data.settlement_date,
                timezone=data.timezone,
            )

    @activity.defn(name="settlement.pay_restaurant")
    async def pay_restaurant(self, data: PayoutInput) -> RestaurantPayout:
        with _business_errors():
            return await wallets.pay_restaurant(self.sessionmaker, data.tenant_id, data=data)

    @activity.defn(name="settlement.write_statement")
    async def write_statement(self, data: StatementInput) -> bool:
        with _business_errors():
            return await wallets.write_statement(self.sessionmaker, data.tenant_id, data=data)

    @activity.defn(name="settlement.close")
    async def close(self, data: SettlementInput) -> SettlementSummary:
        with _business_errors():
            return await wallets.close_settlement(
                self.sessionmaker, data.tenant_id, settlement_date=data.settlement_date
            )
