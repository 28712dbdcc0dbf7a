"""``mamori contact list`` and ``mamori contact check`` (issue 20)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mamori.kernel.settings import reset_settings_cache
from tests.contact.conftest import NEWSLETTER, OUTBOUND, World
from tests.factories import point_env_at


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from mamori.cli.main import app

    point_env_at(monkeypatch, world.rt.settings, MAMORI_LANG="en")
    runner = CliRunner()

    def run(user: str, *args: str) -> Any:
        return runner.invoke(app, ["--as", user, "contact", *args])

    yield run
    reset_settings_cache()


def test_list_writes_a_csv_with_bom_and_header(cli: Any, world: World, tmp_path: Path) -> None:
    out = tmp_path / "list.csv"
    r = cli("support", "list", "-p", OUTBOUND.code, "--channel", "phone", "--out", str(out))
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfcustomer_id,name,kana,phone\r\n")
    text = data.decode("utf-8-sig")
    assert world.ids["ok"] in text and world.ids["dnc"] not in text
    assert r.stdout.startswith("5 ") and "do_not_contact" in r.stdout
    assert "+8190" not in r.stdout  # counts on the screen, values only in the file
    again = cli("support", "list", "-p", OUTBOUND.code, "--channel", "phone", "--out", str(out))
    assert again.exit_code != 0 and "file_exists" in again.stderr
    forced = cli("support", "list", "-p", OUTBOUND.code, "--channel", "phone", "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.output


def test_list_json_and_ids_file(cli: Any, world: World, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text(f"# chosen\n{world.ids['ok']}\n{world.ids['dnc']}\n", encoding="utf-8")
    r = cli("support", "list", "-p", OUTBOUND.code, "--channel", "phone", "--ids", str(ids), "--json")
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert [row["customer_id"] for row in body["rows"]] == [world.ids["ok"]]
    assert body["excluded"] == {"do_not_contact": 1} and body["considered"] == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("山田 太郎\n", encoding="utf-8")
    refused = cli("support", "list", "-p", OUTBOUND.code, "--channel", "phone", "--ids", str(bad), "--json")
    assert refused.exit_code != 0 and "bad_ids" in refused.stderr and "山田" not in refused.stderr


@pytest.mark.parametrize(
    ("user", "args", "expect"),
    [
        ("admin", ["-p", OUTBOUND.code, "--channel", "phone"], "R-23-2"),
        ("support", ["-p", "no-such", "--channel", "phone"], "purpose_unknown"),
        ("support", ["-p", OUTBOUND.code, "--channel", "fax"], "bad_channel"),
        ("support", ["-p", OUTBOUND.code, "--channel", "email"], "channel_not_in_purpose"),
        ("support", ["-p", OUTBOUND.code, "--channel", "phone", "--segment", "age=x"], "bad_segment"),
    ],
)
def test_list_refusals_are_one_line(
    cli: Any, tmp_path: Path, user: str, args: list[str], expect: str
) -> None:
    out = tmp_path / "x.csv"
    r = cli(user, "list", *args, "--out", str(out))
    assert r.exit_code != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and expect in lines[0]
    assert not out.exists()


def test_list_needs_out_or_json(cli: Any) -> None:
    r = cli("support", "list", "-p", OUTBOUND.code, "--channel", "phone")
    assert r.exit_code != 0 and "--out" in r.output


def test_check_allowed_and_refused(cli: Any, world: World) -> None:
    ok = cli("support", "check", world.ids["ok"], "-p", OUTBOUND.code, "--channel", "phone", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["contact_points"] == ["+819012345601"]
    dnc = cli("support", "check", world.ids["dnc"], "-p", OUTBOUND.code, "--channel", "phone")
    assert dnc.exit_code != 0 and "R-35-1" in dnc.stderr and "+8190" not in dnc.stderr
    mail = cli("po", "check", world.ids["optout"], "-p", NEWSLETTER.code, "--channel", "email")
    assert mail.exit_code != 0 and "optin_withdrawn" in mail.stderr and "TE-3" in mail.stderr
    human = cli("support", "check", world.ids["ok"], "-p", OUTBOUND.code, "--channel", "phone")
    assert human.exit_code == 0 and "+819012345601" in human.stdout
