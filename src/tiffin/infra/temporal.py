"""Temporal client factory (Pydantic payloads)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter


async def connect_temporal(
    address: str, namespace: str = "default", *, lazy: bool = False
) -> Client:
    """`lazy` defers the connection to the first call, so an api process starts (and reports
    itself not ready) while Temporal is away."""
    return await Client.connect(
        address, namespace=namespace, lazy=lazy, data_converter=pydantic_data_converter
    )
