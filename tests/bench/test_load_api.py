"""bench.load.api reads the servers' own request durations from their JSON access log."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

from bench.load.api import server_p99


def _line(at: float, method: str, path: str, duration_ms: float) -> str:
    ts = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
    return json.dumps({"ts": ts, "logger": "firmscout.access", "method": method, "path": path,
                       "status": 200, "duration_ms": duration_ms})


class TestServerP99:
    def test_only_the_window_and_the_request_count(self, tmp_path: Path) -> None:
        log = tmp_path / "serve.log"
        lines = [_line(1000.0 + i / 100, "GET", "/v1/discovery_tasks/t", float(i + 1)) for i in range(100)]
        lines += [
            _line(999.0, "GET", "/v1/discovery_tasks/t", 5000.0),  # before the window
            _line(1000.5, "POST", "/v1/discovery_tasks", 9000.0),  # another request
            '{"ts": "2026-11-29T15:00:00.000+00:00", "level": "info", "message": "Started server process"}',
            '{"ts": "2026-11-29T15:0',  # a line cut by another process's write
        ]
        log.write_text("\n".join(lines) + "\n")
        # 100 durations 1..100 ms: the 99th by nearest rank is 99.
        assert server_p99(log, "GET", "/v1/discovery_tasks/t", 1000.0, 1001.0) == 99.0

    def test_no_durations_is_not_a_number(self, tmp_path: Path) -> None:
        log = tmp_path / "serve.log"
        log.write_text("not json\n")
        assert math.isnan(server_p99(log, "GET", "/v1/discovery_tasks/t", 0.0, 1.0))
