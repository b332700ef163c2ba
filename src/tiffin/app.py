"""The FastAPI application: middleware, routers, error handlers, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from temporalio.client import Client

from tiffin import __version__
from tiffin.catalog.api import router as catalog_router
from tiffin.config.api import config_runtime
from tiffin.config.api import router as config_router
from tiffin.flags.api import feature_gate, flags_runtime
from tiffin.flags.api import router as flags_router
from tiffin.identity.api import AccessTokenMiddleware, identity_runtime
from tiffin.identity.api import routers as identity_routers
from tiffin.infra.health import readiness
from tiffin.infra.http.deps import ResourcesDep
from tiffin.infra.http.errors import install_error_handlers
from tiffin.infra.http.middleware import BodyLimitMiddleware, RequestContextMiddleware
from tiffin.infra.resources import Resources
from tiffin.ledger.api import ledger_runtime
from tiffin.ledger.api import router as ledger_router
from tiffin.settings import Settings, get_settings
from tiffin.tenancy.api import TenantMiddleware
from tiffin.tenancy.api import router as tenancy_router
from tiffin.tenancy.service import tenants


@asynccontextmanager
async def module_runtimes(resources: Resources) -> AsyncIterator[None]:
    """Per-process machinery of the modules (caches, key rings, Pub/Sub watchers)."""
    async with (
        identity_runtime(resources),
        flags_runtime(resources),
        config_runtime(resources),
        ledger_runtime(resources),
    ):
        yield


def create_app(settings: Settings | None = None, resources: Resources | None = None) -> FastAPI:
    """`resources` lets a caller that already holds connections and runs the module runtimes
    (tests, `tiffin dev`) share them; otherwise the app opens its own from settings, runs the
    runtimes, and closes everything on shutdown."""
    settings = settings or (resources.settings if resources else get_settings())
    tenants.configure(cache_seconds=settings.tenant_cache_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if resources is not None:
            app.state.resources = resources
            yield
            return
        app.state.resources = opened = await Resources.open(settings)
        try:
            async with module_runtimes(opened):
                yield
        finally:
            await opened.close()

    app = FastAPI(
        title="tiffin",
        version=__version__,
        summary="Multi-tenant food-commerce and delivery platform",
        lifespan=lifespan,
    )
    if resources is not None:
        app.state.resources = resources
    app.state.feature_gate = feature_gate
    install_error_handlers(app)
    # Added innermost first: request context wraps everything, then the body limit, then the
    # tenant, then the account (whose token must belong to that tenant).
    app.add_middleware(AccessTokenMiddleware)
    app.add_middleware(TenantMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)

    @app.get("/healthz", tags=["health"], summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="PostgreSQL, Redis and Temporal answer",
        responses={503: {"description": "a dependency is not ready"}},
    )
    async def readyz(resources: ResourcesDep) -> JSONResponse:
        async def temporal() -> Client:
            return resources.temporal

        checks = await readiness(resources.engine, resources.redis, temporal)
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    # Apps' hottest read first: routes are matched in order.
    app.include_router(config_router)
    app.include_router(tenancy_router)
    for router in identity_routers:
        app.include_router(router)
    app.include_router(catalog_router)
    app.include_router(flags_router)
    app.include_router(ledger_router)
    return app
