"""The sandbox SMS provider answers as Twilio's Messages API does, over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx
import pytest

from tiffin.sandbox.server import SandboxServer
from tiffin.sandbox.sms import create_sms_provider

ACCOUNT = "AC" + "0" * 32
TOKEN = "twilio-test-token"
TO = "+919876543210"
FROM = "+15005550006"


@dataclass
class Twilio:
    url: str
    http: httpx.Client

    def send(
        self, *, auth: tuple[str, str] = (ACCOUNT, TOKEN), account: str = ACCOUNT, **form: str
    ) -> httpx.Response:
        data = {"To": TO, "From": FROM, "Body": "Your OTP is 123456"} | form
        return self.http.post(
            f"{self.url}/2010-04-01/Accounts/{account}/Messages.json", data=data, auth=auth
        )

    def sent(self, to: str | None = None) -> list[dict[str, str]]:
        params = {"to": to} if to else None
        response = self.http.get(f"{self.url}/sandbox/messages", params=params)
        assert response.status_code == 200
        messages: list[dict[str, str]] = response.json()
        return messages


def assert_twilio_error(response: httpx.Response, status: int, code: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["message"]
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"


@pytest.fixture(scope="module")
def server() -> Iterator[Twilio]:
    app = create_sms_provider(account_sid=ACCOUNT, auth_token=TOKEN)
    with SandboxServer(app) as server, httpx.Client(timeout=5) as http:
        yield Twilio(server.url, http)


@pytest.fixture
def twilio(server: Twilio) -> Twilio:
    assert server.http.delete(f"{server.url}/sandbox/messages").status_code == 204
    return server


class TestAuthentication:
    @pytest.mark.parametrize(
        "auth", [(ACCOUNT, "wrong-token"), ("ACsomeoneelse", TOKEN)], ids=["token", "sid"]
    )
    def test_wrong_credentials_are_a_20003(self, twilio: Twilio, auth: tuple[str, str]) -> None:
        response = twilio.send(auth=auth)
        assert_twilio_error(response, 401, 20003)
        assert response.json()["message"] == "Authenticate"
        assert twilio.sent() == []

    def test_no_credentials_are_a_20003(self, twilio: Twilio) -> None:
        response = twilio.http.post(
            f"{twilio.url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json", data={"To": TO}
        )
        assert_twilio_error(response, 401, 20003)

    def test_another_accounts_url_is_a_20003(self, twilio: Twilio) -> None:
        assert_twilio_error(twilio.send(account="AC" + "1" * 32), 401, 20003)


class TestValidation:
    @pytest.mark.parametrize("to", ["9876543210", "+0123", "+91 98765 43210", "+1234567890123456"])
    def test_a_to_that_is_not_e164_is_a_21211(self, twilio: Twilio, to: str) -> None:
        response = twilio.send(To=to)
        assert_twilio_error(response, 400, 21211)
        assert to in response.json()["message"]

    def test_a_missing_body_is_a_21602(self, twilio: Twilio) -> None:
        assert_twilio_error(twilio.send(Body=""), 400, 21602)

    def test_a_missing_sender_is_a_21603(self, twilio: Twilio) -> None:
        assert_twilio_error(twilio.send(From=""), 400, 21603)


class TestSend:
    def test_a_send_returns_twilios_message_resource(self, twilio: Twilio) -> None:
        response = twilio.send()
        assert response.status_code == 201, response.text
        message = response.json()
        assert re.fullmatch(r"SM[0-9a-f]{32}", message["sid"])
        assert message["account_sid"] == ACCOUNT
        assert (message["to"], message["from"]) == (TO, FROM)
        assert message["body"] == "Your OTP is 123456"
        assert message["status"] == "queued"
        assert message["direction"] == "outbound-api"
        assert message["api_version"] == "2010-04-01"
        assert message["num_segments"] == "1"
        assert message["price"] is None and message["error_code"] is None
        assert parsedate_to_datetime(message["date_created"]).tzinfo is not None
        assert message["uri"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{message['sid']}.json"

    def test_a_messaging_service_send_is_accepted_without_a_from(self, twilio: Twilio) -> None:
        service = "MG" + "a" * 32
        response = twilio.send(From="", MessagingServiceSid=service)
        assert response.status_code == 201, response.text
        message = response.json()
        assert message["from"] is None
        assert message["messaging_service_sid"] == service
        assert message["status"] == "accepted"

    @pytest.mark.parametrize(
        ("body", "segments"),
        [("a" * 160, "1"), ("a" * 161, "2"), ("[" * 81, "2"), ("नमस्ते" * 12, "2")],
        ids=["gsm-single", "gsm-split", "gsm-extension", "ucs2"],
    )
    def test_segments_are_counted_as_carriers_do(
        self, twilio: Twilio, body: str, segments: str
    ) -> None:
        assert twilio.send(Body=body).json()["num_segments"] == segments


class TestSandboxHooks:
    def test_messages_are_listed_newest_last_and_filtered_by_to(self, twilio: Twilio) -> None:
        other = "+14155550100"
        first = twilio.send(Body="one").json()
        twilio.send(To=other, Body="elsewhere")
        second = twilio.send(Body="two").json()

        listed = twilio.sent(TO)
        assert [m["sid"] for m in listed] == [first["sid"], second["sid"]]
        assert listed[0] == {
            "sid": first["sid"],
            "to": TO,
            "from": FROM,
            "body": "one",
            "date_created": first["date_created"],
        }
        assert len(twilio.sent()) == 3

    def test_delete_clears_the_messages(self, twilio: Twilio) -> None:
        twilio.send()
        assert twilio.http.delete(f"{twilio.url}/sandbox/messages").status_code == 204
        assert twilio.sent() == []

    @pytest.mark.parametrize(("status", "code"), [(500, 20500), (503, 20503), (429, 20429)])
    def test_fail_next_fails_that_many_sends_then_recovers(
        self, twilio: Twilio, status: int, code: int
    ) -> None:
        armed = twilio.http.post(
            f"{twilio.url}/sandbox/fail-next", json={"status": status, "count": 2}
        )
        assert armed.status_code == 200, armed.text

        assert_twilio_error(twilio.send(), status, code)
        assert_twilio_error(twilio.send(), status, code)
        assert twilio.send().status_code == 201
        assert len(twilio.sent()) == 1

    def test_fail_next_rejects_a_status_twilio_would_not_send(self, twilio: Twilio) -> None:
        response = twilio.http.post(f"{twilio.url}/sandbox/fail-next", json={"status": 418})
        assert response.status_code == 422
