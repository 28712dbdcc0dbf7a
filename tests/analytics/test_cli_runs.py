"""``mamori analytics …`` through the command line (issue 24): the seed 002 journey an analyst walks — segment by
RFM under the analytics purpose, save the segment, hand it to the call center's list — and the refusals a person
sees as one line naming the rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mamori.deid import service as deid_service
from mamori.kernel.settings import reset_settings_cache
from tests.analytics.conftest import ANALYSIS, PLANNING, RECOMMEND, World
from tests.factories import point_env_at


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from mamori.cli.main import app

    point_env_at(monkeypatch, world.rt.settings, MAMORI_LANG="en")
    runner = CliRunner()

    def run(user: str, *args: str) -> Any:
        return runner.invoke(app, ["--as", user, *args])

    yield run
    reset_settings_cache()


def test_rfm_save_and_use_the_segment_in_a_call_list(cli: Any, world: World, tmp_path: Path) -> None:
    r = cli("analyst", "analytics", "rfm", "-p", ANALYSIS.code, "--json", "--rows", "5")
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["run"]["subjects"] == len(world.notified) and body["rows_total"] == len(world.notified)
    assert len(body["rows"]) == 5 and all(row[0].startswith("P-") for row in body["rows"])
    codes = [s["code"] for s in body["run"]["summary"]["segments"] if s["count"]]
    saved = cli(
        "analyst", "analytics", "rfm", "-p", ANALYSIS.code, "--save", "buyers", "--take", ",".join(codes[:2])
    )
    assert saved.exit_code == 0, saved.output
    assert "buyers" in saved.stdout and "@buyers" in saved.stdout
    listed = cli("analyst", "analytics", "segments", "list", "--json")
    assert [s["name"] for s in json.loads(listed.stdout)] == ["buyers"]
    out = tmp_path / "calls.csv"
    built = cli(
        "support",
        "contact",
        "list",
        "-p",
        RECOMMEND.code,
        "--channel",
        "phone",
        "--segment",
        "@buyers",
        "--out",
        str(out),
    )
    assert built.exit_code == 0, built.output
    rows = out.read_text(encoding="utf-8-sig").splitlines()[1:]
    assert rows and all(line.split(",")[0] in world.notified for line in rows)
    runs = json.loads(cli("analyst", "analytics", "runs", "--json").stdout)
    assert [r["kind"] for r in runs] == ["rfm", "rfm"]
    one = cli("analyst", "analytics", "run", runs[0]["id"])
    assert one.exit_code == 0 and "R(days)" in one.stdout


def test_the_screen_and_the_file_hold_pseudonyms_only(cli: Any, world: World, tmp_path: Path) -> None:
    out = tmp_path / "life.csv"
    r = cli("analyst", "analytics", "lifestage", "-p", ANALYSIS.code, "--out", str(out))
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8-sig") + r.stdout
    assert "分析 花子" not in text and "example.jp" not in text
    assert not any(cid in text for cid in world.ids.values())
    again = cli("analyst", "analytics", "lifestage", "-p", ANALYSIS.code, "--out", str(out))
    assert again.exit_code != 0 and "file_exists" in again.stderr


def test_extract_and_analyse_pseudonymised_data(cli: Any, world: World, tmp_path: Path) -> None:
    with world.rt.transaction(world.actors["po"]) as ctx:
        deid_service.create_key(ctx)
    data = tmp_path / "acts.csv"
    made = cli("analyst", "analytics", "extract", "-p", ANALYSIS.code, "--out", str(data), "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["subjects"] == len(world.notified)
    r = cli(
        "analyst",
        "analytics",
        "behaviour",
        "-p",
        ANALYSIS.code,
        "--dataset",
        str(data),
        "--json",
        "--save",
        "pseudo",
        "--take",
        "purchase_centred",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["segment"]["contactable"] is False
    ok = cli("analyst", "analytics", "rfm", "-p", ANALYSIS.code, "--dataset", str(data), "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["run"]["path"] == "pseudonymised"
    seg_codes = [s["code"] for s in json.loads(ok.stdout)["run"]["summary"]["segments"] if s["count"]]
    saved = cli(
        "analyst",
        "analytics",
        "rfm",
        "-p",
        ANALYSIS.code,
        "--dataset",
        str(data),
        "--save",
        "p-top",
        "--take",
        seg_codes[0],
    )
    assert saved.exit_code == 0, saved.output
    refused = cli(
        "support",
        "contact",
        "list",
        "-p",
        RECOMMEND.code,
        "--channel",
        "phone",
        "--segment",
        "@p-top",
        "--out",
        str(tmp_path / "never.csv"),
    )
    assert refused.exit_code == 3 and "R-41-5" in refused.stderr
    assert not (tmp_path / "never.csv").exists()
    wrong = cli("analyst", "analytics", "rfm", "-p", PLANNING.code, "--dataset", str(data))
    assert wrong.exit_code == 3 and "R-41-3" in wrong.stderr


@pytest.mark.parametrize(
    ("user", "args", "code", "needle"),
    [
        ("sato", ("analytics", "rfm", "-p", ANALYSIS.code), 3, "R-23-2"),
        ("support", ("analytics", "runs"), 3, "R-23-2"),
        ("sato", ("analytics", "segments", "list"), 3, "R-23-2"),
        ("analyst", ("analytics", "rfm", "-p", PLANNING.code), 3, "R-17-1"),
        ("analyst", ("analytics", "rfm", "-p", ANALYSIS.code, "--as-of", "2026/13/01"), 1, "bad_date"),
        ("analyst", ("analytics", "rfm", "-p", ANALYSIS.code, "--bins", "1"), 1, "invalid_input"),
        ("analyst", ("analytics", "rfm", "-p", ANALYSIS.code, "--take", "champions"), 1, "bad_option"),
        (
            "analyst",
            ("analytics", "rfm", "-p", ANALYSIS.code, "--save", "x y", "--take", "champions"),
            1,
            "bad_segment_name",
        ),
        (
            "analyst",
            ("analytics", "rfm", "-p", ANALYSIS.code, "--save", "s", "--take", "nosuch"),
            1,
            "bad_take",
        ),
        ("analyst", ("analytics", "segments", "show", "nosuch"), 1, "not_found"),
        ("analyst", ("analytics", "runs", "--kind", "nosuch"), 1, "bad_kind"),
    ],
)
def test_refusals_and_bad_input_are_one_line(
    cli: Any, world: World, user: str, args: tuple[str, ...], code: int, needle: str
) -> None:
    r = cli(user, *args)
    assert r.exit_code == code, r.output
    assert needle in r.stderr
    assert len([line for line in r.stderr.splitlines() if line.strip()]) == 1
    assert "分析 花子" not in r.stderr and "Traceback" not in r.output
