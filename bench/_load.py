"""A lean HTTP/1.1 load generator for the benchmarks: keep-alive connections from a separate
process (the other core), fixed request bytes, responses read by Content-Length, so the client
costs far less than the server it measures."""

from __future__ import annotations

import asyncio
import multiprocessing
import time


async def _connection(
    host: str, port: int, request: bytes, until: float, counts: list[int], statuses: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            statuses[status] = statuses.get(status, 0) + 1
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            counts[0] += 1
    finally:
        writer.close()


async def _run(
    host: str, port: int, request: bytes, seconds: float, connections: int
) -> tuple[float, dict[int, int]]:
    counts, statuses = [0], {}
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(
        *(_connection(host, port, request, until, counts, statuses) for _ in range(connections))
    )
    return counts[0] / (time.perf_counter() - started), statuses


def _worker(args: tuple[str, int, bytes, float, int]) -> tuple[float, dict[int, int]]:
    return asyncio.run(_run(*args))


def requests_per_second(
    host: str,
    port: int,
    path: str,
    headers: dict[str, str],
    *,
    seconds: float = 5.0,
    connections: int = 16,
) -> tuple[float, dict[int, int]]:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_worker, ((host, port, request, seconds, connections),))
