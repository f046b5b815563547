from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.factories import cli_token, start_serve, stop


@pytest.fixture(scope="module")
def embedded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real `firmscout serve` on the embedded default for one test module: (base URL, token)."""
    env = {**os.environ, "FIRMSCOUT_DATA_DIR": str(tmp_path_factory.mktemp("serve")),
           "FIRMSCOUT_BOOTSTRAP_TOKEN": "false", "FIRMSCOUT_WORKER__POLL_INTERVAL_S": "0.05",
           # Generated tests create many tasks; the rate limit has tests of its own.
           "FIRMSCOUT_API__CREATE_BURST": "100000"}
    env.pop("FIRMSCOUT_DATABASE_URL", None)
    token = cli_token(env, "tester@example.com", "Testers")
    proc, base_url = start_serve(env)
    try:
        yield base_url, token
    finally:
        stop(proc)
