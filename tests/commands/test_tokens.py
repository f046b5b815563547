"""`firmscout token create --expires-in`, `token list` and `token revoke`, as a person runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from firmscout.cli import app
from firmscout.config import Settings
from firmscout.tasks.accounts import hash_token


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in this test use the test's database."""
    monkeypatch.setenv("FIRMSCOUT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("FIRMSCOUT_DATABASE_URL", settings.resolved_database_url())


def firmscout(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def create(*args: str) -> str:
    run = firmscout("token", "create", *args)
    assert run.exit_code == 0, run.output
    return run.stdout.strip().splitlines()[-1]


def listed(*args: str) -> list[dict[str, Any]]:
    run = firmscout("token", "list", "--json", *args)
    assert run.exit_code == 0, run.output
    rows: list[dict[str, Any]] = json.loads(run.stdout)
    return rows


@pytest.mark.usefixtures("cli")
class TestList:
    def test_a_token_created_with_an_expiry_is_listed_with_it(self) -> None:
        token = create("--email", "Ana@Acme.com", "--org", "Acme", "--expires-in", "30")
        [row] = listed()
        assert row["id"] == hash_token(token)[:12]
        assert (row["email"], row["organization"], row["status"]) == ("ana@acme.com", "Acme", "active")
        expires = datetime.fromisoformat(row["expires_at"]) - datetime.fromisoformat(row["created_at"])
        assert abs(expires - timedelta(days=30)) < timedelta(minutes=1)
        assert row["revoked_at"] is None
        assert datetime.fromisoformat(row["created_at"]) <= datetime.now(UTC)

    def test_without_an_expiry_a_token_never_expires(self) -> None:
        create("--email", "ana@acme.com")
        assert [(r["expires_at"], r["organization"]) for r in listed()] == [(None, None)]

    def test_email_picks_one_users_tokens(self) -> None:
        create("--email", "ana@acme.com")
        create("--email", "bob@acme.com")
        create("--email", "bob@acme.com")
        assert [r["email"] for r in listed("--email", "BOB@acme.com")] == ["bob@acme.com"] * 2
        assert len(listed()) == 3

    def test_never_prints_a_secret(self) -> None:
        tokens = [create("--email", "ana@acme.com", "--org", "Acme") for _ in range(2)]
        table, as_json = firmscout("token", "list"), firmscout("token", "list", "--json")
        assert table.exit_code == as_json.exit_code == 0
        for token in tokens:
            secret = token.removeprefix("fs_")
            for output in (table.output, as_json.output):
                assert hash_token(token)[:12] in output
                assert secret[:5] not in output, "not even the stored prefix"
                assert hash_token(token) not in output

    def test_an_empty_list_says_how_to_create_one(self) -> None:
        run = firmscout("token", "list")
        assert run.exit_code == 0 and "firmscout token create" in run.output
        assert listed() == []


@pytest.mark.usefixtures("cli")
class TestRevoke:
    def test_revokes_then_says_it_already_was(self) -> None:
        token = create("--email", "ana@acme.com")
        token_id = hash_token(token)[:12]
        first = firmscout("token", "revoke", token_id)
        assert first.exit_code == 0, first.output
        assert f"Revoked token {token_id} (ana@acme.com)" in first.output
        assert "FIRMSCOUT_API__AUTH_CACHE_S" in first.output, "the revocation delay is named"
        [row] = listed()
        assert row["status"] == "revoked" and row["revoked_at"] is not None
        again = firmscout("token", "revoke", token_id)
        assert again.exit_code == 0 and "already revoked" in again.output
        assert listed()[0]["revoked_at"] == row["revoked_at"], "revoking twice keeps the first time"

    def test_only_the_named_token_is_revoked(self) -> None:
        mine, other = create("--email", "ana@acme.com"), create("--email", "ana@acme.com")
        assert firmscout("token", "revoke", hash_token(mine)[:12]).exit_code == 0
        status = {r["id"]: r["status"] for r in listed()}
        assert status == {hash_token(mine)[:12]: "revoked", hash_token(other)[:12]: "active"}

    def test_an_unknown_id_is_a_clear_error(self) -> None:
        create("--email", "ana@acme.com")
        run = firmscout("token", "revoke", "0123456789ab")
        assert run.exit_code == 1
        assert "No token has the id 0123456789ab" in run.output and "token list" in run.output
        assert listed()[0]["status"] == "active"

    @pytest.mark.parametrize("token_id", ["abc", "not-an-id!", "fs_secret_token_value"])
    def test_something_that_is_no_id_is_a_clear_error(self, token_id: str) -> None:
        run = firmscout("token", "revoke", token_id)
        assert run.exit_code == 1 and "is not a token id" in run.output
