"""Retention through the CLI (``mamori retention …``, ``mamori customers end-relationship``), the REST API
(/api/v1/retention/…) and the web page (/retention): the happy path through the same services, bad input in one
line / 422 without the value, other roles refused with the rule id."""

from __future__ import annotations

import json
import re
import time
from datetime import date

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.kernel import registry
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.rights.service.holds import RIGHTS_HOLD
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer, point_env_at, seed_basics
from tests.lifecycle.retention_support import end

API = "/api/v1/retention"


def _cli(runtime, monkeypatch):  # noqa: ANN202
    point_env_at(monkeypatch, runtime.settings)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def test_cli_rules_plan_run_holds_and_end_relationship(runtime, monkeypatch):
    registry.register_retention_hold(RIGHTS_HOLD)
    actors = seed_basics(runtime)
    po = actors["po"]
    gone = make_customer(runtime, po, name="廃棄 一郎", email="cli1@example.jp", phone="090-3333-0001")
    held = make_customer(runtime, po, name="保全 二郎", email="cli2@example.jp", phone="090-3333-0002")
    run = _cli(runtime, monkeypatch)
    r = run("--as", "po", "retention", "rule-add", "--purpose", "*", "--days", "30", "--from", "relationship_end",
            "--note", "社内規程 第5条", "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    rule_id = json.loads(r.stdout)["id"]
    listed = json.loads(run("--as", "po", "retention", "rule-list", "--json").stdout)
    assert [x["id"] for x in listed] == [rule_id]
    for cid in (gone, held):
        r = run(
            "--as",
            "po",
            "customers",
            "end-relationship",
            cid,
            "--on",
            "2026-01-05",
            "-p",
            "contract",
            "--json",
        )
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["relationship_ended_at"].startswith("2026-01-04T15:00:00")
    r = run("--as", "po", "retention", "hold", "set", held, "--reason", "litigation", "--json")
    assert r.exit_code == 0, r.output
    hold_id = json.loads(r.stdout)["id"]
    assert [h["id"] for h in json.loads(run("--as", "po", "retention", "hold", "list", "--json").stdout)] == [
        hold_id
    ]
    table = run("--as", "po", "retention", "plan")
    assert table.exit_code == 0 and "保全（訴訟・調査等）" in table.stdout and "廃棄 一郎" not in table.stdout
    plan = json.loads(run("--as", "po", "retention", "plan", "--json").stdout)
    assert plan["due"] == 1 and plan["detail"]["due"] == [{"customer_id": gone, "rule_id": rule_id}]
    future = json.loads(run("--as", "po", "retention", "plan", "--json", "--at", "2020-01-01").stdout)
    assert future["due"] == 0
    r = run("--as", "po", "retention", "run", "--json")
    assert r.exit_code == 2  # --json without --yes: nothing is disposed of without a confirmation
    r = CliRunner().invoke(app, ["--as", "po", "retention", "run"], input="n\n", catch_exceptions=False)
    assert r.exit_code == 1 and "sha256" in r.stdout  # the plan shown, the answer no: nothing disposed of
    assert json.loads(run("--as", "po", "retention", "disposals", "--json").stdout) == []
    r = run("--as", "po", "retention", "run", "--yes", "--json")
    assert r.exit_code == 0, r.output
    record = json.loads(r.stdout)
    assert record["persons"] == 1 and record["held"] == {"legal_hold": 1}
    assert "廃棄 一郎" not in r.stdout and "cli1@example.jp" not in r.stdout
    shown = run("--as", "po", "retention", "disposals")
    assert shown.exit_code == 0 and record["id"] in shown.stdout
    assert run("--as", "po", "retention", "hold", "release", hold_id).exit_code == 0
    assert run("--as", "po", "retention", "rule-retire", rule_id).exit_code == 0


def test_cli_bad_input_and_roles(runtime, monkeypatch):
    actors = seed_basics(runtime)
    cid = make_customer(runtime, actors["po"])
    run = _cli(runtime, monkeypatch)
    base = ("retention", "rule-add", "--purpose", "*", "--from", "relationship_end")
    r = run("--as", "po", *base, "--days", "0")
    assert r.exit_code == 1 and "invalid_input" in r.stderr and r.stderr.strip().count("\n") == 0
    r = run("--as", "po", "retention", "rule-add", "--purpose", "*", "--days", "5", "--from", "someday")
    assert r.exit_code == 1 and "invalid_input" in r.stderr
    r = run(
        "--as",
        "po",
        "retention",
        "rule-add",
        "--purpose",
        "no-such",
        "--days",
        "5",
        "--from",
        "last_activity",
    )
    assert r.exit_code == 1 and "purpose_unknown" in r.stderr
    r = run("--as", "po", "retention", "plan", "--at", "2026-13-01")
    assert r.exit_code == 2
    r = run("--as", "po", "retention", "hold", "set", cid, "--reason", "because")
    assert r.exit_code == 1 and "invalid_input" in r.stderr
    r = run("--as", "po", "retention", "hold", "release", "0" * 32)
    assert r.exit_code == 1 and "hold_not_found" in r.stderr
    r = run("--as", "po", "customers", "end-relationship", cid, "--on", "2099-01-01", "-p", "contract")
    assert r.exit_code == 1 and "relationship_end_in_future" in r.stderr
    r = run("--as", "po", "customers", "end-relationship", cid, "--on", "01/02/2026", "-p", "contract")
    assert r.exit_code == 2
    r = run("--as", "po", "customers", "end-relationship", cid, "--clear", "-p", "contract", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["relationship_ended_at"] is None
    r = run("--as", "analyst", "customers", "end-relationship", cid, "-p", "contract")
    assert r.exit_code == 3 and "R-23-2" in r.stderr
    for user in ("admin", "sato", "support", "analyst"):
        for args in (
            ("retention", "plan"),
            ("retention", "run", "--yes"),
            ("retention", "rule-list"),
            ("retention", "hold", "set", cid, "--reason", "other"),
        ):
            r = run("--as", user, *args)
            assert r.exit_code == 3 and "R-23-2" in r.stderr, (user, args, r.stderr)


# -- the REST API -------------------------------------------------------------------------------------------------


@pytest.fixture
def api(runtime) -> Api:
    registry.register_retention_hold(RIGHTS_HOLD)
    return Api(runtime)


def _customers(api: Api) -> tuple[str, str]:
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        po = staff_service.actor_for(ctx, "po")
    a = make_customer(api.rt, po, name="廃棄 三郎", email="api1@example.jp", phone="090-4444-0001")
    b = make_customer(api.rt, po, name="残存 四郎", email="api2@example.jp", phone="090-4444-0002")
    end(api.rt, po, a, date(2026, 1, 1))
    end(api.rt, po, b, date(2026, 1, 1))
    return a, b


def test_api_rules_plan_run_holds(api: Api):
    a, b = _customers(api)
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    r = c.post(f"{API}/rules", json={"purpose": "*", "days": 30, "basis": "relationship_end"}, headers=h)
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    assert [x["id"] for x in c.get(f"{API}/rules").json()] == [rule_id]
    dup = c.post(f"{API}/rules", json={"purpose": "*", "days": 60, "basis": "relationship_end"}, headers=h)
    assert dup.status_code == 409 and dup.headers["content-type"].startswith("application/problem+json")
    hold = c.post(f"{API}/holds", json={"customer_id": b, "reason": "regulator"}, headers=h)
    assert hold.status_code == 201, hold.text
    plan = c.get(f"{API}/plan").json()
    assert plan["due"] == 1 and plan["detail"] is None
    assert plan["held"] == [{"code": "legal_hold", "rule_id": "R-22-1", "persons": 1}]
    assert c.get(f"{API}/plan", params={"at": "2026-01-15"}).json()["due"] == 0  # before the 30 days ran out
    detail = c.get(f"{API}/plan", params={"detail": "true"}).json()
    assert detail["detail"]["due"] == [{"customer_id": a, "rule_id": rule_id}]
    stale = c.post(f"{API}/run", params={"plan": "0" * 64}, headers=h)
    assert stale.status_code == 409 and stale.json()["code"] == "plan_changed"
    r = c.post(f"{API}/run", params={"plan": plan["sha256"]}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["persons"] == 1 and "廃棄 三郎" not in r.text
    assert [d["id"] for d in c.get(f"{API}/disposals").json()] == [r.json()["id"]]
    released = c.post(f"{API}/holds/{hold.json()['id']}/release", headers=h)
    assert released.status_code == 200 and released.json()["released_at"]
    assert c.post(f"{API}/rules/{rule_id}/retire", headers=h).status_code == 200


def test_api_bad_input_and_roles(api: Api):
    a, _ = _customers(api)
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    bad = c.post(f"{API}/rules", json={"purpose": "*", "days": -1, "basis": "relationship_end"}, headers=h)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    secret = "山田花子の訴訟"
    bad = c.post(
        f"{API}/holds", json={"customer_id": "x" * 5, "reason": "litigation", "note": secret}, headers=h
    )
    assert bad.status_code == 422 and secret not in bad.text
    assert c.get(f"{API}/plan", params={"at": "not-a-date"}).status_code == 422
    assert c.post(f"{API}/holds/{'0' * 32}/release", headers=h).status_code == 404
    assert (
        c.post(f"{API}/rules", json={"purpose": "*", "days": 5, "basis": "x"}).status_code == 403
    )  # no CSRF
    for user in ("admin", "sato", "support", "analyst"):
        cu, token = api.client(user)
        hu = {"X-CSRF-Token": token}
        for method, path, body in (
            ("get", f"{API}/plan", None),
            ("post", f"{API}/run", None),
            ("get", f"{API}/rules", None),
            ("post", f"{API}/holds", {"customer_id": a, "reason": "other"}),
        ):
            r = cu.request(method.upper(), path, json=body, headers=hu)
            assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2", (user, path, r.text)
    # nothing was disposed of by the refused runs
    assert c.get(f"{API}/disposals").json() == []
    # a hold on a customer the actor cannot be refused differently: an unknown customer is 404
    unknown = c.post(f"{API}/holds", json={"customer_id": "0" * 32, "reason": "other"}, headers=h)
    assert unknown.status_code == 404


# -- the web page ----------------------------------------------------------------------------------------------


def test_web_page_rules_holds_and_run_with_progress(api: Api):
    a, b = _customers(api)
    c, csrf = api.client("po")
    page = c.get("/retention")
    assert page.status_code == 200 and "保存期間と廃棄" in page.text
    made = c.post(
        "/retention/rules",
        data={"csrf": csrf, "purpose": "*", "category": "*", "days": "30", "basis": "relationship_end"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    bad = c.post(
        "/retention/rules",
        data={"csrf": csrf, "purpose": "*", "category": "*", "days": "abc", "basis": "relationship_end"},
    )
    assert bad.status_code == 422 and 'id="retention-errors"' in bad.text
    no_csrf = c.post(
        "/retention/rules", data={"csrf": "", "purpose": "*", "days": "5", "basis": "last_activity"}
    )
    assert no_csrf.status_code == 403
    held = c.post(
        "/retention/holds",
        data={"csrf": csrf, "customer_id": b, "reason": "investigation"},
        follow_redirects=False,
    )
    assert held.status_code == 303
    page = c.get("/retention")
    assert 'id="plan-due">1' in page.text and "保全（訴訟・調査等）" in page.text
    assert "廃棄 三郎" not in page.text and "api1@example.jp" not in page.text
    unconfirmed = c.post("/retention/run", data={"csrf": csrf})
    assert unconfirmed.status_code == 422
    stale = c.post(
        "/retention/run", data={"csrf": csrf, "confirm": "1", "plan": "0" * 64}, follow_redirects=False
    )
    assert stale.status_code == 303
    for _ in range(150):  # the run refuses a plan that changed since it was shown: nothing disposed of
        frag = c.get(stale.headers["location"] + "/progress", headers={"HX-Request": "true"})
        if 'role="alert"' in frag.text:
            break
        time.sleep(0.2)
    assert "計画を確認し直してください" in frag.text and "R-22-1" in frag.text
    sha = re.search(r'name="plan" value="([0-9a-f]{64})"', page.text)
    assert sha is not None
    started = c.post(
        "/retention/run", data={"csrf": csrf, "confirm": "1", "plan": sha.group(1)}, follow_redirects=False
    )
    assert started.status_code == 303
    url = started.headers["location"]
    assert re.fullmatch(r"/retention/runs/[A-Za-z0-9_-]{20,64}", url)
    deadline = time.monotonic() + 30
    while True:
        frag = c.get(url + "/progress", headers={"HX-Request": "true"})
        assert frag.status_code == 200
        if 'id="disposal-record"' in frag.text or time.monotonic() > deadline:
            break
        assert 'hx-trigger="every 1s"' in frag.text
        time.sleep(0.2)
    assert 'id="disposal-persons">1<' in frag.text and "<html" not in frag.text
    assert c.get(url).status_code == 200
    page = c.get("/retention")
    assert 'id="records"' in page.text and "crypto_shred" in page.text
    hold_id = re.search(r'action="/retention/holds/([0-9a-f]{32})/release"', page.text)
    rule_id = re.search(r'action="/retention/rules/([0-9a-f]{32})/retire"', page.text)
    assert hold_id is not None and rule_id is not None
    assert (
        c.post(hold_id.group(0).split('"')[1], data={"csrf": csrf}, follow_redirects=False).status_code == 303
    )
    assert (
        c.post(rule_id.group(0).split('"')[1], data={"csrf": csrf}, follow_redirects=False).status_code == 303
    )
    page = c.get("/retention")
    assert "/release" not in page.text and "/retire" not in page.text
    again = c.post(f"/retention/holds/{hold_id.group(1)}/release", data={"csrf": csrf})
    assert again.status_code == 409  # released already: the page again, with the message
    other, _ = api.client("admin")
    assert other.get(url).status_code == 404  # a run's page is its starter's only


def test_web_roles_refused(api: Api):
    for user in ("admin", "sato", "support", "analyst"):
        c, csrf = api.client(user)
        page = c.get("/retention")
        assert page.status_code == 403 and "R-23-2" in page.text
        r = c.post("/retention/run", data={"csrf": csrf, "confirm": "1"}, follow_redirects=False)
        assert r.status_code == 403
