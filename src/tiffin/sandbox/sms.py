"""An SMS provider that speaks Twilio's Messages API (2010-04-01), for dev and tests.

Point a Twilio client at this server's base URL instead of https://api.twilio.com. Sent
messages are kept in memory, newest last; hooks under `/sandbox/` list and clear them and make
the next sends fail, so callers' retry paths can be tested.

Every route is `async`, so the state is touched from the server's one event loop only.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from tiffin.infra.clock import clock

API_VERSION = "2010-04-01"
ACCOUNT_SID = "ACsandbox"
AUTH_TOKEN = "sandbox-token"  # noqa: S105 - the sandbox's well-known default, not a secret
MAX_BODY = 1600  # Twilio's limit on a concatenated message
_E164 = re.compile(r"\+[1-9]\d{1,14}")
# An alphanumeric sender ID: up to 11 letters, digits or spaces, at least one letter.
_SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
# GSM 03.38: the basic set costs one septet a character, the extension set two.
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = set("^{}\\[~]|€\f")
_FAILURES = {
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}


class FailNext(BaseModel):
    status: Literal[429, 500, 503]
    count: int = Field(default=1, ge=1)


@dataclass(frozen=True)
class SentMessage:
    sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    date_created: datetime

    def summary(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "date_created": _rfc2822(self.date_created),
        }


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> JSONResponse:
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if self.status == 401 else None
        return JSONResponse(body, status_code=self.status, headers=headers)


@dataclass
class SmsProvider:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    messages: list[SentMessage] = field(default_factory=list)
    fail_status: int = 500
    fail_count: int = 0

    def authenticate(self, path_sid: str, authorization: str | None) -> None:
        credentials = _basic_credentials(authorization)
        if (
            credentials is None
            or path_sid != self.account_sid
            or not hmac.compare_digest(credentials[0].encode(), self.account_sid.encode())
            or not hmac.compare_digest(credentials[1].encode(), self.auth_token.encode())
        ):
            raise TwilioError(401, 20003, "Authenticate")

    def send(self, form: dict[str, str]) -> SentMessage:
        if self.fail_count > 0:
            self.fail_count -= 1
            code, title = _FAILURES[self.fail_status]
            raise TwilioError(self.fail_status, code, title)

        to = form.get("To", "")
        sender = form.get("From") or None
        service = form.get("MessagingServiceSid") or None
        body = form.get("Body", "")
        if not to:
            raise TwilioError(400, 21604, "A 'To' phone number is required.")
        if not _E164.fullmatch(to):
            raise TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if sender is None and service is None:
            raise TwilioError(400, 21603, "A 'From' phone number is required.")
        if sender is not None and not (_E164.fullmatch(sender) or _SENDER_ID.fullmatch(sender)):
            raise TwilioError(
                400,
                21212,
                f"The 'From' number {sender} is not a valid phone number, shortcode, "
                "or alphanumeric sender ID.",
            )
        if not body:
            raise TwilioError(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            raise TwilioError(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )

        message = SentMessage(
            sid="SM" + uuid.uuid4().hex,
            to=to,
            from_=sender,
            messaging_service_sid=service,
            body=body,
            date_created=clock.now(),
        )
        self.messages.append(message)
        return message

    def resource(self, message: SentMessage) -> dict[str, Any]:
        """The message as Twilio's API returns it (counts are strings there, too)."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}"
        created = _rfc2822(message.date_created)
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": message.body,
            "date_created": created,
            "date_sent": None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": message.from_,
            "messaging_service_sid": message.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(num_segments(message.body)),
            "price": None,
            "price_unit": "USD",
            "sid": message.sid,
            # Twilio "accepts" a send through a Messaging Service before it picks a sender.
            "status": "accepted" if message.from_ is None else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": message.to,
            "uri": f"{uri}.json",
        }


def num_segments(body: str) -> int:
    """SMS parts the body takes: GSM-7 fits 160 septets (153 when split), else UCS-2 fits 70
    UTF-16 units (67 when split)."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENSION for c in body):
        units, single, part = sum(2 if c in _GSM_EXTENSION else 1 for c in body), 160, 153
    else:
        units, single, part = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / part)


def create_sms_provider(*, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> FastAPI:
    provider = SmsProvider(account_sid=account_sid, auth_token=auth_token)
    app = FastAPI(title="tiffin sandbox: SMS provider (Twilio)", openapi_url=None)
    app.state.provider = provider

    @app.post("/2010-04-01/Accounts/{account_sid}/Messages.json")
    async def create_message(account_sid: str, request: Request) -> Response:
        try:
            provider.authenticate(account_sid, request.headers.get("authorization"))
            form = await request.form()
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            message = provider.send(fields)
        except TwilioError as e:
            return e.response()
        return JSONResponse(provider.resource(message), status_code=201)

    @app.get("/sandbox/messages")
    async def list_messages(to: str | None = None) -> list[dict[str, Any]]:
        return [m.summary() for m in provider.messages if to is None or m.to == to]

    @app.delete("/sandbox/messages", status_code=204)
    async def clear_messages() -> None:
        provider.messages.clear()

    @app.post("/sandbox/fail-next")
    async def fail_next(body: FailNext) -> FailNext:
        provider.fail_status, provider.fail_count = body.status, body.count
        return body

    return app


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    scheme, _, param = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, sep, password = (
            base64.b64decode(param.strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (username, password) if sep else None


def _rfc2822(at: datetime) -> str:
    return format_datetime(at)  # e.g. "Thu, 30 Jul 2015 20:12:31 +0000", as Twilio writes it
