"""The `tiffin` command: one process role per subcommand."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import SecretStr

from tiffin.app import create_app, module_runtimes
from tiffin.infra.embedded import EmbeddedEngines
from tiffin.infra.observability import configure_logging
from tiffin.infra.resources import Resources
from tiffin.sandbox.server import SandboxServer
from tiffin.sandbox.sms import ACCOUNT_SID, AUTH_TOKEN, create_sms_provider
from tiffin.settings import Settings, get_settings

app = typer.Typer(
    help="tiffin: multi-tenant food-commerce and delivery platform",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class _Server(uvicorn.Server):
    """uvicorn that leaves signals to us: the role decides the shutdown order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def _serve_api(settings: Settings, resources: Resources, stop: asyncio.Event) -> None:
    config = uvicorn.Config(
        create_app(resources=resources),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task


def _admin_url(settings: Settings) -> str:
    url = settings.database_admin_url or settings.database_url
    if url is None:
        raise typer.BadParameter("TIFFIN_DATABASE_URL is not set")
    return url


async def _dev(settings: Settings) -> None:
    from tiffin import demo
    from tiffin.migrations import upgrade
    from tiffin.worker import run_worker

    assert settings.database_url
    await upgrade(_admin_url(settings), settings.database_url)
    resources = await Resources.open(settings)
    stop = asyncio.Event()
    _stop_on_signals(stop)
    try:
        async with module_runtimes(resources):
            keys = await demo.seed(resources.sessionmaker)
            _print_banner(settings, keys)
            await asyncio.gather(_serve_api(settings, resources, stop), run_worker(resources, stop))
    finally:
        await resources.close()


def _print_banner(settings: Settings, keys: dict[str, str]) -> None:
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        "",
        f"  tiffin dev is up: {base}  (docs: {base}/docs, readiness: {base}/readyz)",
        f"  PostgreSQL {settings.database_url}",
        f"  Redis      {settings.redis_url}",
        f"  Temporal   {settings.temporal_address}",
        f"  SMS        {settings.sms_api_url}  (OTPs sent: /sandbox/messages)",
        "  Demo brands: send `X-Tenant-ID: spice-route` or `X-Tenant-ID: green-bowl`",
    ]
    lines += [f"  API key for {slug} (shown once): {key}" for slug, key in keys.items()]
    print("\n".join(lines) + "\n  Ctrl-C stops everything.\n", flush=True)


@app.command()
def dev(
    port: Annotated[int | None, typer.Option(help="API port")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="where embedded engines keep data")] = None,
) -> None:
    """Embedded PostgreSQL, Redis and Temporal + migrations + demo data + every role."""
    settings = get_settings()
    update: dict[str, object] = {"env": "dev"}
    if port is not None:
        update["port"] = port
    if data_dir is not None:
        update["data_dir"] = data_dir
    settings = settings.model_copy(update=update)
    configure_logging(settings.log_level, settings.log_format)
    engines = EmbeddedEngines(settings.data_dir, temporal_ui=True)
    sandboxes: list[SandboxServer] = []
    try:
        urls: dict[str, object] = {}
        if settings.sms_api_url is None:
            # No SMS provider configured: OTPs go to the local Twilio-protocol sandbox.
            sms = SandboxServer(create_sms_provider())
            sandboxes.append(sms)
            urls |= {
                "sms_api_url": sms.start(),
                "sms_account_sid": ACCOUNT_SID,
                "sms_auth_token": SecretStr(AUTH_TOKEN),
            }
        if settings.database_url is None:
            urls["database_url"], urls["database_admin_url"] = engines.start_postgres()
        if settings.redis_url is None:
            urls["redis_url"] = engines.start_redis()
        if settings.temporal_address is None:
            urls["temporal_address"] = engines.start_temporal()
        asyncio.run(_dev(settings.model_copy(update=urls)))
    finally:
        for sandbox in sandboxes:
            sandbox.stop()
        engines.stop()


@app.command()
def api(
    workers: Annotated[int, typer.Option(help="processes")] = 1,
) -> None:
    """The HTTP API (stateless: run as many as you like)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        "tiffin.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


@app.command()
def worker() -> None:
    """Outbox relay, event consumers and Temporal workers."""
    from tiffin.worker import run_worker

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)

    async def main() -> None:
        resources = await Resources.open(settings)
        stop = asyncio.Event()
        _stop_on_signals(stop)
        try:
            await run_worker(resources, stop)
        finally:
            await resources.close()

    asyncio.run(main())


@app.command()
def migrate(revision: str = "head") -> None:
    """Applies schema migrations as the owner and grants the runtime role its access."""
    from tiffin.migrations import upgrade

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    if settings.database_url is None:
        print("TIFFIN_DATABASE_URL is not set", file=sys.stderr)
        raise typer.Exit(2)
    asyncio.run(upgrade(_admin_url(settings), settings.database_url, revision))


@app.command()
def seed() -> None:
    """Creates the demo brands if they are missing."""
    from tiffin import demo

    settings = get_settings()

    async def main() -> None:
        resources = await Resources.open(settings)
        try:
            async with module_runtimes(resources):
                for slug, key in (await demo.seed(resources.sessionmaker)).items():
                    print(f"API key for {slug} (shown once): {key}")
        finally:
            await resources.close()

    asyncio.run(main())


ledger_app = typer.Typer(help="The double-entry ledger", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("verify")
def ledger_verify(
    tenant: Annotated[list[str] | None, typer.Option(help="tenant ids (default: all)")] = None,
) -> None:
    """Recomputes every balance from the transfers and checks debits equal credits per
    tenant and currency; exits 1 on any difference."""
    import uuid

    from tiffin.infra.db import tenant_transaction
    from tiffin.ledger.service import ledger
    from tiffin.tenancy.service import tenants

    settings = get_settings()
    configure_logging("WARNING", settings.log_format)

    async def main() -> int:
        resources = await Resources.open(settings)
        try:
            if tenant:
                ids = [uuid.UUID(t) for t in tenant]
            else:
                async with tenant_transaction(resources.sessionmaker, None) as session:
                    ids = await tenants.ids(session)
            problems = await ledger.verify(resources.sessionmaker, ids)
        finally:
            await resources.close()
        for problem in problems:
            print(f"MISMATCH tenant {problem.tenant_id}: {problem.what}")
        print(f"ledger verify: {len(ids)} tenant(s), {len(problems)} difference(s)")
        return 1 if problems else 0

    raise typer.Exit(asyncio.run(main()))


if __name__ == "__main__":
    app()
