"""``mamori incidents scope | scopes | scope-remove`` (issue 22 "Deliver" 2; R-26-1, R-26-7). Synthetic data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import reset_settings_cache
from tests.factories import point_env_at
from tests.incidents.test_scope import Reads, reads, subjects

__all__ = ["reads"]  # the fixture


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from mamori.cli.main import app

    point_env_at(monkeypatch, runtime.settings)
    runner = CliRunner()

    def run(user: str, *args: str) -> Any:
        return runner.invoke(app, ["--as", user, "incidents", *args])

    yield run
    reset_settings_cache()


def test_scope_from_a_session_then_list_and_remove(cli: Any, runtime: Runtime, reads: Reads) -> None:
    window = ("--since", reads.since.isoformat(), "--until", reads.until.isoformat())
    r = cli("po", "scope", reads.incident, "--from-audit", "--session", reads.session_id, *window, "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert (
        got["method"] == "audit" and got["persons"] == 2 and got["params"]["session_id"] == reads.session_id
    )
    assert set(subjects(runtime, reads.incident)) == {reads.a, reads.b}
    r = cli("po", "scope", reads.incident, "--estimate", "1200", "--fields", "name,emails")
    assert r.exit_code == 0, r.output
    assert "最大 1200" in r.stdout and "メールアドレス" in r.stdout and "見込み" in r.stdout
    r = cli("po", "scopes", reads.incident, "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["persons"] == 2 and summary["maximum"] == 1200 and len(summary["scopes"]) == 2
    assert summary["items"]["name"] == 2 and summary["categories"]["contact"] == 2
    r = cli("po", "scopes", reads.incident)
    assert r.exit_code == 0 and "対象者 2 人（最大 1200 人）" in r.stdout and "監査ログ" in r.stdout
    for value in ("山田", "example.jp", "渋谷"):
        assert value not in r.stdout
    r = cli("po", "scope-remove", reads.incident, got["id"], "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["removed_at"] is not None and subjects(runtime, reads.incident) == {}


def test_scope_from_ids_file_and_user(cli: Any, runtime: Runtime, reads: Reads, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text(f"# ids\n{reads.other_session}\n\n{reads.after}\n", encoding="utf-8")
    r = cli("po", "scope", reads.incident, "--ids-file", str(ids), "--fields", "name", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["persons"] == 2
    window = ("--since", reads.since.isoformat(), "--until", reads.until.isoformat())
    r = cli("po", "scope", reads.incident, "--from-audit", "--user", "sato", *window)
    assert r.exit_code == 0, r.output
    assert "3 人" in r.stdout
    assert set(subjects(runtime, reads.incident)) == {reads.a, reads.b, reads.other_session, reads.after}


def test_bad_input_is_one_line_and_writes_nothing(
    cli: Any, runtime: Runtime, reads: Reads, tmp_path: Path
) -> None:
    r = cli("po", "scope", reads.incident, "--estimate", "5", "--provision", "x" * 32)
    assert r.exit_code == 1 and "bad_option" in r.stderr and r.stderr.strip().count("\n") == 0
    r = cli(
        "po", "scope", reads.incident, "--from-audit", "--session", reads.session_id, "--since", "yesterday"
    )
    assert r.exit_code == 1 and "bad_option" in r.stderr
    r = cli(
        "po",
        "scope",
        reads.incident,
        "--from-audit",
        "--since",
        "2026-11-23T09:00",
        "--until",
        "2026-11-23T11:00",
    )
    assert r.exit_code == 1 and "invalid_input" in r.stderr  # no account, session or token
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{reads.a}\n{'z' * 32}\n", encoding="utf-8")
    r = cli("po", "scope", reads.incident, "--ids-file", str(ids), "--fields", "name")
    assert r.exit_code == 1 and "unknown_customers" in r.stderr and reads.a not in r.stderr
    r = cli("po", "scope", reads.incident, "--filter", "prefecture=東京都", "--fields", "name")
    assert r.exit_code == 1 and "bad_option" in r.stderr and "東京都" not in r.stderr
    r = cli("po", "scope-remove", reads.incident, "0" * 32)
    assert r.exit_code == 1 and "scope_not_found" in r.stderr
    assert subjects(runtime, reads.incident) == {}


def test_unauthorised_roles_are_refused(cli: Any, runtime: Runtime, reads: Reads) -> None:
    r = cli("sato", "scope", reads.incident, "--estimate", "5", "--fields", "name")
    assert r.exit_code != 0 and "R-" not in r.stdout
    denial = runtime.audit.search(action="incident.scope", decision="deny", limit=1)
    assert denial and denial[0].actor.startswith("staff:")
    r = cli("analyst", "scopes", reads.incident)
    assert r.exit_code != 0
    assert runtime.audit.search(action="incident.read", decision="deny", limit=1)
