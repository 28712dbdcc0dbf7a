"""``mamori incidents notify | notices | substitute | letters`` (R-26-6, G-34): the plan, the send, the log, the
substitute measure, the letters for printing; bad input in one line without the value; other roles refused with
the rule id."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from tests.factories import point_env_at
from tests.incidents.notice_support import A_EMAIL, outbox, people, put_in_scope, to
from tests.incidents.support import new_incident, seed_basics


def _cli(runtime, monkeypatch):  # noqa: ANN202
    point_env_at(monkeypatch, runtime.settings)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def case(runtime):
    actors = seed_basics(runtime)
    who = people(runtime, actors["po"])
    inc = new_incident(runtime, actors["sato"])
    put_in_scope(runtime, inc.id, {cid: {"origin": "DE" if k == "eu" else "JP"} for k, cid in who.items()})
    return inc, who


def test_cli_notify_log_substitute_and_letters(runtime, monkeypatch, case, tmp_path):
    inc, who = case
    run = _cli(runtime, monkeypatch)
    r = run("--as", "po", "incidents", "notify", inc.ref, "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    plan = json.loads(r.stdout)
    assert (plan["persons"], plan["email"], plan["letter"], plan["no_contact"]) == (5, 3, 1, 1)
    assert outbox(runtime) == []  # a dry run sends nothing
    r = run("--as", "po", "incidents", "notify", inc.ref, "--dry-run")
    assert r.exit_code == 0 and "メール 3人" in r.stdout

    r = run("--as", "po", "incidents", "notify", inc.ref)
    assert r.exit_code == 0, r.output
    assert "メール 3人・書面 1人・連絡先なし 1人" in r.stdout and "R-26-6, G-34" in r.stdout
    assert A_EMAIL not in r.stdout and "通知 一郎" not in r.stdout
    assert len(to(runtime, A_EMAIL)) == 1
    r = run("--as", "po", "incidents", "notify", inc.ref, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["skipped"] == 4  # idempotent

    log = json.loads(run("--as", "po", "incidents", "notices", inc.ref, "--json").stdout)
    assert {x["customer_id"]: x["status"] for x in log}[who["none"]] == "no_contact"
    table = run("--as", "po", "incidents", "notices", inc.ref)
    assert table.exit_code == 0 and "連絡先なし" in table.stdout and A_EMAIL not in table.stdout

    r = run("--as", "po", "incidents", "substitute", inc.ref, "--kind", "publication",
            "--note", "https://example.co.jp/news/2026-12", "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["persons"] == 1

    out = tmp_path / "letters"
    r = run("--as", "po", "incidents", "letters", inc.ref, "--out", str(out), "--mark-sent", "--json")
    assert r.exit_code == 0, r.output
    found = json.loads(r.stdout)
    assert found["letters"] == 1 and found["marked_sent"] == 1
    html = (out / found["files"][0]).read_text(encoding="utf-8")
    assert "郵送 三郎 様" in html and inc.ref in html
    assert "郵送 三郎" not in r.stdout
    pdf_dir = tmp_path / "pdf"
    r = run("--as", "po", "incidents", "letters", inc.ref, "--out", str(pdf_dir), "--format", "pdf", "--json")
    assert r.exit_code == 0, r.output
    name = json.loads(r.stdout)["files"][0]
    assert name.endswith(".pdf") and (pdf_dir / name).read_bytes().startswith(b"%PDF")
    assert oct((pdf_dir / name).stat().st_mode & 0o777) == "0o600"
    r = run("--as", "po", "incidents", "letters", inc.ref, "--out", str(pdf_dir), "--format", "doc")
    assert r.exit_code == 2


def test_cli_bad_input_and_roles(runtime, monkeypatch, case):
    inc, _ = case
    run = _cli(runtime, monkeypatch)
    r = run("--as", "po", "incidents", "substitute", inc.ref, "--kind", "billboard", "--note", "secret-xyz")
    assert r.exit_code == 1 and "invalid_input" in r.stderr and "secret-xyz" not in r.stderr
    assert r.stderr.strip().count("\n") == 0
    r = run("--as", "po", "incidents", "notify", "INC-9999")
    assert r.exit_code == 1 and "incident_not_found" in r.stderr
    for role in ("admin", "sato", "support"):
        r = run("--as", role, "incidents", "notify", inc.ref, "--json")
        if role == "admin":  # may read the plan (incident.read) but not send (incident.notify)
            assert r.exit_code == 3 and "role_not_permitted" in r.stderr, r.output
        else:
            assert r.exit_code == 3, r.output
    r = run("--as", "sato", "incidents", "notices", inc.ref)
    assert r.exit_code == 3
    r = run("--as", "admin", "incidents", "substitute", inc.ref, "--kind", "publication", "--note", "x")
    assert r.exit_code == 3
    assert outbox(runtime) == []
