"""`devia users` commands against a fresh records store."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.users_cmd import app
from api.records import accounts
from api.records.db import Database


@pytest.fixture
def env(db_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DEVIA_DB_URL", db_url)
    monkeypatch.setenv("DEVIA_DATA_DIR", str(data_dir))
    return db_url


def test_add_list_disable_and_api_key(env: str) -> None:
    runner = CliRunner()
    added = runner.invoke(
        app,
        ["add", "qa1", "--role", "qa_approver", "--site", "SITE-A", "--printed-name", "Q. A. One"],
        input="a long enough password\na long enough password\n",
    )
    assert added.exit_code == 0, added.output
    duplicate = runner.invoke(
        app, ["add", "qa1", "--role", "admin", "--password", "a long enough password"]
    )
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output
    weak = runner.invoke(app, ["add", "weak", "--role", "admin", "--password", "short"])
    assert weak.exit_code == 2 and "at least 12 characters" in weak.output
    bad_role = runner.invoke(
        app, ["add", "x", "--role", "boss", "--password", "a long enough password"]
    )
    assert bad_role.exit_code != 0

    listed = runner.invoke(app, ["list"])
    assert "qa1" in listed.output and "Q. A. One" in listed.output and "SITE-A" in listed.output

    assert runner.invoke(app, ["disable", "qa1"]).exit_code == 0
    assert "disabled" in runner.invoke(app, ["list"]).output
    assert runner.invoke(app, ["disable", "nobody"]).exit_code == 2

    created = runner.invoke(app, ["api-key", "mes-a", "--site", "SITE-A"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("dvk_")
    db = Database(env)
    with db.read() as session:
        stored = accounts.find_api_key(session, key)
        assert stored is not None and stored.site_code == "SITE-A"
        assert key not in stored.key_sha256
    db.dispose()
