"""deid inside the kernel's rules, through the `mamori` CLI a person would use (issue 12).

Who may run what (R-23-2), the pseudonym keys as 削除情報等 (R-41-2), a declared purpose (R-18-1 / R-17-1), one
audit entry per run without values, and the dataset guard: 仮名加工情報 is never taken back into customers
(R-41-5) and 匿名加工情報 is never collated with them (R-43-5).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
from click.testing import Result

from tests.deid.conftest import Run

PREFS = ["広島県", "東京都", "大阪府", "北海道"]


def table(tmp_path: Path) -> Path:
    rows = [
        {
            "customer_id": f"C{i:04d}",
            "name": f"テスト{i}",
            "phone": f"090-0000-{i:04d}",
            "age": str(20 + (i * 7) % 50),
            "prefecture": PREFS[i % 4],
            "gender": "F" if i % 2 else "M",
            "purchase": ["毎月", "年数回", "なし"][i % 3],
        }
        for i in range(40)
    ]
    path = tmp_path / "customers_export.csv"
    pl.DataFrame(rows).write_csv(path)
    return path


def one_line(result: Result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def audit(cli: Run, n: int = 50) -> list[dict[str, Any]]:
    r = cli("--as", "hoshino", "audit", "tail", "-n", str(n), "--json")
    assert r.exit_code == 0, r.output
    return list(json.loads(r.stdout))


def customers(cli: Run) -> str:
    r = cli("--as", "hoshino", "customers", "list", "-p", "contract", "--limit", "500", "--json")
    assert r.exit_code == 0, r.output
    return r.stdout


def import_args(path: Path) -> list[str]:
    return [
        "customers",
        "import",
        str(path),
        "--source",
        "分析結果",
        "-p",
        "contract",
        "--map",
        "customer_id=name",
    ]


def test_pseudonymised_output_cannot_be_imported_as_customers(cli: Run, tmp_path: Path) -> None:
    src = table(tmp_path)
    out = tmp_path / "pseudo.csv"
    r = cli("--as", "hoshino", "deid", "pseudonymise", str(src), "-o", str(out), "-p", "analytics", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    manifest = json.loads((tmp_path / "pseudo.csv.manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "仮名加工情報" and manifest["dataset_id"] == summary["dataset_id"]
    assert "name" not in pl.read_csv(out).columns

    before = customers(cli)
    refused = cli("--as", "hoshino", *import_args(out))
    assert refused.exit_code != 0
    assert "R-41-5" in one_line(refused)
    assert customers(cli) == before  # nothing written

    # renamed and without its manifest: recognised by its bytes (the dataset register)
    moved = tmp_path / "elsewhere" / "list.csv"
    moved.parent.mkdir()
    shutil.copyfile(out, moved)
    refused = cli("--as", "hoshino", *import_args(moved))
    assert refused.exit_code != 0 and "R-41-5" in one_line(refused)
    assert customers(cli) == before

    denials = [e for e in audit(cli) if e["action"] == "customer.import" and e["decision"] == "deny"]
    assert len(denials) == 2 and denials[0]["rule_ids"] == ["R-41-5"]

    # an ordinary customer file still imports (the guard refuses only registered datasets)
    plain = tmp_path / "plain.csv"
    plain.write_text("name,email\n山田花子,hanako@example.jp\n", encoding="utf-8")
    ok = cli("--as", "hoshino", "customers", "import", str(plain), "--source", "展示会", "-p", "contract")
    assert ok.exit_code == 0, ok.output


def test_anonymised_output_cannot_be_collated_with_customers(cli: Run, tmp_path: Path) -> None:
    src = table(tmp_path)
    out = tmp_path / "anon.csv"
    r = cli(
        "--as", "ito", "deid", "anonymise", str(src), "-o", str(out), "-p", "analytics",
        "--qi", "age,prefecture", "--builtin", "age=age", "--builtin", "prefecture=prefecture",
        "--k", "3", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    before = customers(cli)
    refused = cli("--as", "hoshino", "customers", "import", str(out), "--source", "x", "-p", "contract",
                  "--map", "prefecture=address", "--map", "age=name")  # fmt: skip
    assert refused.exit_code != 0
    assert "R-43-5" in one_line(refused)
    assert customers(cli) == before


def test_analyst_runs_risk_and_anonymise_with_a_purpose_and_each_run_is_audited_without_values(
    cli: Run, tmp_path: Path
) -> None:
    src = table(tmp_path)
    r = cli(
        "--as", "ito", "deid", "risk", str(src), "--qi", "age,prefecture,gender", "-p", "analytics", "--json"
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "anon.parquet"
    r = cli(
        "--as", "ito", "deid", "anonymise", str(src), "-o", str(out), "-p", "analytics",
        "--qi", "age,prefecture", "--builtin", "age=age", "--builtin", "prefecture=prefecture",
        "--sensitive", "purchase", "--k", "3", "--l", "2", "--suppression", "0.1", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    entries = audit(cli)
    by_action = {e["action"]: e for e in entries if e["action"].startswith("deid.")}
    risk, anon = by_action["deid.risk"], by_action["deid.anonymise"]
    for e in (risk, anon):
        assert e["actor_role"] == "analyst" and e["purpose"] == "analytics" and e["decision"] == "allow"
    assert set(risk["fields"]) == {"age", "prefecture", "gender"}
    assert risk["details"]["records"] == 40 and risk["details"]["file"] == "customers_export.csv"
    d = anon["details"]
    assert d["k"] == 3 and d["l"] == 2 and d["rows_in"] == 40 and "suppressed" in d
    assert d["file"] == "anon.parquet" and d["source_file"] == "customers_export.csv"
    assert set(anon["fields"]) == {"age", "prefecture", "purchase"}
    text = json.dumps(entries, ensure_ascii=False)
    for value in ("テスト", "090-0000", "C0001", "広島県", "東京都", "毎月", "年数回"):
        assert value not in text  # names, phones, ids and cell values never reach the audit log


def test_purpose_is_required_and_must_be_registered(cli: Run, tmp_path: Path) -> None:
    src = table(tmp_path)
    r = cli("--as", "ito", "deid", "risk", str(src), "--qi", "age")
    assert r.exit_code != 0 and "R-18-1" in one_line(r)
    r = cli("--as", "ito", "deid", "risk", str(src), "--qi", "age", "-p", "no-such-purpose")
    assert r.exit_code != 0 and "R-17-1" in one_line(r)


def test_sales_rep_may_not_run_deid(cli: Run, tmp_path: Path) -> None:
    src = table(tmp_path)
    for args in (
        ["risk", str(src), "--qi", "age"],
        ["pseudonymise", str(src), "-o", str(tmp_path / "p.csv")],
        ["anonymise", str(src), "-o", str(tmp_path / "a.csv"), "--qi", "age", "--builtin", "age=age"],
    ):
        r = cli("--as", "sato", "deid", *args, "-p", "analytics")
        assert r.exit_code != 0, args
        assert "R-23-2" in one_line(r)
    assert not (tmp_path / "p.csv").exists() and not (tmp_path / "a.csv").exists()
    denials = [e for e in audit(cli) if e["actor_role"] == "sales" and e["action"].startswith("deid.")]
    assert len(denials) == 3 and all(e["decision"] == "deny" for e in denials)
    r = cli("deid", "risk", str(src), "--qi", "age", "-p", "analytics")  # nobody named
    assert r.exit_code != 0 and len(r.stderr.strip().splitlines()) == 1


def test_pseudonym_keys_are_the_privacy_officers_alone(cli: Run, tmp_path: Path) -> None:
    src = table(tmp_path)
    # the analyst may not create 削除情報等, not even implicitly by a first pseudonymisation
    r = cli("--as", "ito", "deid", "pseudonymise", str(src), "-o", str(tmp_path / "p.csv"), "-p", "analytics")
    assert r.exit_code != 0 and "R-41-2" in one_line(r)
    assert not (tmp_path / "p.csv").exists()
    for who in ("ito", "sato"):
        r = cli("--as", who, "deid", "keys", "create")
        assert r.exit_code != 0 and "R-41-2" in one_line(r)
    r = cli("--as", "hoshino", "deid", "keys", "create", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["created"] is True
    # with the key in place the analyst pseudonymises (the key never leaves the service)
    r = cli("--as", "ito", "deid", "pseudonymise", str(src), "-o", str(tmp_path / "p.csv"), "-p", "analytics")
    assert r.exit_code == 0, r.output
    first = pl.read_csv(tmp_path / "p.csv")["customer_id"].to_list()
    for who in ("ito", "sato", "admin"):
        r = cli("--as", who, "deid", "keys", "destroy", "deid.pseudonym.hmac")
        assert r.exit_code != 0 and "R-41-2" in one_line(r), who
    r = cli("--as", "hoshino", "deid", "keys", "destroy", "deid.pseudonym.hmac", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["destroyed"] is True
    # other keystore secrets are out of the deid commands' reach
    r = cli("--as", "hoshino", "deid", "keys", "destroy", "audit_mac")
    assert r.exit_code != 0 and "R-41-2" in one_line(r)
    # after destruction the old pseudonyms cannot be reproduced: a new key gives new pseudonyms
    r = cli(
        "--as", "hoshino", "deid", "pseudonymise", str(src), "-o", str(tmp_path / "q.csv"), "-p", "analytics"
    )
    assert r.exit_code == 0, r.output
    assert set(pl.read_csv(tmp_path / "q.csv")["customer_id"].to_list()).isdisjoint(first)
    actions = [(e["action"], e["decision"]) for e in audit(cli, 100)]
    assert ("deid.keys.create", "allow") in actions and ("deid.keys.destroy", "allow") in actions
    assert ("deid.keys", "deny") in actions


def test_bad_input_is_one_line(cli: Run, tmp_path: Path) -> None:
    src = table(tmp_path)
    cases = [
        ["risk", str(tmp_path / "missing.csv"), "--qi", "age"],
        ["risk", str(src), "--qi", "nope"],
        ["anonymise", str(src), "-o", str(tmp_path / "o.csv"), "--qi", "age"],
        ["pseudonymise", str(src), "-o", str(tmp_path / "o.csv"), "--keep", "missing"],
    ]
    for args in cases:
        r = cli("--as", "hoshino", "deid", *args, "-p", "analytics")
        assert r.exit_code != 0, args
        one_line(r)
        assert "テスト" not in r.output


def test_pseudonymised_data_is_provided_only_on_the_grounds_of_r_41_4(cli: Run, tmp_path: Path) -> None:
    src = table(tmp_path)
    pseudo, anon = tmp_path / "pseudo.csv", tmp_path / "anon.csv"
    assert (
        cli(
            "--as", "hoshino", "deid", "pseudonymise", str(src), "-o", str(pseudo), "-p", "analytics"
        ).exit_code
        == 0
    )
    r = cli("--as", "hoshino", "deid", "provide", str(pseudo), "--to", "株式会社データ販売", "--ground", "third_party",
            "-p", "analytics")  # fmt: skip
    assert r.exit_code != 0 and "R-41-4" in one_line(r)
    r = cli("--as", "hoshino", "deid", "provide", str(pseudo), "--to", "分析委託先株式会社", "--ground", "entrustment",
            "-p", "analytics", "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["ground"] == "委託"
    r = cli(
        "--as",
        "ito",
        "deid",
        "provide",
        str(pseudo),
        "--to",
        "x",
        "--ground",
        "entrustment",
        "-p",
        "analytics",
    )
    assert r.exit_code != 0 and "R-23-2" in one_line(r)  # the analyst does not hand data out
    r = cli(
        "--as", "hoshino", "deid", "anonymise", str(src), "-o", str(anon), "-p", "analytics",
        "--qi", "age", "--builtin", "age=age", "--k", "3",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    r = cli("--as", "hoshino", "deid", "provide", str(anon), "--to", "研究機関", "--ground", "third_party",
            "-p", "analytics", "--json")  # fmt: skip
    assert r.exit_code == 0 and "匿名加工情報" in json.loads(r.stdout)["provision_statement"]  # R-43-4
    r = cli(
        "--as",
        "hoshino",
        "deid",
        "provide",
        str(src),
        "--to",
        "x",
        "--ground",
        "entrustment",
        "-p",
        "analytics",
    )
    assert r.exit_code != 0 and "deid_not_a_dataset" in one_line(r)
    provided = [e for e in audit(cli) if e["action"] == "deid.provide" and e["decision"] == "allow"]
    assert {e["details"]["kind"] for e in provided} == {"pseudonymised", "anonymised"}
