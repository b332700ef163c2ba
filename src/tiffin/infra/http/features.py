"""Routes gated by a feature: `feature("otp_login")` answers 403 `feature-disabled` when the
flag is off for this caller. The flags module provides the gate (app.py wires it), so any
module can gate a route without importing flags."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Depends, Request

from tiffin.infra.http.errors import TiffinError

FeatureGate = Callable[[Request, str], Awaitable[bool]]


class FeatureDisabled(TiffinError):
    status, type, title = 403, "feature-disabled", "This feature is turned off"


def feature(key: str) -> Any:
    async def dependency(request: Request) -> None:
        gate: FeatureGate | None = getattr(request.app.state, "feature_gate", None)
        if gate is not None and not await gate(request, key):
            raise FeatureDisabled(f"{key!r} is off for this app")

    return Depends(dependency)
