"""Training and pledges over the REST API and the CLI (R-23-3, issue 21).

API: the happy path of every route, bad input (422 problem+json, no value echoed), roles that may not (403 with
the rule id), and the session gate — with the policy on, an untrained sales rep's read of a customer is a 403
problem+json naming R-23-3, and after the training and the pledge the same read works.
CLI: the same gate (a one-line error naming R-23-3), the commands with --json.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service
from tests.api.conftest import Api

API = "/api/v1"
NEW = {
    "customer": {"name": "山田 花子", "kana": "ヤマダ ハナコ", "emails": ["hanako@example.jp"]},
    "provenance": {"method": "direct", "channel": "web_form", "notice_version": "n-2026"},
    "purposes": ["contract"],
}


@pytest.fixture
def api(runtime):
    return Api(runtime)


def problem(r, status, code=None, rule=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    if code:
        assert body["code"] == code
    if rule:
        assert body["rule_id"] == rule
    return body


def h(csrf):
    return {"X-CSRF-Token": csrf}


def setup_training(api):
    po, csrf = api.client("po")
    r = po.post(
        f"{API}/staff/training/courses",
        json={"code": "basic", "title": "個人情報保護基礎研修", "validity_days": 365},
        headers=h(csrf),
    )
    assert r.status_code == 201, r.text
    r = po.post(f"{API}/staff/pledges", json={"title": "秘密保持誓約書", "body": "本文"}, headers=h(csrf))
    assert r.status_code == 201 and r.json()["version"] == 1
    return po, csrf


def test_officer_manages_courses_completions_pledges_and_policy(api):
    po, csrf = setup_training(api)
    r = po.get(f"{API}/staff/training/courses")
    assert [c["code"] for c in r.json()] == ["basic"]
    r = po.post(
        f"{API}/staff/training/completions",
        json={"username": "sato", "course": "basic", "completed_on": "2026-11-01", "reference": "C-1"},
        headers=h(csrf),
    )
    assert r.status_code == 201 and r.json()["expires_at"].startswith("2027-10-31T15:00")
    r = po.post(
        f"{API}/staff/pledges/sign", json={"username": "sato"}, headers=h(csrf)
    )  # recorded from paper
    assert r.status_code == 201 and r.json()["self_signed"] is False
    r = po.get(f"{API}/staff/training/status/sato")
    assert r.status_code == 200 and r.json()["current"] is True
    r = po.get(f"{API}/staff/training/overdue")
    assert "sato" not in [o["username"] for o in r.json()] and "suzuki" in [o["username"] for o in r.json()]
    r = po.put(f"{API}/staff/training/policy", json={"enforced": True, "roles": ["sales"]}, headers=h(csrf))
    assert r.status_code == 200 and r.json() == {**r.json(), "enforced": True, "roles": ["sales"]}
    assert po.get(f"{API}/staff/training/policy").json()["enforced"] is True
    r = po.post(f"{API}/staff/training/courses/basic/retire", headers=h(csrf))
    assert r.status_code == 200 and r.json()["retired_at"]
    assert po.get(f"{API}/staff/pledges").json()[0]["signed"] == 1


def test_bad_input_is_422_without_the_value(api):
    po, csrf = setup_training(api)
    for path, body in [
        ("/staff/training/courses", {"code": "BAD CODE", "title": "x", "validity_days": 10}),
        ("/staff/training/courses", {"code": "ok", "title": "x", "validity_days": 0}),
        ("/staff/training/completions", {"username": "sato", "course": "basic", "reference": "山田太郎"}),
        ("/staff/training/completions", {"username": "sato", "course": "basic", "completed_on": "yesterday"}),
        (
            "/staff/training/completions",
            {"username": "sato", "course": "basic", "completed_on": "0001-01-01"},
        ),
        ("/staff/pledges", {"title": "t", "body": "   "}),
    ]:
        body_ = problem(po.post(f"{API}{path}", json=body, headers=h(csrf)), 422)
        assert "山田太郎" not in json.dumps(body_, ensure_ascii=False) and "BAD CODE" not in json.dumps(body_)
    problem(
        po.put(f"{API}/staff/training/policy", json={"enforced": True, "roles": ["admin"]}, headers=h(csrf)),
        422,
    )
    problem(
        po.post(
            f"{API}/staff/training/completions", json={"username": "sato", "course": "nope"}, headers=h(csrf)
        ),
        404,
    )
    problem(po.post(f"{API}/staff/training/courses/nope/retire", headers=h(csrf)), 404)
    problem(
        po.post(f"{API}/staff/pledges/sign", json={"version": 7}, headers=h(csrf)), 409, "pledge_outdated"
    )


def test_roles_that_may_not_are_403_with_the_rule(api):
    setup_training(api)
    for who in ("sato", "support", "analyst"):
        c, csrf = api.client(who)
        problem(c.get(f"{API}/staff/training/courses"), 403, rule="R-23-2")
        problem(c.get(f"{API}/staff/training/overdue"), 403, rule="R-23-2")
        problem(c.get(f"{API}/staff/training/status/suzuki"), 403, rule="R-23-2")
        problem(
            c.post(
                f"{API}/staff/training/completions",
                json={"username": who, "course": "basic"},
                headers=h(csrf),
            ),
            403,
            rule="R-23-2",
        )
        problem(
            c.put(f"{API}/staff/training/policy", json={"enforced": False}, headers=h(csrf)),
            403,
            rule="R-23-2",
        )
        problem(
            c.post(f"{API}/staff/pledges", json={"title": "t", "body": "b"}, headers=h(csrf)),
            403,
            rule="R-23-2",
        )
        problem(
            c.post(f"{API}/staff/pledges/sign", json={"username": "suzuki"}, headers=h(csrf)),
            403,
            rule="R-23-2",
        )
        # their own status, the pledge text and their own signature
        assert c.get(f"{API}/staff/training/status").json()["username"] == who
        assert c.get(f"{API}/staff/pledges/latest").json()["version"] == 1
        assert c.post(f"{API}/staff/pledges/sign", json={"version": 1}, headers=h(csrf)).json()["self_signed"]
    anon, _ = api.client()
    problem(anon.get(f"{API}/staff/training/status"), 401)


def test_session_gate_refuses_an_untrained_rep_then_lets_them_read(api):
    po, po_csrf = setup_training(api)
    sato, csrf = api.client("sato")
    r = sato.post(f"{API}/customers", json=NEW, headers=h(csrf))
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = po.put(
        f"{API}/staff/training/policy",
        json={"enforced": True, "roles": ["sales", "support", "analyst", "privacy_officer"]},
        headers=h(po_csrf),
    )
    assert r.status_code == 200
    read = lambda: sato.get(f"{API}/customers/{cid}", headers={"Mamori-Purpose": "contract"})  # noqa: E731
    body = problem(read(), 403, "training_required", "R-23-3")
    assert "山田" not in json.dumps(body, ensure_ascii=False)
    # the gated rep still sees their own status and signs the pledge
    assert sato.get(f"{API}/staff/training/status").json()["current"] is False
    assert sato.post(f"{API}/staff/pledges/sign", json={}, headers=h(csrf)).status_code == 201
    problem(read(), 403, "training_required", "R-23-3")  # the training is still missing
    r = po.post(
        f"{API}/staff/training/completions", json={"username": "sato", "course": "basic"}, headers=h(po_csrf)
    )
    assert r.status_code == 201
    assert read().status_code == 200
    api.rt.clock.advance(
        timedelta(days=366)
    )  # expired: refused again (a new sign-in: the old session idled out)
    sato2, _ = api.client("sato")
    problem(sato2.get(f"{API}/customers/{cid}", headers={"Mamori-Purpose": "contract"}), 403, rule="R-23-3")


# -- the CLI ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(runtime, monkeypatch):
    from typer.testing import CliRunner

    from mamori.cli.main import app
    from tests.factories import point_env_at, seed_basics

    point_env_at(monkeypatch, runtime.settings)
    seed_basics(runtime)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def test_cli_commands_and_the_gate(runtime, cli, tmp_path):
    from tests.factories import make_customer

    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        sato = staff_service.actor_for(ctx, "sato")
    cid = make_customer(runtime, sato, purposes=("contract",))
    r = cli(
        "--as",
        "po",
        "staff",
        "training",
        "course-add",
        "basic",
        "--title",
        "個人情報保護基礎研修",
        "--validity-days",
        "365",
        "--json",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["code"] == "basic"
    assert "basic" in cli("--as", "po", "staff", "training", "course-list").stdout
    body = tmp_path / "pledge.txt"
    body.write_text("業務上知り得た個人情報を漏らしません。", encoding="utf-8")
    r = cli(
        "--as",
        "po",
        "staff",
        "pledge",
        "publish",
        "--title",
        "秘密保持誓約書",
        "--body-file",
        str(body),
        "--json",
    )
    assert r.exit_code == 0 and json.loads(r.stdout)["version"] == 1
    r = cli("--as", "admin", "staff", "training", "policy", "--enforce", "--roles", "sales,support", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["roles"] == ["sales", "support"]
    # bad input: one line, non-zero, no value echoed
    r = cli("--as", "admin", "staff", "training", "policy", "--roles", "admin")
    assert r.exit_code != 0
    r = cli("--as", "po", "staff", "training", "record", "sato", "basic", "--on", "not-a-date")
    assert r.exit_code != 0 and "not-a-date" not in r.output
    # an unauthorised role: refused with the rule id
    r = cli("--as", "sato", "staff", "training", "overdue")
    assert r.exit_code != 0 and "R-23-2" in r.output
    # the gate: the untrained rep's read of a customer is refused with R-23-3
    r = cli("--as", "sato", "customers", "show", cid, "-p", "contract")
    assert r.exit_code != 0 and "R-23-3" in r.output and "山田" not in r.output
    r = cli("--as", "sato", "staff", "training", "me", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["current"] is False
    r = cli("--as", "po", "staff", "training", "overdue", "--json")
    assert [o["username"] for o in json.loads(r.stdout)] == ["sato", "support", "suzuki"]
    assert (
        cli("--as", "po", "staff", "training", "record", "sato", "basic", "--reference", "C-9").exit_code == 0
    )
    r = cli("--as", "sato", "staff", "pledge", "sign", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["version"] == 1
    r = cli("--as", "po", "staff", "training", "status", "sato", "--json")
    assert json.loads(r.stdout)["current"] is True
    r = cli("--as", "sato", "customers", "show", cid, "-p", "contract")
    assert r.exit_code == 0, r.output
    r = cli("--as", "po", "staff", "pledge", "list", "--json")
    assert json.loads(r.stdout)[0]["signed"] == 1
    assert cli("--as", "po", "staff", "training", "course-retire", "basic").exit_code == 0
