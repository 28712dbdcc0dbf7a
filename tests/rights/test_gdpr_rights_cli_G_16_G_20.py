"""GDPR rights through the CLI staff use: rectification (G-16) changes the stored data and tells the person the
before/after; portability (G-20) answers with the data in a machine-readable format (json / csv), never only a
letter (html / pdf) — refused before anything is fulfilled."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import open_runtime
from mamori.kernel.settings import get_settings
from mamori.staff import service as staff_service
from tests.factories import demo_cli, make_customer

EMAIL = "anna.schmidt@example.de"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    yield from demo_cli(tmp_path, monkeypatch, customers=1)


@pytest.fixture
def eu_customer(cli):
    """A person in the EU (origin DE): their requests run under the GDPR."""
    rt = open_runtime(get_settings())
    try:
        with rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
            po = staff_service.actor_for(s, "hoshino")
        return make_customer(rt, po, name="Anna Schmidt", kana=None, email=EMAIL, phone=None, origin="DE")
    finally:
        rt.close()


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _verified(cli, tmp_path, kind: str) -> str:
    """Support staff take the request and verify the person by a code sent to their e-mail."""
    opened = j(cli("--as", "takahashi", "rights", "open", kind, "--email", EMAIL, "--json"))
    rid, ident = opened["id"], opened["identifiers"][0]["id"]
    assert j(cli("--as", "takahashi", "rights", "send-code", rid, ident, "--json")) == {"sent": True}
    code = None
    for p in sorted((tmp_path / "home" / "outbox").glob("*.json"), key=lambda p: p.stat().st_mtime_ns):
        msg = json.loads(p.read_text(encoding="utf-8"))
        if msg["to"] == EMAIL and (m := re.search(r"コード: (\d{6})\b", msg["body"])):
            code = m.group(1)
    assert code
    verify = ("rights", "verify", rid, "--method", "email_code", "--identifier", ident, "--code", code)
    assert j(cli("--as", "takahashi", *verify, "--json"))["verified"] is True
    assert j(cli("--as", "hoshino", "rights", "show", rid, "--json"))["regime"] == "gdpr"  # from the origin
    return rid


def _occupation(cli, cid: str) -> str:
    return j(cli("--as", "hoshino", "customers", "show", cid, "-p", "contract", "--json"))["occupation"]


def test_gdpr_rectification_corrects_the_stored_data_G_16(cli, eu_customer, tmp_path):
    assert _occupation(cli, eu_customer) == "会社員"
    rid = _verified(cli, tmp_path, "correction")
    assert j(cli("--as", "hoshino", "rights", "show", rid, "--json"))["rule_id"] == "G-16"
    r = cli("--as", "hoshino", "rights", "fulfil", rid, "--correct", f"customers:{'0' * 32}:occupation=x")
    assert r.exit_code != 0  # a record that is not the verified person's is not reached
    assert _occupation(cli, eu_customer) == "会社員"
    done = j(
        cli(
            "--as",
            "hoshino",
            "rights",
            "fulfil",
            rid,
            "--correct",
            f"customers:{eu_customer}:occupation=Ingenieurin",
            "--json",
        )
    )
    assert done["outcome"] == "fulfilled" and "G-16" in done["rule_ids"]
    assert [(c["field"], c["before"], c["after"]) for c in done["corrections"]] == [
        ("occupation", "会社員", "Ingenieurin")
    ]
    assert _occupation(cli, eu_customer) == "Ingenieurin"  # the stored data itself is rectified


def test_gdpr_portability_is_answered_in_a_machine_readable_format_G_20(cli, eu_customer, tmp_path):
    rid = _verified(cli, tmp_path, "portability")
    for fmt in ("pdf", "html"):
        out = tmp_path / f"answer.{fmt}"
        r = cli("--as", "hoshino", "rights", "fulfil", rid, "--out", str(out), "--format", fmt)
        assert r.exit_code == 1
        line = one_line(r)
        assert "G-20" in line and "portability_format" in line and "Anna" not in line
        assert not out.exists()
    assert (
        j(cli("--as", "hoshino", "rights", "show", rid, "--json"))["status"] != "closed"
    )  # nothing fulfilled

    out = tmp_path / "answer.json"
    done = j(cli("--as", "hoshino", "rights", "fulfil", rid, "--out", str(out), "--format", "json", "--json"))
    assert done["outcome"] == "fulfilled" and done["package"]["format"] == "json"
    package = json.loads(out.read_text(encoding="utf-8"))
    assert package["kind"] == "portability" and "G-20" in package["rule_ids"]
    profile = next(r for r in package["records"] if r["category"] == "profile")
    assert profile["data"]["name"] == "Anna Schmidt"


def test_gdpr_portability_as_csv_is_machine_readable_too_G_20(cli, eu_customer, tmp_path):
    rid = _verified(cli, tmp_path, "portability")
    out = tmp_path / "answer.csv"
    done = j(cli("--as", "hoshino", "rights", "fulfil", rid, "--out", str(out), "--format", "csv", "--json"))
    assert done["outcome"] == "fulfilled"
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) > 1 and any("Anna Schmidt" in cell for row in rows for cell in row)
