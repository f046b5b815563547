from collections.abc import Iterator

import pytest

from tests.servers.search_api import SearchApiServer
from tests.servers.web import fake_web

__all__ = ["fake_web", "search_server"]


@pytest.fixture(scope="module")
def search_server() -> Iterator[SearchApiServer]:
    """One loopback search API per test module; each test resets it to the provider and corpus it needs."""
    server = SearchApiServer().start()
    yield server
    server.stop()
