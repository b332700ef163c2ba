"""Who is calling, as far as routes need to know: a principal holding scopes.

The tenancy middleware sets an API-key principal; identity adds users. Routes only ask for a
scope, so they do not care which kind of principal holds it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from fastapi import Request

from tiffin.infra.http.errors import TiffinError


class Unauthenticated(TiffinError):
    status, type, title = 401, "unauthenticated", "This call needs credentials"


class InsufficientScope(TiffinError):
    status, type, title = (
        403,
        "insufficient-scope",
        "The credentials lack the scope this call needs",
    )


class Principal(Protocol):
    @property
    def scopes(self) -> frozenset[str]: ...

    @property
    def actor(self) -> str:
        """Who, for audit records: `account:<id>` or `api_key:<id>`."""
        ...


def require_scope(scope: str) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    async def dependency(request: Request) -> Principal:
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            raise Unauthenticated()
        if scope not in principal.scopes and "*" not in principal.scopes:
            raise InsufficientScope(f"missing scope {scope!r}")
        return principal

    return dependency


async def current_principal(request: Request) -> Principal:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise Unauthenticated()
    return principal
