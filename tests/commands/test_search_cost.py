"""`firmscout search` closes with the estimated cost when prices are set, and says nothing of cost otherwise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _search(data_dir: Path, **env: str) -> str:
    full = {**os.environ, "FIRMSCOUT_DATA_DIR": str(data_dir), **env}
    full.pop("FIRMSCOUT_DATABASE_URL", None)
    run = subprocess.run([sys.executable, "-m", "firmscout", "search", "banks in Spain", "-n", "3"], env=full,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    return run.stderr


def test_the_closing_line_shows_the_cost_at_the_set_prices(tmp_path: Path) -> None:
    # The local method spends no token and no search: a price set still shows, as a cost of nothing.
    closing = _search(tmp_path, FIRMSCOUT_LLM__PRICE_INPUT_USD_PER_M="0.15")
    assert re.search(r"3 results .*pages, ≈ \$0\.0000, \$0\.0000 per result\); stopped: target_reached", closing)


def test_without_prices_the_closing_line_has_no_cost(tmp_path: Path) -> None:
    closing = _search(tmp_path)
    assert "pages); stopped: target_reached" in closing and "$" not in closing
