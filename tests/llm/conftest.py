from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.chat_completions import ChatCompletionsServer


@pytest.fixture
def chat_server() -> Iterator[ChatCompletionsServer]:
    server = ChatCompletionsServer().start()
    yield server
    server.stop()
