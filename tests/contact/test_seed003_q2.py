"""Seed 003 Q2, end to end through the CLI the call center uses (issue 20): a customer says 「もう電話してこないで」.

The operator records it (`mamori consent dnc ID --channel phone`); at the next decision the outbound purpose's
read masks the phone, the check before a call is refused with R-35-1, the call list leaves the person out (and
says why, by count), while a billing read still shows the number, a letter for the same outbound purpose is still
possible, and another customer on the same list is unaffected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mamori.kernel.settings import reset_settings_cache
from tests.contact.conftest import BILLING, OUTBOUND, add_purposes, person
from tests.factories import point_env_at, seed_basics


@pytest.fixture
def story(runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, dict[str, str]]]:
    from mamori.cli.main import app

    actors = seed_basics(runtime)
    add_purposes(runtime)
    both = (BILLING, OUTBOUND.code)
    ids = {
        "caller": person(runtime, actors["sato"], 31, purposes=both, address="東京都新宿区西新宿2-8-1"),
        "other": person(runtime, actors["sato"], 32, purposes=both, address="東京都新宿区西新宿2-8-2"),
    }
    point_env_at(monkeypatch, runtime.settings, MAMORI_LANG="ja")
    runner = CliRunner()

    def run(user: str, *args: str) -> Any:
        return runner.invoke(app, ["--as", user, *args])

    yield run, ids
    reset_settings_cache()


def _show(cli: Any, cid: str, purpose: str) -> dict[str, Any]:
    r = cli("support", "customers", "show", cid, "-p", purpose, "--json")
    assert r.exit_code == 0, r.output
    return dict(json.loads(r.stdout))


def test_do_not_call_holds_at_the_next_decision_for_outbound_and_nowhere_else(story, tmp_path: Path) -> None:
    cli, ids = story
    caller, other = ids["caller"], ids["other"]
    before = _show(cli, caller, OUTBOUND.code)
    assert before["phones"] and "phones" not in before["masked"]
    assert (
        cli("support", "contact", "check", caller, "-p", OUTBOUND.code, "--channel", "phone").exit_code == 0
    )

    said = cli(
        "support",
        "consent",
        "dnc",
        caller,
        "--channel",
        "phone",
        "--method",
        "oral",
        "--evidence",
        "call-0312",
    )
    assert said.exit_code == 0, said.output

    # the next outbound read: the number is masked; billing still shows it; the other customer is untouched
    after = _show(cli, caller, OUTBOUND.code)
    assert "phones" in after["masked"] and not after["phones"]
    assert after["address"] and "address" not in after["masked"]  # a letter is still allowed
    billing = _show(cli, caller, BILLING)
    assert billing["phones"] == before["phones"] and "phones" not in billing["masked"]
    assert _show(cli, other, OUTBOUND.code)["phones"]

    # the check before a call is refused with the rule; a letter is not
    call = cli("support", "contact", "check", caller, "-p", OUTBOUND.code, "--channel", "phone")
    assert call.exit_code != 0 and "R-35-1" in call.output
    assert before["phones"][0] not in call.output
    letter = cli("support", "contact", "check", caller, "-p", OUTBOUND.code, "--channel", "post", "--json")
    assert letter.exit_code == 0, letter.output

    # off the call list, counted by reason; the other customer stays on it
    out = tmp_path / "calls.csv"
    built = cli(
        "support", "contact", "list", "-p", OUTBOUND.code, "--channel", "phone", "--out", str(out), "--json"
    )
    assert built.exit_code == 0, built.output
    body = json.loads(built.stdout)
    listed = [row["customer_id"] for row in body["rows"]]
    assert other in listed and caller not in listed
    assert body["excluded"].get("do_not_contact") == 1
    text = out.read_text(encoding="utf-8-sig")
    assert other in text and caller not in text
