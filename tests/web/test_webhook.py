"""The webhook sender: what it retries, how long it waits, and what the guard refuses before any request."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Iterator

import pytest

from firmscout.config import WebhookSettings, WebSettings
from firmscout.web.guard import IPAddress
from firmscout.web.webhook import WebhookSender, signature
from tests.servers.webhook_receiver import WebhookReceiver

SECRET = "0123456789abcdef"
LOOPBACK = WebSettings(allow_hosts=["127.0.0.1"])


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


def _sender(web: WebSettings = LOOPBACK, waits: list[float] | None = None, **hooks: float) -> WebhookSender:
    async def sleep(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)

    return WebhookSender(web, WebhookSettings(**hooks), sleep=sleep)  # type: ignore[arg-type]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


class TestSignature:
    def test_hmac_sha256_of_timestamp_dot_body(self) -> None:
        expected = hmac.new(SECRET.encode(), b"1700000000.{}", hashlib.sha256).hexdigest()
        assert signature(SECRET, "1700000000", b"{}") == f"sha256={expected}"


class TestRetries:
    async def test_backoff_doubles_and_gives_up_after_the_attempts(self, receiver: WebhookReceiver) -> None:
        receiver.answers = [429, 500, 502, 503, 504]
        waits: list[float] = []
        sender = _sender(waits=waits, backoff_s=1.0)
        outcome = await sender.send(f"{receiver.base_url}/h", SECRET, "task.completed", b"{}")
        await sender.aclose()
        assert outcome.status == "failed: HTTP 504 after 5 attempts" and outcome.attempts == 5
        assert waits == [1.0, 2.0, 4.0, 8.0]
        assert len(receiver.received) == 5

    async def test_a_4xx_is_not_retried(self, receiver: WebhookReceiver) -> None:
        receiver.answers = [404]
        sender = _sender()
        outcome = await sender.send(f"{receiver.base_url}/h", SECRET, "task.completed", b"{}")
        await sender.aclose()
        assert (outcome.status, outcome.attempts) == ("failed: HTTP 404", 1)

    async def test_a_refused_connection_is_retried(self) -> None:
        sender = _sender(attempts=3)
        outcome = await sender.send(f"http://127.0.0.1:{_closed_port()}/h", SECRET, "task.completed", b"{}")
        await sender.aclose()
        assert outcome.status.startswith("failed: unreachable") and outcome.attempts == 3


class TestGuard:
    async def test_a_name_resolving_to_a_private_address_is_refused(self, receiver: WebhookReceiver) -> None:
        async def resolver(host: str, port: int) -> list[IPAddress]:
            return [ipaddress.ip_address("10.0.0.7")]

        sender = WebhookSender(WebSettings(), WebhookSettings(), resolver=resolver)
        outcome = await sender.send("https://hooks.example.com/h", SECRET, "task.completed", b"{}")
        await sender.aclose()
        assert outcome.status.startswith("failed: blocked (hooks.example.com resolves to 10.0.0.7")
        assert outcome.attempts == 1

    @pytest.mark.parametrize("url", ["http://localhost/h", "http://169.254.169.254/latest", "http://[::1]/h"])
    async def test_local_targets_are_refused_without_allow_hosts(self, url: str) -> None:
        sender = WebhookSender(WebSettings(), WebhookSettings())
        outcome = await sender.send(url, SECRET, "task.completed", b"{}")
        await sender.aclose()
        assert outcome.status.startswith("failed: blocked")
