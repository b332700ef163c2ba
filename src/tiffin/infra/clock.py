"""One injectable clock: workflows, simulations and tests decide what time it is.

Modules import the shared `clock` and call `clock.now()`; a test swaps its source with
`clock.use(FrozenClock(...))` instead of sleeping through a timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, at: datetime | None = None) -> None:
        self._at = at or datetime.now(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


class SharedClock:
    def __init__(self) -> None:
        self._source: Clock = SystemClock()

    def now(self) -> datetime:
        return self._source.now()

    @contextmanager
    def use(self, source: Clock) -> Iterator[Clock]:
        previous, self._source = self._source, source
        try:
            yield source
        finally:
            self._source = previous


clock = SharedClock()
