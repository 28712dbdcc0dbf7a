"""Issue 25: the signals on entries the real interfaces write — a sales rep's probe of another rep's customers
through search, a leaver's API token presented after the account was disabled, a read from a new network through the
API (whose address is never stored) — and the CLI / API of the evaluation, with bad input and refused roles."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from mamori.customers.service import core as customers_service
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.http.deps import network_tag
from mamori.monitoring import simulate
from mamori.monitoring.models import MonitoringAlert
from mamori.monitoring.service import evaluate as evaluate_service
from mamori.staff import service as staff_service
from mamori.staff.schemas import ApiTokenCreate
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.staff.helpers import own_token


def _alerts(rt) -> dict[str, MonitoringAlert]:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return {a.signal: a for a in ctx.session.execute(select(MonitoringAlert)).scalars()}


def _actor(rt, username):
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


def test_a_probe_through_search_raises_denials_and_out_of_book(runtime) -> None:
    api = Api(runtime)
    suzuki, sato, po = (_actor(runtime, u) for u in ("suzuki", "sato", "po"))
    phones = [f"090-5555-{1000 + i}" for i in range(12)]
    for i, phone in enumerate(phones):  # suzuki's book
        make_customer(runtime, suzuki, name=f"架空 次郎{i}", kana=None, email=None, phone=phone)
    for phone in phones:  # sato looks each of them up: every hit is outside sato's book
        with runtime.transaction(sato, "contract") as ctx:
            assert customers_service.find(ctx, phone=phone) == []
    refused = runtime.audit.search(actors=[sato.label], action="customer.read", decision="deny")
    assert len(refused) == 12 and {e.reason for e in refused} == {"out_of_scope"}
    with runtime.transaction(po) as ctx:
        result = evaluate_service.evaluate(ctx)
    alerts = _alerts(runtime)
    assert set(alerts) == {"denials", "out_of_book"} and result.raised == 2
    for signal in ("denials", "out_of_book"):
        a = alerts[signal]
        assert a.actor == sato.label and a.observed == 12 and a.entries_total == 12
        assert sorted(json.loads(a.entry_seqs)) == sorted(e.seq for e in refused)
    # an attacker holding the data store finds in the monitoring tables neither a customer's value nor their id:
    # alerts name audit entries by sequence number only
    url = runtime.settings.resolved_database_url()
    tables = ("monitoring_alerts", "monitoring_alert_events", "monitoring_daily")
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            dump = [row for t in tables for row in conn.execute(f"select * from {t}")]
    else:
        with runtime.data_engine.connect() as conn:
            dump = [row for t in tables for row in conn.exec_driver_sql(f"select * from {t}")]
    text = "\n".join(str(row) for row in dump)
    assert len(dump) >= 3
    ids = {cid for e in refused for cid in e.subject_ids}
    assert not any(cid in text for cid in ids)
    assert "架空" not in text and "090-5555" not in text and "9055551" not in text
    del api


def test_a_leavers_token_raises_disabled_account(runtime) -> None:
    api = Api(runtime)
    issued = own_token(
        runtime, "suzuki", api.secrets["suzuki"], ApiTokenCreate(name="sync", purposes=["contract"])
    )
    client = TestClient(api.app, base_url="https://testserver", raise_server_exceptions=False)
    ok = client.get(
        "/api/v1/customers", headers={"Authorization": f"Bearer {issued.token}", "Mamori-Purpose": "contract"}
    )
    assert ok.status_code == 200, ok.text
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.disable(ctx, "suzuki")  # the rep leaves
    for _ in range(2):
        gone = client.get(
            "/api/v1/customers",
            headers={"Authorization": f"Bearer {issued.token}", "Mamori-Purpose": "contract"},
        )
        assert gone.status_code == 401
    dead = runtime.audit.search(action="staff.credential_refused")
    assert len(dead) == 2 and {e.reason for e in dead} == {"account_disabled"}
    assert {e.details["via"] for e in dead} == {f"token:{issued.id}"} and issued.token not in json.dumps(
        [dict(e.details) for e in dead]
    )
    with runtime.transaction(_actor(runtime, "po")) as ctx:
        evaluate_service.evaluate(ctx)
    alerts = _alerts(runtime)
    assert set(alerts) == {"disabled_account"}
    assert alerts["disabled_account"].observed == 2 and alerts["disabled_account"].severity == "high"
    assert alerts["disabled_account"].actor == f"staff:{api.ids['suzuki']}"


def test_a_read_from_a_new_network_is_noticed_and_the_address_is_never_stored(
    runtime,
) -> None:
    api = Api(runtime)
    sato = _actor(runtime, "sato")
    make_customer(runtime, sato, name="架空 花子", kana=None, email=None, phone="090-7777-0001")
    office = network_tag(runtime, "198.51.100.23")
    assert office is not None and office == network_tag(runtime, "198.51.100.200")  # the same /24
    # a month of sato's ordinary reads from the office network (the audit log's own shape)
    rng = random.Random(7)
    person = simulate.Person(sato.label, "sales", (office,), 30)
    today = runtime.clock.now().date()
    runtime.audit.append(list(simulate.month(rng, [person], today - timedelta(days=30), days=29)))
    # then sato signs in from home: 203.0.113.0/24, a network not seen in the 30 days
    home = TestClient(
        api.app, base_url="https://testserver", raise_server_exceptions=False, client=("203.0.113.7", 50123)
    )
    runtime.clock.advance(timedelta(seconds=30))
    from tests.staff.helpers import PASSWORD, code_now

    r = home.post(
        "/api/v1/auth/sign-in",
        json={"username": "sato", "password": PASSWORD, "totp": code_now(runtime, api.secrets["sato"])},
    )
    assert r.status_code == 200, r.text
    listed = home.get("/api/v1/customers", headers={"Mamori-Purpose": "contract"})
    assert listed.status_code == 200 and listed.json()["items"]
    reads = runtime.audit.search(actors=[sato.label], action="customer.read", since=runtime.clock.now())
    assert reads and reads[0].details["net"] == network_tag(runtime, "203.0.113.7") != office
    with runtime.transaction(_actor(runtime, "po")) as ctx:
        evaluate_service.evaluate(ctx)
    alerts = _alerts(runtime)
    assert set(alerts) == {"new_network"} and alerts["new_network"].actor == sato.label
    assert alerts["new_network"].day == date(2026, 11, 23)
    # an attacker holding the audit database finds no address in it (on PostgreSQL: the rows as the server has them)
    url = runtime.settings.resolved_audit_url()
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            rows = list(conn.execute("select * from audit_entries"))
    else:
        with runtime.audit.engine.connect() as conn:
            rows = list(conn.exec_driver_sql("select * from audit_entries"))
    text = "\n".join(str(row) for row in rows)
    assert len(rows) > 300 and office in text
    assert "203.0.113" not in text and "198.51.100" not in text


def test_the_evaluate_command_and_endpoint(runtime, monkeypatch, tmp_path) -> None:
    api = Api(runtime)
    po_client, po_csrf = api.client("po")
    r = po_client.post("/api/v1/monitoring/evaluate", headers={"X-CSRF-Token": po_csrf}, json={})
    assert r.status_code == 200 and r.json()["mode"] == "incremental", r.text
    bad = po_client.post(
        "/api/v1/monitoring/evaluate", headers={"X-CSRF-Token": po_csrf}, json={"rebuild_since": "yesterday"}
    )
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    rep, rep_csrf = api.client("sato")
    refused = rep.post("/api/v1/monitoring/evaluate", headers={"X-CSRF-Token": rep_csrf}, json={})
    assert refused.status_code == 403 and refused.json()["rule_id"] == "R-23-2"


def test_cli_evaluate_and_settings(tmp_path, monkeypatch) -> None:
    from tests.factories import demo_cli

    for run in demo_cli(tmp_path, monkeypatch):
        po = ("--as", "hoshino")
        done = run(*po, "monitoring", "evaluate", "--json")
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["mode"] == "incremental"
        bad = run(*po, "monitoring", "evaluate", "--rebuild-since", "2026/11/01")
        assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
        changed = run(*po, "monitoring", "settings", "signal", "bulk_export", "--threshold", "250", "--json")
        assert changed.exit_code == 0, changed.output
        bulk = next(s for s in json.loads(changed.stdout)["signals"] if s["code"] == "bulk_export")
        assert bulk["threshold"] == 250 and bulk["default_threshold"] == 100
        shown = run(*po, "monitoring", "settings", "--json")
        assert (
            next(s for s in json.loads(shown.stdout)["signals"] if s["code"] == "bulk_export")["threshold"]
            == 250
        )
        unknown = run(*po, "monitoring", "settings", "signal", "nosuch", "--threshold", "2")
        assert unknown.exit_code != 0 and "シグナル" in unknown.output
        hours = run(*po, "monitoring", "settings", "set", "--hours", "20-8")
        assert hours.exit_code != 0 and "業務時間" in hours.output
        rep = run("--as", "sato", "monitoring", "evaluate")
        assert rep.exit_code != 0 and "R-23-2" in rep.output
        analyst = run("--as", "ito", "monitoring", "settings", "signal", "denials", "--threshold", "1")
        assert analyst.exit_code != 0 and "R-23-2" in analyst.output
