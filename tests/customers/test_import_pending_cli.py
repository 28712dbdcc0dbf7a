"""`mamori customers pending list | show | approve | reject` (issue 19): the privacy officer's queue of rows an import
held; a sales rep lists their own rows and decides nothing; bad input and unknown ids are one line, non-zero."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.customers.models import ImportPending
from tests.customers.test_import_pending import hold_one, make_job, pending_row, person
from tests.factories import point_env_at, seed_basics


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


@pytest.fixture
def cli(runtime, monkeypatch):
    point_env_at(monkeypatch, runtime.settings)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def ok_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line_error(result, *needles: str) -> str:
    assert result.exit_code != 0, result.output
    assert result.stdout == "" or "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output
    assert "Traceback" not in result.output
    return str(result.output)


def test_list_shows_no_value_and_sales_sees_only_their_own(runtime, actors, cli):
    p = person()
    pid = hold_one(runtime, actors["po"], make_job(runtime, actors["po"]), p, line=5)
    own = hold_one(
        runtime, actors["sato"], make_job(runtime, actors["sato"]), person(), owner_id=actors["sato"].id
    )
    listed = ok_json(cli("--as", "po", "customers", "pending", "list", "--json"))
    assert {i["id"] for i in listed} == {pid, own}
    text = cli("--as", "po", "customers", "pending", "list")
    assert text.exit_code == 0 and "承認待ち" in text.output and "R-21-1" in text.output
    for value in p.values():
        assert value not in text.output and value not in json.dumps(listed, ensure_ascii=False)
    mine = ok_json(cli("--as", "sato", "customers", "pending", "list", "--json"))
    assert [i["id"] for i in mine] == [own]
    en = cli("--lang", "en", "--as", "po", "customers", "pending", "list", "--status", "all")
    assert en.exit_code == 0 and "Pending" in en.output and "import job" in en.output


def test_list_refuses_bad_input_and_roles_without_import(actors, cli):
    one_line_error(cli("--as", "po", "customers", "pending", "list", "--status", "done"), "bad_status")
    one_line_error(cli("--as", "po", "customers", "pending", "list", "--job", "x"), "bad_job_id")
    r = cli("--as", "support", "customers", "pending", "list")
    one_line_error(r, "R-23-2")


def test_show_opens_a_row_for_a_purpose_and_only_for_the_officer(runtime, actors, cli):
    p = person()
    pid = hold_one(runtime, actors["po"], make_job(runtime, actors["po"]), p, notified=("partner-sharing",))
    row = ok_json(cli("--as", "po", "customers", "pending", "show", pid, "-p", "contract", "--json"))
    assert row["name"] == p["name"] and row["masked"] == []
    r = cli("--as", "po", "customers", "pending", "show", pid, "-p", "partner-sharing")
    assert r.exit_code == 0 and p["name"] in r.output and "●●●" in r.output and p["employer"] not in r.output
    one_line_error(cli("--as", "po", "customers", "pending", "show", pid, "-p", "health-service"), "R-18-1")
    own = hold_one(runtime, actors["sato"], make_job(runtime, actors["sato"]), p, owner_id=actors["sato"].id)
    r = cli("--as", "sato", "customers", "pending", "show", own, "-p", "contract")
    assert p["name"] not in one_line_error(r, "R-23-2")
    assert cli("--as", "po", "customers", "pending", "show", pid).exit_code == 2  # -p is required


def test_approve_needs_the_confirmation_and_writes_the_customer(runtime, actors, cli):
    pid = hold_one(runtime, actors["po"], make_job(runtime, actors["po"]), person())
    one_line_error(
        cli("--as", "po", "customers", "pending", "approve", pid), "R-21-1", "notice_not_confirmed"
    )
    one_line_error(
        cli("--as", "sato", "customers", "pending", "approve", pid, "--notified-confirmed"), "R-23-2"
    )
    one_line_error(
        cli("--as", "po", "customers", "pending", "approve", pid, "--notified-confirmed", "--method", "told"),
        "bad_method",
    )
    assert pending_row(runtime, pid).status == "pending"
    out = ok_json(cli("--as", "po", "customers", "pending", "approve", pid, "--notified-confirmed", "--json"))
    assert out["status"] == "approved" and len(out["customer_id"]) == 32
    row = pending_row(runtime, pid)
    assert row.customer_id == out["customer_id"] and row.row_enc is None
    assert runtime.keystore.is_destroyed(pid)
    again = cli("--as", "po", "customers", "pending", "approve", pid, "--notified-confirmed")
    one_line_error(again, "pending_decided")


def test_reject_takes_a_reason_code(runtime, actors, cli):
    pid = hold_one(runtime, actors["po"], make_job(runtime, actors["po"]), person())
    assert cli("--as", "po", "customers", "pending", "reject", pid).exit_code == 2  # --reason is required
    one_line_error(
        cli("--as", "po", "customers", "pending", "reject", pid, "--reason", "気分"), "bad_reject_reason"
    )
    one_line_error(cli("--as", "sato", "customers", "pending", "reject", pid, "--reason", "other"), "R-23-2")
    r = cli("--as", "po", "customers", "pending", "reject", pid, "--reason", "not_notified")
    assert r.exit_code == 0 and "却下しました" in r.output, r.output
    assert pending_row(runtime, pid).status == "rejected" and runtime.keystore.is_destroyed(pid)


@pytest.mark.parametrize("command", ["show", "approve", "reject"])
def test_unknown_ids_are_not_found(actors, cli, command):
    extra = {"show": ["-p", "contract"], "approve": ["--notified-confirmed"], "reject": ["--reason", "other"]}
    for bad in ("0" * 32, "not-an-id"):
        r = cli("--as", "po", "customers", "pending", command, bad, *extra[command])
        one_line_error(r, "pending_not_found")


def test_no_held_value_reaches_the_table_in_clear(runtime, actors):
    # the CLI reads through the service: the held row stays a sealed blob in the store
    p = person()
    pid = hold_one(runtime, actors["po"], make_job(runtime, actors["po"]), p)
    with runtime.sessions() as s:
        blob = bytes(s.get(ImportPending, pid).row_enc)
    assert p["name"].encode() not in blob and p["email"].encode() not in blob
