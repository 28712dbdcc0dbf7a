"""``mamori monitoring report`` (issue 25 "Deliver" 4): Rich tables, JSON, the HTML document on standard output or
in a file, the PDF in a file; bad input in one line without the value; sales and the analyst refused (R-23-2,
audited). The command runs on the system clock, so the month is always given and only figures that do not depend
on today are asserted (the requests' timeliness does). Synthetic data only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamori.kernel.context import Actor
from mamori.kernel.runtime import Runtime
from tests.monitoring.test_report_support import CUSTOMER, december_clock, no_external_url, november


@pytest.fixture
def clock():
    return december_clock()


@pytest.fixture
def store(runtime: Runtime, actors: dict[str, Actor]) -> dict[str, Actor]:
    november(runtime)
    return actors


def test_text_and_json(store, cli) -> None:
    r = cli("--as", "po", "monitoring", "report", "--month", "2026-11")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "個人情報保護 月次ガバナンス報告（令和8年11月）" in out
    assert "1. 閲覧・持出し（役割別）" in out and "6. 実践チェックリスト" in out
    sales = next(line for line in out.splitlines() if "営業担当者" in line)
    assert [c.strip() for c in sales.strip("│ ").split("│")] == [
        "営業担当者",
        "2",
        "2",
        "70",
        "50",
        "14",
        "100",
        "5",
        "1",
    ]
    assert "INC-0003" in out and "AR-2026-Q3" in out
    assert CUSTOMER["name"] not in out and CUSTOMER["phone"] not in out
    got = json.loads(cli("--as", "po", "monitoring", "report", "--month", "2026-11", "--json").stdout)
    assert got["month"] == "2026-11" and got["era"] == "令和8年11月"
    assert got["activity"]["total"]["entries"] == 120 and got["alerts"]["raised"] == 5
    assert got["alerts"]["by_status"] == {"new": 1, "looking": 1, "dismissed": 2, "incident": 1}
    assert got["requests"]["received"] == 6 and got["incidents"]["known"] == 3
    same = json.loads(
        cli("--as", "admin", "monitoring", "report", "--month", "2026-11", "--format", "json").stdout
    )
    assert same["generated_by_role"] == "admin" and same["activity"]["total"]["reads"] == 95


def test_html_and_pdf(runtime: Runtime, store, cli, tmp_path: Path) -> None:
    r = cli("--as", "po", "monitoring", "report", "--month", "2026-11", "--format", "html")
    assert r.exit_code == 0 and r.stdout.startswith("<!DOCTYPE html>") and no_external_url(r.stdout)
    assert "<title>個人情報保護 月次ガバナンス報告（令和8年11月）</title>" in r.stdout
    out = tmp_path / "report.pdf"
    r = cli("--as", "po", "monitoring", "report", "--month", "2026-11", "--format", "pdf", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert out.read_bytes().startswith(b"%PDF") and f"{out} に書き出しました" in r.stdout
    again = cli(
        "--as", "po", "monitoring", "report", "--month", "2026-11", "--format", "pdf", "--out", str(out)
    )
    assert (
        again.exit_code != 0 and len(again.output.strip().splitlines()) == 1
    )  # no overwrite without --force
    forced = cli(
        "--as", "po", "monitoring", "report", "--month", "2026-11", "--format", "pdf", "--out", str(out), "--force"
    )  # fmt: skip
    assert forced.exit_code == 0
    page = tmp_path / "report.html"
    r = cli(
        "--as", "po", "monitoring", "report", "--month", "2026-11", "--format", "html", "--out", str(page)
    )
    assert r.exit_code == 0 and "2026年11月（令和8年11月）" in page.read_text(encoding="utf-8")
    made = [e for e in runtime.audit.tail(200) if e.action == "monitoring.report" and e.decision == "info"]
    assert [e.details["format"] for e in made] == ["html", "pdf", "pdf", "html"]  # not the refused overwrite


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--month", "2026-13"), "bad_month"),
        (("--month", "tomorrow"), "bad_month"),
        (("--month", "2999-01"), "future_month"),
        (("--format", "docx"), "bad_format"),
        (("--format", "pdf"), "out_required"),
        (("--out", "x.txt"), "bad_out"),
    ],
)
def test_bad_input_is_one_line(store, cli, args: tuple[str, ...], code: str) -> None:
    r = cli("--as", "po", "monitoring", "report", *args)
    assert r.exit_code == 1 and code in r.output and len(r.output.strip().splitlines()) == 1
    assert "tomorrow" not in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("who", ["sato", "analyst"])
def test_other_roles_are_refused(runtime: Runtime, store, cli, who: str) -> None:
    r = cli("--as", who, "monitoring", "report", "--month", "2026-11", "--json")
    assert r.exit_code != 0 and "R-23-2" in r.output and len(r.output.strip().splitlines()) == 1
    assert r.stdout == ""
    denied = [e for e in runtime.audit.tail(10) if e.action == "monitoring.report"]
    assert [(e.decision, e.actor) for e in denied] == [("deny", store[who].label)]
