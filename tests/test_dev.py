"""`tiffin dev` comes up ready and leaves no engine behind, whether stopped or killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tiffin.infra.embedded import free_port

pytestmark = pytest.mark.slow


ENGINES = ("postgres", "redis-server", "temporal")


def _engines_of(pid: int) -> list[psutil.Process]:
    """The PostgreSQL, Redis and Temporal processes (and PostgreSQL's backends) under `pid`."""
    return [p for p in psutil.Process(pid).children(recursive=True) if p.name().startswith(ENGINES)]


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p)
        except psutil.NoSuchProcess:
            pass
    return alive


def _wait(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout}s")
        time.sleep(0.1)


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, list[psutil.Process]]]:
    port = free_port()
    data_dir = tmp_path / "tiffin-data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIFFIN_")}
    log = (tmp_path / "dev.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tiffin.cli",
            "dev",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()

    def ready() -> bool:
        assert process.poll() is None, (tmp_path / "dev.log").read_text()
        try:
            response = httpx.get(f"{base}/readyz", timeout=1)
        except httpx.TransportError:
            return False
        return response.status_code == 200

    try:
        _wait(ready, 60, "tiffin dev ready")
        assert time.monotonic() - started < 60
        engines = _engines_of(process.pid)
        assert {p.name() for p in engines} >= {"postgres", "redis-server", "temporal"}
        yield process, base, engines
    finally:
        left = _alive(_engines_of(process.pid)) if process.poll() is None else []
        if process.poll() is None:
            process.kill()
        process.wait(10)
        log.close()
        for proc in left:
            proc.kill()


def test_dev_serves_the_demo_and_stops_cleanly_on_sigint(
    dev: tuple[subprocess.Popen[bytes], str, list[psutil.Process]],
) -> None:
    process, base, engines = dev
    checks = httpx.get(f"{base}/readyz").json()["checks"]
    assert checks == {"postgres": "ok", "redis": "ok", "temporal": "ok"}
    for brand in ("spice-route", "green-bowl"):
        restaurants = httpx.get(f"{base}/v1/restaurants", headers={"X-Tenant-ID": brand}).json()
        assert len(restaurants) == 1
        menu = httpx.get(
            f"{base}/v1/restaurants/{restaurants[0]['id']}/menu", headers={"X-Tenant-ID": brand}
        ).json()
        assert menu["menus"][0]["categories"][0]["items"]

    app = httpx.get(f"{base}/v1/app-config", headers={"X-Tenant-ID": "spice-route"})
    assert app.status_code == 200 and app.json()["theme"]["palette"]["primary"] == "#E23744"

    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 0
    assert not _alive(engines)


def test_a_killed_dev_takes_its_engines_with_it(
    dev: tuple[subprocess.Popen[bytes], str, list[psutil.Process]],
) -> None:
    process, _, engines = dev
    process.kill()  # SIGKILL: no cleanup code runs; the kernel's death signal does the work
    process.wait(10)
    _wait(lambda: not _alive(engines), 30, "no engine left")
