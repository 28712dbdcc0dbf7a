"""`mamori deid` CLI through the whole `mamori` app (a store, the privacy officer, a purpose), incl. bad input."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from click.testing import Result

from tests.deid.conftest import Run
from tests.deid.tabular import checker


def deid(cli: Run, *args: str) -> Result:
    return cli("--as", "hoshino", "deid", *args, "-p", "analytics")


def small_table(tmp_path: Path) -> Path:
    rows = []
    prefs = ["広島県", "東京都", "大阪府", "北海道"]
    for i in range(60):
        rows.append(
            {
                "customer_id": f"C{i:04d}",
                "name": f"テスト{i}",
                "age": str(20 + (i * 7) % 50 if i != 5 else 116),
                "prefecture": prefs[i % 4],
                "postal": f"{730 + i % 3:03d}-{i:04d}",
                "gender": "F" if i % 2 else "M",
                "purchase": ["毎月", "年数回", "なし"][i % 3],
            }
        )
    path = tmp_path / "customers.csv"
    pl.DataFrame(rows).write_csv(path)
    return path


def test_given_table_when_anonymise_then_k_anonymous_output_report_and_html(cli: Run, tmp_path: Path) -> None:
    src = small_table(tmp_path)
    out = tmp_path / "out.csv"
    rep = tmp_path / "report.json"
    r = deid(
        cli,
        *[
            "anonymise", str(src), "-o", str(out), "--qi", "age,prefecture", "--qi", "gender",
            "--sensitive", "purchase", "--k", "3", "--l", "2", "--builtin", "age=age",
            "--builtin", "prefecture=prefecture", "--builtin", "gender=flat", "--suppression", "0.05",
            "--report", str(rep), "--json",
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout[r.stdout.index("{") :])
    assert summary["nodes_checked"] >= 1
    released = pl.read_csv(out, infer_schema=False).to_dicts()
    assert checker.is_k_anonymous(released, ["age", "prefecture", "gender"], 3)
    assert checker.distinct_l(released, ["age", "prefecture", "gender"], "purchase") >= 2
    assert set(released[0]) == {"age", "prefecture", "gender", "purchase"}  # ids and names are not output
    assert "116" not in {r["age"] for r in released}  # peculiar value top-coded or suppressed
    report = json.loads(rep.read_text(encoding="utf-8"))
    assert "匿名加工情報" in report["provision_statement_R-43-4"]["ja"]
    assert {i["item"] for i in report["published_items_R-43-3"]} == {
        "age",
        "prefecture",
        "gender",
        "purchase",
    }
    assert report["destroyed_processing_keys_R-43-2"]
    html = rep.with_suffix(".html").read_text(encoding="utf-8")
    assert "<svg" in html and "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_given_table_when_pseudonymise_then_output_and_manifest(cli: Run, tmp_path: Path) -> None:
    src = small_table(tmp_path)
    out = tmp_path / "p.parquet"
    r = deid(cli, "pseudonymise", str(src), "-o", str(out), "--json")
    assert r.exit_code == 0, r.output
    df = pl.read_parquet(out)
    assert "name" not in df.columns and "C0000" not in df["customer_id"].to_list()
    manifest = json.loads((tmp_path / "p.parquet.manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "仮名加工情報"


def test_given_table_when_risk_then_figures_without_values(cli: Run, tmp_path: Path) -> None:
    src = small_table(tmp_path)
    r = deid(
        cli, "risk", str(src), "--qi", "age,prefecture,gender", "--json", "--report", str(tmp_path / "r.json")
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["records"] == 60 and data["prosecutor_max"] == 1.0
    assert "テスト" not in r.stdout and "広島県" not in r.stdout
    assert (tmp_path / "r.html").exists()


def test_given_bad_input_when_running_then_one_line_error_and_nonzero_exit(cli: Run, tmp_path: Path) -> None:
    src = small_table(tmp_path)
    cases = [
        ["risk", str(tmp_path / "missing.csv"), "--qi", "age"],
        ["risk", str(src), "--qi", "nope"],
        ["anonymise", str(src), "-o", str(tmp_path / "o.csv"), "--qi", "age"],  # no hierarchy
        ["anonymise", str(src), "-o", str(tmp_path / "o.csv"), "--qi", "age", "--builtin", "age"],
        ["anonymise", str(src), "-o", str(tmp_path / "o.csv"), "--qi", "age", "--builtin", "age=age", "--k", "0"],
        ["anonymise", str(src), "-o", str(tmp_path / "o.csv"), "--qi", "age", "--builtin", "age=age", "--k", "1000"],
        ["anonymise", str(src), "-o", str(tmp_path / "o.csv"), "--qi", "age", "--builtin", "age=age",
         "--keep", "name"],
        ["anonymise", str(src), "-o", str(tmp_path / "o.csv"), "--qi", "age", "--builtin", "age=age",
         "--keep", "missing_col"],
        ["anonymise", str(src), "-o", str(tmp_path / "o.csv"), "--qi", "age", "--builtin", "age=age",
         "--sensitive", "purchase", "--t", "0.2", "--t-distance", "hierarchical"],
        ["anonymise", str(src), "-o", str(tmp_path / "o.csv"), "--qi", "age", "--builtin", "age=age",
         "--l-kind", "recursive"],
        ["anonymise", str(src), "-o", str(tmp_path / "o.csv"), "--qi", "age", "--hierarchy",
         f"age={tmp_path / 'nope.csv'}"],
    ]  # fmt: skip
    for args in cases:
        r = deid(cli, *args)
        assert r.exit_code != 0, args
        assert len([ln for ln in r.stderr.splitlines() if ln.strip()]) == 1, (args, r.stderr)
        assert "Traceback" not in r.output
        assert "テスト" not in r.output


def test_given_english_when_error_then_english_message(cli: Run, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAMORI_LANG", "en")
    r = deid(cli, "risk", str(small_table(tmp_path)), "--qi", "nope")
    assert r.exit_code != 0
    assert "does not exist" in r.output


def test_given_table_when_risk_without_json_then_summary_in_japanese_words(cli: Run, tmp_path: Path) -> None:
    """Issue 14: the human summary names each figure in words from the label dictionary, never the code."""
    src = small_table(tmp_path)
    r = deid(cli, "risk", str(src), "--qi", "age,prefecture,gender")
    assert r.exit_code == 0, r.output
    assert "再識別リスク最大値（prosecutor）: 1.0" in r.stdout and "件数: 60" in r.stdout
    assert "prosecutor_max:" not in r.stdout and "records:" not in r.stdout
