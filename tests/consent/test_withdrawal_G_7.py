"""G-7 through the CLI staff use: consent is demonstrable (each ledger line says who recorded it, when and how),
and withdrawing it is as easy as giving it — the same staff member, the same command shape, no extra details —
and takes effect on the very next read under that purpose.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.kernel.settings import reset_settings_cache
from tests.factories import demo_cli, make_customer, point_env_at, seed_basics


@pytest.fixture
def cli(tmp_path, monkeypatch):
    yield from demo_cli(tmp_path, monkeypatch, customers=1)


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


SALES = ("--as", "sato")  # a sales representative: records consent for their own customers only


def _customer(cli) -> str:
    return j(
        cli(
            *SALES,
            "customers",
            "add",
            "--name",
            "架空 七郎",
            "--email",
            "shichiro@example.jp",
            "-p",
            "contract",
            "-p",
            "marketing-email",
            "--json",
        )
    )["id"]


def test_withdrawal_is_as_easy_as_giving_and_effective_at_once_G_7(cli):
    cid = _customer(cli)
    how = ("-p", "marketing-email", "--method", "web_form", "--evidence", "form-12")
    given = j(cli(*SALES, "consent", "grant", cid, *how, "--json"))
    view = j(cli(*SALES, "customers", "show", cid, "-p", "marketing-email", "--json"))
    assert view["emails"] == ["shichiro@example.jp"]

    # the same person at the desk, the same command with the same arguments: no role, field or step more
    withdrawn = j(cli(*SALES, "consent", "withdraw", cid, *how, "--json"))
    assert withdrawn["action"] == "withdrawn" and withdrawn["seq"] > given["seq"]
    r = cli(*SALES, "customers", "show", cid, "-p", "marketing-email")
    assert r.exit_code == 3 and "consent_withdrawn" in one_line(r)  # the very next read

    # demonstrable: both lines stay in the ledger with who recorded them, when and how
    shown = j(cli(*SALES, "consent", "show", cid, "--json"))
    assert shown["purposes"] == {"marketing-email": "withdrawn"}
    lines = [(e["action"], e["method"], e["evidence"], e["recorded_by"]) for e in shown["events"]]
    assert [line[:3] for line in lines] == [
        ("granted", "web_form", "form-12"),
        ("withdrawn", "web_form", "form-12"),
    ]
    assert lines[0][3] and lines[0][3] == lines[1][3]  # recorded by the same staff member
    assert all(e["occurred_at"] for e in shown["events"])


def test_withdrawal_by_staff_who_may_not_record_consent_is_refused_G_7(cli):
    cid = _customer(cli)
    j(cli(*SALES, "consent", "grant", cid, "-p", "marketing-email", "--json"))
    r = cli(
        "--as", "suzuki", "consent", "withdraw", cid, "-p", "marketing-email"
    )  # not sato's team's customer
    assert r.exit_code == 3 and "R-23-2" in one_line(r)
    r = cli(*SALES, "consent", "withdraw", cid)  # neither purpose nor sensitive
    assert r.exit_code != 0
    assert j(cli(*SALES, "consent", "show", cid, "--json"))["purposes"] == {"marketing-email": "granted"}


def test_a_childs_consent_given_by_the_guardian_is_withdrawn_without_more_details_G_7(runtime, monkeypatch):
    """From R-R8-4 a child's consent needs the legal guardian; withdrawing it asks for nothing more (G-7(3))."""
    actors = seed_basics(runtime)
    child = make_customer(runtime, actors["sato"], birth_date="2015-04-01", email="kodomo@example.jp")
    point_env_at(monkeypatch, runtime.settings, MAMORI_RULE_DATES="R-R8-4=2026-12-01", MAMORI_LANG="en")
    try:
        runner = CliRunner()
        run = lambda *a: runner.invoke(app, ["--as", "sato", "consent", *a])  # noqa: E731
        given = run("grant", child, "-p", "marketing-email", "--guardian", "parent", "--json")
        assert given.exit_code == 0, given.output
        withdrawn = run("withdraw", child, "-p", "marketing-email", "--json")
        assert withdrawn.exit_code == 0, withdrawn.output
        shown = run("show", child, "--json")
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["purposes"] == {"marketing-email": "withdrawn"}
    finally:
        reset_settings_cache()
