"""Issue 17, inputs: `mamori text redact` writes a CSV without live spreadsheet formulas; its -o and the
`mamori deid` output and --report files never follow a link nor replace a file without --force."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from typer.testing import CliRunner

from mamori.deid.cli.text import app as text_app
from tests.deid.conftest import Run
from tests.deid.tabular.test_cli import deid, small_table

runner = CliRunner()
FORMULA = '=HYPERLINK("http://evil.example/","x")'


def test_redacted_csv_carries_no_formula_and_out_is_never_a_trap(tmp_path: Path) -> None:
    src = tmp_path / "notes.csv"
    src.write_text(
        f'id,氏名,メモ\n1,山田太郎,"{FORMULA.replace(chr(34), chr(34) * 2)}"\n2,佐藤花子,@SUM(A1)\n',
        encoding="utf-8",
    )
    res = runner.invoke(text_app, ["redact", str(src)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout, newline="")))
    assert [r["メモ"] for r in rows] == ["'" + FORMULA, "'@SUM(A1)"]
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = tmp_path / "out.csv"
    link.symlink_to(victim)
    res = runner.invoke(text_app, ["redact", str(src), "-o", str(link)])
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code != 0 and len(lines) == 1 and "既に存在します" in lines[0]
    assert victim.read_text() == "precious\n" and link.is_symlink()
    res = runner.invoke(text_app, ["redact", str(src), "-o", str(link), "--force"])
    assert res.exit_code == 0, res.output
    assert victim.read_text() == "precious\n" and not link.is_symlink()
    assert (link.stat().st_mode & 0o777) == 0o600 and "'@SUM(A1)" in link.read_text(encoding="utf-8")


def test_deid_outputs_and_reports_are_never_a_trap(cli: Run, tmp_path: Path) -> None:
    src = small_table(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out, rep = tmp_path / "out.csv", tmp_path / "report.json"
    rep.symlink_to(victim)
    args = ["anonymise", str(src), "-o", str(out), "--qi", "age,prefecture", "--k", "3", "--builtin", "age=age",
            "--builtin", "prefecture=prefecture", "--suppression", "0.2", "--json"]  # fmt: skip
    r = deid(cli, *args, "--report", str(rep))
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.exit_code != 0 and len(lines) == 1 and "file_exists" in lines[0]
    assert not out.exists() and victim.read_text() == "precious\n"  # refused before the work
    out.symlink_to(victim)
    rep.unlink()
    r = deid(cli, *args, "--report", str(rep))
    assert r.exit_code != 0 and "file_exists" in r.stderr and victim.read_text() == "precious\n"
    r = deid(cli, *args, "--report", str(rep), "--force")
    assert r.exit_code == 0, r.output
    assert victim.read_text() == "precious\n" and not out.is_symlink() and rep.exists()
    # risk's report: an existing file is refused, then replaced with --force
    risk = ["risk", str(src), "--qi", "age,prefecture", "--json", "--report", str(rep)]
    r = deid(cli, *risk)
    assert r.exit_code != 0 and "file_exists" in r.stderr
    assert deid(cli, *risk, "--force").exit_code == 0
    # a sales rep may not run it, and no file appears (R-23-2)
    other = tmp_path / "rep-out.csv"
    r = cli(
        "--as",
        "sato",
        "deid",
        "anonymise",
        str(src),
        "-o",
        str(other),
        "--qi",
        "age",
        "--builtin",
        "age=age",
        "-p",
        "analytics",
    )
    assert r.exit_code != 0 and "R-23-2" in r.stderr and not other.exists()


def test_deid_data_files_carry_no_live_formula_and_are_private(cli: Run, tmp_path: Path) -> None:
    """The anonymised / pseudonymised data file is written through kernel.files: 0600, formula-like text cells
    neutralised (a kept column's value ``=1+1`` would run in a spreadsheet)."""
    src = small_table(tmp_path)
    text = src.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    purchase = header.index("purchase")
    rows = [ln.split(",") for ln in text[1:]]
    for row in rows:
        row[purchase] = (
            "=1+1" if row[purchase] == "毎月" else "@SUM(A1)" if row[purchase] == "なし" else row[purchase]
        )
    src.write_text("\n".join([text[0], *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    out = tmp_path / "anon.csv"
    args = ["anonymise", str(src), "-o", str(out), "--qi", "age,prefecture", "--k", "3", "--builtin", "age=age",
            "--builtin", "prefecture=prefecture", "--suppression", "0.2", "--keep", "purchase", "--json"]  # fmt: skip
    r = deid(cli, *args)
    assert r.exit_code == 0, r.output
    values = {row["purchase"] for row in csv.DictReader(out.read_text(encoding="utf-8").splitlines())}
    assert "=1+1" not in values and "@SUM(A1)" not in values
    assert {"'=1+1", "'@SUM(A1)"} <= values
    assert (out.stat().st_mode & 0o777) == 0o600
    pseudo = tmp_path / "pseudo.csv"
    r = deid(cli, "pseudonymise", str(src), "-o", str(pseudo), "--id", "customer_id", "--keep", "purchase")
    assert r.exit_code == 0, r.output
    text_out = pseudo.read_text(encoding="utf-8")
    assert "'=1+1" in text_out and ",=1+1" not in text_out
    manifest = pseudo.with_name(pseudo.name + ".manifest.json")
    assert (manifest.stat().st_mode & 0o777) == 0o600
