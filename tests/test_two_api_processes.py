"""Changes reach every api process: two real `tiffin api` processes share the engines."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from httpx_sse import aconnect_sse

from tests.config.test_config import DOCUMENT, publish
from tests.fixtures.tenants import Brand
from tiffin.infra.embedded import free_port
from tiffin.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_processes(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIFFIN_")}
    env |= {
        "TIFFIN_DATABASE_URL": settings.database_url or "",
        "TIFFIN_REDIS_URL": settings.redis_url or "",
        "TIFFIN_TEMPORAL_ADDRESS": settings.temporal_address or "",
        "TIFFIN_SMS_API_URL": settings.sms_api_url or "",
        "TIFFIN_SMS_ACCOUNT_SID": settings.sms_account_sid,
        "TIFFIN_SMS_AUTH_TOKEN": settings.sms_auth_token.get_secret_value(),
        "TIFFIN_LOG_LEVEL": "WARNING",
    }
    logs = Path(tmp_path_factory.mktemp("api"))
    processes, urls = [], []
    for n in range(2):
        port = free_port()
        out = (logs / f"api-{n}.log").open("wb")
        processes.append(
            (
                subprocess.Popen(
                    [sys.executable, "-m", "tiffin.cli", "api"],
                    env={**env, "TIFFIN_PORT": str(port)},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                ),
                out,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    for url, (process, _) in zip(urls, processes, strict=True):
        while True:
            assert process.poll() is None, (logs / "api-0.log").read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "api processes not ready"
            time.sleep(0.1)
    yield urls
    for process, out in processes:
        process.terminate()
        process.wait(15)
        out.close()


async def test_a_published_config_reaches_the_other_process_sse_client_within_a_second(
    api_processes: list[str], brand: Brand
) -> None:
    first, second = api_processes
    async with (
        httpx.AsyncClient(base_url=first) as a,
        httpx.AsyncClient(base_url=second, timeout=10) as b,
    ):
        await publish(a, brand, DOCUMENT)
        async with aconnect_sse(b, "GET", "/v1/app-config/stream", headers=brand.headers) as sse:
            events = sse.aiter_sse()
            initial = await anext(events)
            assert initial.event == "config"
            changed = {**DOCUMENT, "theme": {**DOCUMENT["theme"], "corner_radius": 20}}
            version = (
                await a.post(
                    "/v1/config/versions", json={"document": changed}, headers=brand.writer
                )
            ).json()["version"]
            started = time.monotonic()
            await a.post(f"/v1/config/versions/{version}/publish", headers=brand.writer)
            pushed = await asyncio.wait_for(anext(events), 5)
            elapsed = time.monotonic() - started
    assert pushed.json()["version"] == version
    assert elapsed < 1.0, elapsed


async def test_a_flag_turned_off_gates_both_processes_on_their_next_request(
    api_processes: list[str], brand: Brand
) -> None:
    otp = {"phone": "+919822222222"}
    async with httpx.AsyncClient() as http:
        for n, url in enumerate(api_processes):  # warm both processes' caches: flag on
            response = await http.post(
                f"{url}/v1/auth/otp", json={"phone": f"+91980000000{n}"}, headers=brand.headers
            )
            assert response.status_code == 202
        turned_off = await http.put(
            f"{api_processes[0]}/v1/flags/otp_login",
            json={"environments": {"production": {"enabled": False}}},
            headers=brand.writer,
        )
        assert turned_off.status_code == 200
        for url in api_processes:
            response = await http.post(f"{url}/v1/auth/otp", json=otp, headers=brand.headers)
            assert response.status_code == 403, url
            assert response.json()["type"].endswith("/feature-disabled")
