"""`mamori provision …` and `mamori provide` end to end: --json, one line per refused person with its rule id,
the export file holding only the named fields, denials for roles without provision rights, bad input."""

from __future__ import annotations

import base64
import csv
import json
import secrets

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.kernel.settings import reset_settings_cache


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MAMORI_KEK", base64.b64encode(secrets.token_bytes(32)).decode())
    for k in ("MAMORI_DATABASE_URL", "MAMORI_KEYSTORE_URL", "MAMORI_AUDIT_URL", "MAMORI_AS", "MAMORI_LANG"):
        monkeypatch.delenv(k, raising=False)
    reset_settings_cache()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    assert run("init").exit_code == 0
    assert run("demo", "--customers", "4").exit_code == 0
    yield run
    reset_settings_cache()


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


PO = ("--as", "hoshino")


def test_provision_cli_end_to_end_R_27_1_R_29_2(cli, tmp_path):
    ids = [
        c["id"]
        for c in j(cli(*PO, "customers", "list", "-p", "contract", "--limit", "10", "--json"))["items"]
    ]
    a, b = ids[0], ids[1]
    cp = j(
        cli(
            *PO,
            "provision",
            "counterparties",
            "add",
            "--kind",
            "third_party",
            "--name",
            "架空提携株式会社",
            "--address",
            "東京都港区架空1-1",
            "--representative",
            "代表取締役 架空",
            "--json",
        )
    )["id"]
    assert [c["id"] for c in j(cli(*PO, "provision", "counterparties", "list", "--json"))] == [cp]
    consent = j(
        cli(
            *PO,
            "provision",
            "consents",
            "grant",
            a,
            "--to",
            cp,
            "-p",
            "contract",
            "--method",
            "paper",
            "--json",
        )
    )
    assert consent["foreign"] is False
    out = tmp_path / "export.csv"
    refused = cli(
        *PO, "provide", "--to", cp, "-p", "contract", "-f", "name,email", "-c", a, "-c", b, "--out", str(out)
    )
    assert refused.exit_code == 3 and not out.exists() and not (tmp_path / ".export.csv.partial").exists()
    lines = [ln for ln in refused.stderr.splitlines() if ln.strip()]
    assert lines[0] == f"{b} [R-27-1] no_consent" and "R-27-1" in lines[-1]
    done = j(
        cli(
            *PO,
            "provide",
            "--to",
            cp,
            "-p",
            "contract",
            "-f",
            "name",
            "-f",
            "email",
            "-c",
            a,
            "-c",
            b,
            "--skip-refused",
            "--out",
            str(out),
            "--json",
        )
    )
    assert done["provided"] == 1 and "rows" not in done
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["customer_id"] for r in rows] == [a] and set(rows[0]) == {"customer_id", "name", "email"}
    assert (out.stat().st_mode & 0o077) == 0  # the export is readable by its owner only
    as_json = tmp_path / "export.json"
    j(
        cli(
            *PO,
            "provide",
            "--to",
            cp,
            "-p",
            "contract",
            "-f",
            "email",
            "-c",
            a,
            "--out",
            str(as_json),
            "--json",
        )
    )
    assert json.loads(as_json.read_text(encoding="utf-8")) == [{"customer_id": a, "email": rows[0]["email"]}]
    recs = j(cli(*PO, "provision", "records", "list", "--customer", a, "--json"))
    assert len(recs) == 2 and recs[0]["counterparty_representative"] == "代表取締役 架空"
    shown = j(cli(*PO, "provision", "records", "show", recs[0]["id"], "--json"))
    assert shown["subject"]["name"]
    j(cli(*PO, "provision", "consents", "withdraw", consent["id"], "--json"))
    assert j(cli(*PO, "provision", "purge-expired", "--json"))["dry_run"] is True
    assert j(cli("provision", "purge-expired", "--yes", "--json"))["purged"] == 0  # the system actor (cron)
    # the same command through the provision group
    again = cli(*PO, "provision", "provide", "--to", cp, "-p", "contract", "-f", "name", "-c", a)
    assert again.exit_code == 3 and f"{a} [R-27-1]" in again.stderr


def test_provision_cli_denials_and_bad_input(cli):
    for who in ("sato", "ito"):
        r = cli("--as", who, "provision", "counterparties", "list")
        assert r.exit_code == 3 and "R-23-2" in r.stderr
    r = cli(
        *PO,
        "provision",
        "counterparties",
        "add",
        "--kind",
        "friend",
        "--name",
        "x",
        "--address",
        "y",
        "--representative",
        "z",
    )
    assert r.exit_code == 1 and "invalid_input" in r.stderr
    r = cli(*PO, "provide", "--to", "nope", "-p", "contract", "-f", "name", "-c", "x")
    assert r.exit_code == 1 and "invalid_input" in r.stderr
    r = cli(*PO, "provision", "records", "show", "0" * 32)
    assert r.exit_code == 1 and "not_found" in r.stderr
    r = cli(
        *PO,
        "provision",
        "opt-out",
        "file",
        "-p",
        "contract",
        "--item",
        "name",
        "--acquisition",
        "web",
        "--provision-method",
        "csv",
        "--request-method",
        "form",
        "--filed",
        "2026-11-01",
        "--notified",
        "2026-11-01",
        "--start",
        "2026-11-10",
    )
    assert r.exit_code == 3 and "R-27-4" in r.stderr
    r = cli(
        *PO,
        "provision",
        "opt-out",
        "file",
        "-p",
        "contract",
        "--item",
        "name",
        "--acquisition",
        "web",
        "--provision-method",
        "csv",
        "--request-method",
        "form",
        "--filed",
        "yesterday",
        "--notified",
        "2026-11-01",
        "--start",
        "2026-11-10",
    )
    assert r.exit_code != 0


def test_relay_and_referable_cli_R_31_1(cli):
    ids = [
        c["id"]
        for c in j(cli(*PO, "customers", "list", "-p", "contract", "--limit", "10", "--json"))["items"]
    ]
    opened = j(
        cli(
            *PO,
            "provision",
            "relay",
            "open",
            "--from",
            ids[0],
            "--to",
            ids[1],
            "--message",
            "伝言です",
            "--json",
        )
    )
    assert opened["disclosure_refused_rule"] == "R-27-1"
    assert j(cli(*PO, "provision", "relay", "consent", opened["id"], "--json"))["status"] == "consented"
    delivered = j(cli(*PO, "provision", "relay", "deliver", opened["id"], "--json"))
    assert delivered["message"] == "伝言です" and delivered["contact"] is None
    dmp = j(
        cli(
            *PO,
            "provision",
            "counterparties",
            "add",
            "--kind",
            "third_party",
            "--name",
            "架空DMP",
            "--address",
            "東京",
            "--representative",
            "架空",
            "--json",
        )
    )["id"]
    r = cli(
        *PO,
        "provision",
        "referable",
        "provide",
        "--to",
        dmp,
        "--item",
        "cookie_id",
        "--count",
        "10",
        "--linkage-expected",
    )
    assert r.exit_code == 3 and "R-31-1" in r.stderr
    conf = j(
        cli(
            *PO,
            "provision",
            "referable",
            "confirm",
            "--to",
            dmp,
            "--item",
            "cookie_id",
            "--method",
            "declaration",
            "--evidence",
            "誓約書",
            "--json",
        )
    )["confirmation_id"]
    got = j(
        cli(
            *PO,
            "provision",
            "referable",
            "provide",
            "--to",
            dmp,
            "--item",
            "cookie_id",
            "--count",
            "10",
            "--linkage-expected",
            "--confirmation",
            conf,
            "--json",
        )
    )
    assert got["record_id"]


Z = "0" * 32
# every data command with well-formed arguments (run by roles without provision rights → R-23-2)
COMMANDS = [
    (
        "counterparties",
        "add",
        "--kind",
        "third_party",
        "--name",
        "n",
        "--address",
        "a",
        "--representative",
        "r",
    ),
    ("counterparties", "list"),
    ("counterparties", "show", Z),
    ("counterparties", "sheet", Z, "--system-info", "s", "--measures", "m"),
    ("counterparties", "review", Z),
    ("consents", "grant", Z, "--to", Z, "-p", "contract"),
    ("consents", "withdraw", Z),
    ("consents", "list"),
    ("provide", "--to", Z, "-p", "contract", "-f", "name", "-c", Z),
    ("mark-improper", Z, "--reference", "x"),
    ("records", "list"),
    ("records", "show", Z),
    ("purge-expired",),
    (
        "joint-use",
        "declare",
        "jx",
        "--item",
        "name",
        "--member",
        Z,
        "--scope",
        "s",
        "-p",
        "contract",
        "--responsible-name",
        "n",
        "--responsible-address",
        "a",
        "--responsible-representative",
        "r",
        "--notified",
        "2026-11-01",
        "--effective",
        "2026-11-02",
    ),
    (
        "joint-use",
        "change",
        Z,
        "--item",
        "purposes",
        "--value",
        "contract",
        "--notified",
        "2026-11-01",
        "--effective",
        "2026-11-20",
    ),
    ("joint-use", "show"),
    (
        "opt-out",
        "file",
        "-p",
        "contract",
        "--item",
        "name",
        "--acquisition",
        "a",
        "--provision-method",
        "b",
        "--request-method",
        "c",
        "--filed",
        "2026-10-01",
        "--notified",
        "2026-10-01",
        "--start",
        "2026-11-10",
    ),
    (
        "opt-out",
        "change",
        Z,
        "--item",
        "stop",
        "--value",
        "v",
        "--notified",
        "2026-11-01",
        "--filed",
        "2026-11-01",
        "--effective",
        "2026-11-01",
    ),
    ("opt-out", "show"),
    ("referable", "confirm", "--to", Z, "--item", "cookie_id", "--method", "declaration", "--evidence", "e"),
    ("referable", "provide", "--to", Z, "--item", "cookie_id", "--count", "1", "--no-linkage"),
    ("relay", "open", "--from", Z, "--to", "1" * 32, "--message", "m"),
    ("relay", "consent", Z),
    ("relay", "deliver", Z),
]


@pytest.mark.slow
def test_every_provision_command_refuses_roles_without_rights(cli):
    for who, args in [("ito", a) for a in COMMANDS] + [("sato", a) for a in COMMANDS[:3]]:
        r = cli("--as", who, "provision", *args)
        assert r.exit_code == 3 and "R-23-2" in r.stderr, (who, args, r.stderr)


BAD = [
    (
        "counterparties",
        "add",
        "--kind",
        "third_party",
        "--name",
        "n",
        "--address",
        "a",
        "--representative",
        "r",
        "--country",
        "Japan",
    ),
    ("counterparties", "list", "--kind", "friend"),
    ("counterparties", "review", Z, "--reviewed", "soon"),
    ("consents", "grant", "bad", "--to", Z, "-p", "contract"),
    ("consents", "grant", Z, "--to", Z, "-p", "contract", "--method", "telepathy"),
    ("consents", "withdraw", "bad"),
    ("provide", "--to", Z, "-p", "contract", "-f", "pass word", "-c", Z),
    ("provide", "--to", Z, "-p", "contract", "-f", "name", "-c", Z, "--basis", "whim"),
    ("mark-improper", Z, "--reference", ""),
    ("records", "list", "--direction", "sideways"),
    (
        "joint-use",
        "declare",
        "jx",
        "--item",
        "name",
        "--member",
        "bad",
        "--scope",
        "s",
        "-p",
        "contract",
        "--responsible-name",
        "n",
        "--responsible-address",
        "a",
        "--responsible-representative",
        "r",
        "--notified",
        "2026-11-01",
        "--effective",
        "2026-11-02",
    ),
    (
        "joint-use",
        "change",
        Z,
        "--item",
        "colour",
        "--value",
        "x",
        "--notified",
        "2026-11-01",
        "--effective",
        "2026-11-20",
    ),
    (
        "opt-out",
        "file",
        "-p",
        "contract",
        "--item",
        "name",
        "--acquisition",
        "a",
        "--provision-method",
        "b",
        "--request-method",
        "c",
        "--filed",
        "2026-10-01",
        "--notified",
        "2026-10-01",
        "--start",
        "2026-11-10",
        "--objection-days",
        "0",
    ),
    (
        "opt-out",
        "change",
        Z,
        "--item",
        "stop",
        "--value",
        "v",
        "--notified",
        "2026-11-01T00:00:00",
        "--filed",
        "2026-11-01",
        "--effective",
        "2026-11-01",
    ),
    ("referable", "confirm", "--to", Z, "--item", "cookie_id", "--method", "guess", "--evidence", "e"),
    ("referable", "provide", "--to", Z, "--item", "cookie_id", "--count", "0", "--no-linkage"),
    ("relay", "open", "--from", Z, "--to", "1" * 32, "--message", ""),
    ("relay", "consent", Z, "--method", "telepathy"),
]


def test_every_provision_command_rejects_bad_input(cli):
    for args in BAD:
        r = cli(*PO, "provision", *args)
        # a one-line error (1) or a usage error (2), never a crash; nothing was written
        assert r.exit_code in (1, 2) and r.stderr.strip() and "Traceback" not in r.stderr, (args, r.stderr)
        if r.exit_code == 1:
            assert r.stderr.startswith("エラー ("), (args, r.stderr)
    assert j(cli(*PO, "provision", "counterparties", "list", "--json")) == []
