from __future__ import annotations

import dataclasses
import io
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import structlog

from tests.fixtures.tenants import Brand
from tiffin.app import create_app
from tiffin.infra.observability import configure_logging
from tiffin.infra.redis import create_redis
from tiffin.infra.resources import Resources


async def test_healthz_answers_without_any_engine(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_readyz_reports_each_engine(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"postgres": "ok", "redis": "ok", "temporal": "ok"},
    }


async def test_readyz_is_503_and_names_the_engine_that_is_down(resources: Resources) -> None:
    dead_redis = create_redis("redis://127.0.0.1:1/0")
    app = create_app(resources=dataclasses.replace(resources, redis=dead_redis))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await client.get("/readyz")
    await dead_redis.aclose()
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["postgres"] == checks["temporal"] == "ok"
    assert checks["redis"] != "ok"


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    assert "/v1/restaurants" in spec["paths"]


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    yield out
    configure_logging("INFO", "json", stream=sys.__stderr__)


def _lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in out.getvalue().splitlines() if line]


async def test_logs_are_json_with_request_and_tenant_ids_and_no_secrets(
    client: httpx.AsyncClient, brand: Brand, logs: io.StringIO
) -> None:
    await client.get("/v1/tenant", headers={**brand.writer, "X-Request-ID": "log-1"})
    lines = _lines(logs)
    [access] = [x for x in lines if x.get("request_id") == "log-1" and x["event"] == "request"]
    assert access["tenant_id"] == str(brand.id)
    assert access["status"] == 200
    assert "trace_id" in access
    assert brand.api_key not in logs.getvalue()


def test_secret_fields_are_redacted(logs: io.StringIO) -> None:
    structlog.get_logger("t").info("login", password="hunter2", nested={"api_key": "k"}, who="a")
    [line] = _lines(logs)
    assert line["password"] == "[redacted]"
    assert line["nested"] == {"api_key": "[redacted]"}
    assert line["who"] == "a"
