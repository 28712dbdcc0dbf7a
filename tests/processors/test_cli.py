"""`mamori processors …` end to end: the lifecycle with --json, the handover file, one-line errors with rule ids,
and refusals for roles other than the privacy officer."""

from __future__ import annotations

import csv
import json

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import open_runtime
from mamori.kernel.settings import get_settings
from mamori.processors.schemas import EVALUATION_ITEMS
from mamori.staff import service as staff_service
from tests.processors.conftest import add_counterparty
from tests.test_cli import cli, j, one_line  # noqa: F401  (the `cli` fixture: init + demo)


def _counterparty(country: str = "JP") -> str:
    rt = open_runtime(get_settings())
    try:
        with rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
            po = staff_service.actor_for(s, "hoshino")
        return add_counterparty(rt, po, country=country)
    finally:
        rt.close()


@pytest.mark.slow  # ~35 CLI invocations, each opening the stores
def test_processors_cli_lifecycle_and_handover_file(cli, tmp_path):  # noqa: F811
    cp = _counterparty()
    po = ("--as", "hoshino", "processors")
    listed = j(cli("--as", "hoshino", "customers", "list", "-p", "contract", "--limit", "500", "--json"))
    ids = [i["id"] for i in listed["items"]]
    assert len(ids) >= 2
    # a contract without clauses is recorded as a draft and cannot start (R-25-1)
    c = j(
        cli(
            *po,
            "contracts",
            "add",
            "--counterparty",
            cp,
            "--work",
            "発送代行",
            "--purposes",
            "contract",
            "--fields",
            "name,postal_code,address",
            "--starts",
            "2026-01-01",
            "--ends",
            "2099-12-31",
            "--json",
        )
    )
    assert c["status"] == "draft" and len(c["missing_clauses"]) == 7
    r = cli(*po, "contracts", "activate", c["id"])
    assert r.exit_code == 3 and "R-25-1" in one_line(r) and "contract_clauses_missing" in one_line(r)
    clauses = ",".join(c["missing_clauses"])
    contract = j(
        cli(
            *po,
            "contracts",
            "add",
            "--counterparty",
            cp,
            "--work",
            "発送代行",
            "--purposes",
            "contract",
            "--fields",
            "name,postal_code,address",
            "--clauses",
            clauses,
            "--starts",
            "2026-01-01",
            "--ends",
            "2099-12-31",
            "--json",
        )
    )["id"]
    r = cli(*po, "contracts", "activate", contract)
    assert r.exit_code == 3 and "evaluation_not_passed" in one_line(r)
    ev = j(
        cli(*po, "contracts", "evaluate", contract, "--meets", "all", "--falls-short", "technical", "--json")
    )
    assert ev["result"] == "failed"
    assert j(cli(*po, "contracts", "evaluate", contract, "--meets", "all", "--json"))["result"] == "passed"
    assert j(cli(*po, "contracts", "activate", contract, "--json"))["status"] == "active"
    cov = j(cli(*po, "contracts", "customers", contract, "--add", ",".join(ids[:2]), "--json"))
    assert cov["added"] == 2 and cov["total"] == 2
    assert j(cli(*po, "contracts", "customers", contract, "--json"))["customer_ids"] == sorted(ids[:2])
    # audits: an overdue one shows in list
    audit = j(cli(*po, "audits", "schedule", contract, "--due", "2026-01-31", "--json"))
    assert j(cli(*po, "audits", "list", "--overdue", "--json"))[0]["id"] == audit["id"]
    assert j(cli(*po, "contracts", "list", "--json"))[-1]["overdue_audits"] == 1
    assert "期限超過の監査: 1件" in cli(*po, "audits", "list").stdout
    assert "overdue audits: 1" in cli("--lang", "en", *po, "contracts", "list").stdout
    failed = j(
        cli(*po, "audits", "record", audit["id"], "--result", "failed", "--findings", "ログ不備", "--json")
    )
    assert failed["result"] == "failed"
    assert j(cli(*po, "contracts", "show", contract, "--json"))["status"] == "suspended"
    r = cli(*po, "handover", contract, "--out", str(tmp_path / "x.csv"))
    assert r.exit_code == 3 and "R-25-1" in one_line(r) and not (tmp_path / "x.csv").exists()
    j(cli(*po, "audits", "remedy", audit["id"], "--remedy", "ログ取得を開始", "--json"))
    assert j(cli(*po, "contracts", "show", contract, "--json"))["status"] == "active"
    # sub-outsourcing
    sub = j(
        cli(
            *po,
            "subcontractors",
            "request",
            contract,
            "--name",
            "架空運送",
            "--work",
            "配達",
            "--methods",
            "伝票のみ受領",
            "--json",
        )
    )
    assert j(cli(*po, "subcontractors", "approve", sub["id"], "--json"))["status"] == "approved"
    sub2 = j(
        cli(
            *po,
            "subcontractors",
            "request",
            contract,
            "--name",
            "x",
            "--work",
            "y",
            "--methods",
            "z",
            "--json",
        )
    )
    assert (
        j(cli(*po, "subcontractors", "refuse", sub2["id"], "--note", "不要", "--json"))["status"] == "refused"
    )
    # operators
    op = j(cli(*po, "operators", "add", contract, "hs-op", "--display-name", "発送担当", "--json"))
    assert op["contract_id"] == contract and op["mfa_enrolled"] is False
    assert [o["username"] for o in j(cli(*po, "operators", "list", "--json"))] == ["hs-op"]
    # handover: unneeded field refused; the file holds only the contract's fields
    out = tmp_path / "handover.csv"
    r = cli(*po, "handover", contract, "--out", str(out), "--fields", "name,phones")
    assert r.exit_code == 3 and "R-25-1" in one_line(r) and "field_not_needed" in one_line(r)
    assert not out.exists()
    rec = j(cli(*po, "handover", contract, "--out", str(out), "--json"))
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert set(rows[0]) == {"customer_id", "name", "postal_code", "address"}
    assert rec["customer_count"] == len(rows) and rec["customer_count"] + rec["withheld_count"] == 2
    assert (out.stat().st_mode & 0o777) == 0o600
    r = cli(*po, "handover", contract, "--out", str(out))
    assert r.exit_code != 0 and "file_exists" in one_line(r)
    log = j(cli(*po, "handovers", contract, "--json"))
    assert len(log) == 1 and "name" in log[0]["fields"] and "rows" not in json.dumps(log)
    ended = j(
        cli(*po, "contracts", "end", contract, "--disposal", "deleted", "--evidence", "削除証明 1", "--json")
    )
    assert ended["status"] == "ended" and ended["end_disposal"] == "deleted"
    r = cli(*po, "contracts", "end", contract, "--disposal", "deleted", "--evidence", "again")
    assert r.exit_code != 0 and "contract_ended" in one_line(r)


@pytest.mark.slow  # ~30 CLI invocations
def test_processors_cli_refuses_other_roles_and_bad_input(cli):  # noqa: F811
    cp = _counterparty()
    before = json.loads(cli("--as", "hoshino", "processors", "contracts", "list", "--json").stdout)
    for user in ("sato", "takahashi", "ito", "admin"):
        r = cli("--as", user, "processors", "contracts", "list")
        assert r.exit_code == 3 and "role_not_permitted" in one_line(r), (user, r.stderr)
        r = cli(
            "--as",
            user,
            "processors",
            "contracts",
            "add",
            "--counterparty",
            cp,
            "--work",
            "w",
            "--purposes",
            "contract",
            "--fields",
            "name",
            "--starts",
            "2026-01-01",
            "--ends",
            "2026-12-31",
        )
        assert r.exit_code == 3, (user, r.stderr)
    after = json.loads(cli("--as", "hoshino", "processors", "contracts", "list", "--json").stdout)
    assert after == before  # (the demo store has its own contract; nothing was added by the refused calls)
    # every other command, for a sales rep: refused before anything is looked up
    x = "0" * 32
    for user in ("sato",):
        for args in (
            ("contracts", "show", x),
            ("contracts", "evaluate", x, "--meets", "all"),
            ("contracts", "activate", x),
            ("contracts", "end", x, "--disposal", "deleted", "--evidence", "e"),
            ("contracts", "customers", x),
            ("contracts", "customers", x, "--purpose", "contract"),
            ("audits", "schedule", x, "--due", "2027-01-01"),
            ("audits", "record", x, "--result", "passed", "--performed-on", "2026-01-01"),
            ("audits", "remedy", x, "--remedy", "r"),
            ("audits", "list"),
            ("subcontractors", "request", x, "--name", "n", "--work", "w", "--methods", "m"),
            ("subcontractors", "approve", x),
            ("subcontractors", "refuse", x),
            ("operators", "add", x, "op-x", "--display-name", "x"),
            ("operators", "list"),
            ("handover", x, "--out", "/nonexistent/never.csv"),
            ("handovers", x),
        ):
            r = cli("--as", user, "processors", *args)
            assert r.exit_code == 3 and "role_not_permitted" in one_line(r), (user, args, r.stderr)
    po = ("--as", "hoshino", "processors")
    bad = cli(
        *po,
        "contracts",
        "add",
        "--counterparty",
        cp,
        "--work",
        "w",
        "--purposes",
        "contract",
        "--fields",
        "name,salary",
        "--starts",
        "2026-01-01",
        "--ends",
        "2026-12-31",
    )
    assert bad.exit_code == 1 and "invalid_input" in one_line(bad) and "fields" in one_line(bad)
    bad = cli(
        *po,
        "contracts",
        "add",
        "--counterparty",
        cp,
        "--work",
        "w",
        "--purposes",
        "contract",
        "--fields",
        "name",
        "--starts",
        "2026-12-31",
        "--ends",
        "2026-01-01",
    )
    assert bad.exit_code == 1 and "invalid_input" in one_line(bad)
    r = cli(*po, "contracts", "show", "0" * 32)
    assert r.exit_code == 1 and "contract_not_found" in one_line(r)
    r = cli(*po, "contracts", "evaluate", "0" * 32, "--meets", ",".join(EVALUATION_ITEMS[:2]))
    assert r.exit_code == 1 and "invalid_input" in one_line(r)
    r = cli(*po, "audits", "record", "0" * 32, "--result", "maybe")
    assert r.exit_code == 1 and "invalid_input" in one_line(r)
    r = cli(*po, "subcontractors", "approve", "0" * 32)
    assert r.exit_code == 1 and "subcontract_not_found" in one_line(r)
    r = cli(*po, "operators", "add", "0" * 32, "Bad Name", "--display-name", "x")
    assert r.exit_code == 1 and "invalid_input" in one_line(r)
    r = cli(*po, "contracts", "customers", "0" * 32, "--add", "xyz")
    assert r.exit_code == 1 and "invalid_input" in one_line(r)
