"""Sending SMS: a provider interface and an adapter for Twilio's Messages API.

In dev and tests the adapter talks to `tiffin.sandbox.sms`, which speaks the same protocol.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import httpx
import structlog

log = structlog.get_logger(__name__)


class SmsFailed(RuntimeError):
    pass


class SmsProvider(Protocol):
    async def send(self, to: str, body: str) -> str:
        """Sends `body` to the E.164 number `to`; returns the provider's message id."""


class TwilioSms:
    """Retries throttling and server errors with exponential backoff; 4xx others are final."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        attempts: int = 3,
        backoff: float = 0.2,
    ) -> None:
        self.http = http
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = (account_sid, auth_token)
        self.sender = sender
        self.attempts = attempts
        self.backoff = backoff

    async def send(self, to: str, body: str) -> str:
        for attempt in range(1, self.attempts + 1):
            try:
                response = await self.http.post(
                    self.url, data={"To": to, "From": self.sender, "Body": body}, auth=self.auth
                )
            except httpx.TransportError as e:
                if attempt == self.attempts:
                    raise SmsFailed(f"transport: {e}") from e
            else:
                if response.status_code == 201:
                    return str(response.json()["sid"])
                retryable = response.status_code == 429 or response.status_code >= 500
                if not retryable or attempt == self.attempts:
                    raise SmsFailed(f"status {response.status_code}: {response.text[:200]}")
            log.warning("sms.retry", attempt=attempt)
            await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        raise SmsFailed("unreachable")
