"""Fixtures shared by the task tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.webhook_receiver import WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A loopback webhook receiver, started for one test."""
    server = WebhookReceiver().start()
    yield server
    server.stop()
