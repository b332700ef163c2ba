"""Flag evaluation and app-config throughput.

Prints:
- one flag (platform = android AND app_version >= 5.2.0 by semver, then a 10% rollout on the
  user id) evaluated for 200,000 users, single-threaded, by tiffin's evaluator and by the
  GrowthBook Python SDK with the same rule (one instance reused): both rates and their ratio
  (goal: tiffin >= 5x the peer); it checks that about 10% of eligible users are on and no
  ineligible one is;
- GET /v1/app-config requests per second through a real `tiffin api` process, as a ratio to a
  bare endpoint (/healthz) of the same server in the same run (goal >= 0.6).
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from growthbook import GrowthBook

from _engines import engines
from _load import requests_per_second
from tiffin.flags.evaluator import compile_flags
from tiffin.flags.schemas import FlagDefinition
from tiffin.infra.clock import clock
from tiffin.infra.db import tenant_transaction
from tiffin.infra.embedded import free_port
from tiffin.infra.observability import configure_logging
from tiffin.infra.resources import Resources
from tiffin.settings import Settings
from tiffin.tenancy.schemas import TenantCreate
from tiffin.tenancy.service import tenants

USERS = 200_000
VERSIONS = ["4.9.0", "5.0.0", "5.1.9", "5.2.0", "5.2.1", "5.3.0", "6.0.0", "5.2.0-beta.2"]
RULE = {
    "environments": {
        "production": {
            "enabled": True,
            "rules": [
                {
                    "conditions": [
                        {"attribute": "platform", "op": "eq", "value": "android"},
                        {"attribute": "app_version", "op": "semver_gte", "value": "5.2.0"},
                    ],
                    "serve": {"rollout": {"on": 10, "off": 90}},
                }
            ],
            "fallthrough": {"variant": "off"},
        }
    }
}


def users() -> list[dict[str, Any]]:
    rng = random.Random(7)
    return [
        {
            "id": f"user-{i}",
            "user_id": f"user-{i}",
            "platform": rng.choice(("android", "ios", "web")),
            "app_version": rng.choice(VERSIONS),
        }
        for i in range(USERS)
    ]


def eligible(user: dict[str, Any]) -> bool:
    version = user["app_version"]
    core = tuple(int(p) for p in version.split("-")[0].split("."))
    return user["platform"] == "android" and core >= (5, 2, 0) and "-" not in version


def bench_evaluation() -> None:
    population = users()
    flags = compile_flags(
        1, [("f", FlagDefinition.model_validate(RULE), False)], [], "production", clock.now()
    )
    evaluate = flags.evaluate
    now = time.time()
    started = time.perf_counter()
    ours = [evaluate("f", u, now).value for u in population]
    ours_rate = USERS / (time.perf_counter() - started)

    gb = GrowthBook(
        features={
            "f": {
                "defaultValue": False,
                "rules": [
                    {
                        "condition": {"platform": "android", "app_version": {"$vgte": "5.2.0"}},
                        "force": True,
                        "coverage": 0.1,
                        "hashAttribute": "id",
                    }
                ],
            }
        }
    )
    their_population = [dict(u) for u in population]  # the SDK may keep and alter them
    started = time.perf_counter()
    theirs = []
    for user in their_population:
        gb.set_attributes(user)
        theirs.append(gb.is_on("f"))
    theirs_rate = USERS / (time.perf_counter() - started)
    gb.destroy()

    eligible_users = [i for i, u in enumerate(population) if eligible(u)]
    share = sum(ours[i] for i in eligible_users) / len(eligible_users)
    leaked = sum(1 for i, u in enumerate(population) if ours[i] and not eligible(u))
    peer_share = sum(theirs[i] for i in eligible_users) / len(eligible_users)
    print(f"tiffin evaluator:  {ours_rate:>12,.0f} evaluations/s")
    print(f"growthbook SDK:    {theirs_rate:>12,.0f} evaluations/s")
    print(f"ratio tiffin/peer: {ours_rate / theirs_rate:.1f}x (goal >= 5x)")
    print(
        f"eligible users on: {share:.2%} of {len(eligible_users):,} (peer {peer_share:.2%}); "
        f"ineligible users on: {leaked}"
    )
    assert 0.09 <= share <= 0.11 and leaked == 0


async def _prepare(settings: Settings) -> str:
    resources = await Resources.open(settings)
    try:
        async with tenant_transaction(resources.sessionmaker, None) as session:
            tenant = await tenants.create(session, TenantCreate(slug="bench", name="Bench"))
            key = (await tenants.issue_api_key(session, tenant.id, name="b", scopes=["*"])).key
    finally:
        await resources.close()
    return key


def bench_app_config(settings: Settings) -> None:
    key = asyncio.run(_prepare(settings))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIFFIN_")} | {
        "TIFFIN_DATABASE_URL": settings.database_url or "",
        "TIFFIN_REDIS_URL": settings.redis_url or "",
        "TIFFIN_TEMPORAL_ADDRESS": settings.temporal_address or "",
        "TIFFIN_PORT": str(port),
        "TIFFIN_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen([sys.executable, "-m", "tiffin.cli", "api"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.1)
        document = {
            "theme": {
                "palette": {"primary": "#E23744"},
                "logo_url": "https://cdn.example.com/logo.png",
            },
            "pages": {
                "home": {
                    "sections": [
                        {"id": "hero", "type": "banner"},
                        {"id": "wallet", "type": "wallet_card", "feature": "wallet"},
                    ]
                }
            },
            "features": {"rewards": True},
        }
        headers = {"X-API-Key": key}
        draft = httpx.post(
            f"{base}/v1/config/versions", json={"document": document}, headers=headers
        ).json()
        httpx.post(f"{base}/v1/config/versions/{draft['version']}/publish", headers=headers)
        httpx.put(f"{base}/v1/flags/new_menu", json=RULE, headers=headers)
        app_headers = {
            "X-Tenant-ID": "bench",
            "X-Platform": "android",
            "X-App-Version": "5.3.0",
            "X-Device-ID": "device-1",
        }
        requests_per_second("127.0.0.1", port, "/healthz", {}, seconds=1.0)  # warm up
        bare, _ = requests_per_second("127.0.0.1", port, "/healthz", {})
        ours, statuses = requests_per_second("127.0.0.1", port, "/v1/app-config", app_headers)
        assert set(statuses) == {200}, statuses
        print(f"bare endpoint /healthz: {bare:>8,.0f} req/s (ceiling)")
        print(f"GET /v1/app-config:     {ours:>8,.0f} req/s  ratio {ours / bare:.2f} (goal >= 0.6)")
    finally:
        server.terminate()
        server.wait(15)


def main() -> None:
    configure_logging("WARNING")
    bench_evaluation()
    with engines() as (settings, _):
        bench_app_config(settings)


if __name__ == "__main__":
    main()
