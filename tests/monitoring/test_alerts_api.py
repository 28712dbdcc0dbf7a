"""/api/v1/monitoring/alerts and /api/v1/monitoring/settings (issue 25 "Deliver" 1 and 2): the queue, an alert and
its entries, look / dismiss / incident, the thresholds — bad input 422 problem+json without the value, a closed
alert 409, one's own alert and other roles 403 with R-23-2 (audited). No customer's value in any body."""

from __future__ import annotations

from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.runtime import Runtime
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.monitoring.alert_support import entries_of, insert_alert, read_customer

API = "/api/v1/monitoring"
NAME, PHONE = "監視 試験三郎", "070-2468-1357"


def actor(rt: Runtime, username: str) -> Actor:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


def problem(r) -> dict:  # type: ignore[no-untyped-def]
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return r.json()


def test_queue_alert_entries_look_dismiss_and_incident(api: Api):
    rt = api.rt
    sato = actor(rt, "sato")
    cid = make_customer(rt, sato, name=NAME, phone=PHONE, email="api@example.jp")
    read_customer(rt, sato, cid)
    seqs = [e.seq for e in entries_of(rt, sato, "customer.read")]
    first = insert_alert(rt, sato.label, seqs=seqs)
    insert_alert(rt, sato.label, signal="bulk_export", observed=300, threshold=100)
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    listed = c.get(f"{API}/alerts")
    assert listed.status_code == 200
    assert [a["ref"] for a in listed.json()["alerts"]] == ["ALT-0002", "ALT-0001"]
    assert listed.json()["counts"]["open"] == 2
    assert [a["ref"] for a in c.get(f"{API}/alerts", params={"signal": "bulk_export"}).json()["alerts"]] == [
        "ALT-0002"
    ]
    shown = c.get(f"{API}/alerts/ALT-0001")
    assert shown.status_code == 200 and shown.json()["alert"]["id"] == first
    assert shown.json()["alert"]["actor_username"] == "sato"
    entries = c.get(f"{API}/alerts/{first}/entries")
    assert entries.status_code == 200 and [e["seq"] for e in entries.json()["entries"]] == seqs
    assert entries.json()["entries"][0]["subjects"] == 1
    for body in (listed.text, shown.text, entries.text):
        assert NAME not in body and PHONE not in body and cid not in body
    r = c.post(f"{API}/alerts/1/look", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "looking"
    r = c.post(f"{API}/alerts/1/dismiss", json={"reason": "confirmed_with_person"}, headers=h)
    assert r.status_code == 200 and r.json()["dismiss_reason"] == "confirmed_with_person"
    again = c.post(f"{API}/alerts/1/dismiss", json={"reason": "false_positive"}, headers=h)
    assert again.status_code == 409 and problem(again)["code"] == "alert_closed"
    made = c.post(f"{API}/alerts/ALT-0002/incident", json={"title": "大量出力の疑い"}, headers=h)
    assert made.status_code == 200, made.text
    assert made.json()["incident_ref"] == "INC-0001" and made.json()["alert"]["status"] == "incident"
    incident = c.get(f"/api/v1/incidents/{made.json()['incident_id']}")
    assert incident.json()["incident"]["title"] == "大量出力の疑い"
    assert incident.json()["incident"]["cause"] == "insider"
    no_title = c.post(f"{API}/alerts/2/incident", headers=h)
    assert no_title.status_code == 409


def test_bad_input_is_422_problem_json_without_the_value(api: Api):
    insert_alert(api.rt, actor(api.rt, "sato").label)
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    r = c.get(f"{API}/alerts", params={"status": "sleeping"})
    assert r.status_code == 422 and "sleeping" not in r.text
    assert c.get(f"{API}/alerts/not-a-key").status_code in (404, 422)
    assert problem(c.get(f"{API}/alerts/ALT-0404"))["code"] == "alert_not_found"
    r = c.post(f"{API}/alerts/1/dismiss", json={"reason": "boredom"}, headers=h)
    assert r.status_code == 422 and "boredom" not in r.text
    r = c.post(f"{API}/alerts/1/dismiss", json={"reason": "other"}, headers=h)
    assert r.status_code == 422 and problem(r)["code"] == "note_required"
    r = c.post(f"{API}/alerts/1/dismiss", json={"reason": "other", "note": f"{PHONE} に電話"}, headers=h)
    assert r.status_code == 422 and problem(r)["code"] == "personal_data_in_text" and PHONE not in r.text
    r = c.post(f"{API}/alerts/1/dismiss", json={"reason": "other", "note": "x" * 1001}, headers=h)
    assert r.status_code == 422
    assert c.get(f"{API}/alerts/1").json()["alert"]["status"] == "new"
    assert c.post(f"{API}/alerts/1/look").status_code == 403  # no CSRF token


def test_own_alert_and_other_roles_are_403_with_the_rule_and_audited(api: Api):
    rt = api.rt
    mine = insert_alert(rt, f"staff:{api.ids['po']}", role="privacy_officer")
    c, csrf = api.client("po")
    r = c.post(f"{API}/alerts/{mine}/look", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403 and problem(r)["rule_id"] == "R-23-2" and problem(r)["code"] == "own_alert"
    for who in ("sato", "analyst", "admin"):
        other, other_csrf = api.client(who)
        for method, path in (
            ("get", f"{API}/alerts"),
            ("get", f"{API}/alerts/1/entries"),
            ("post", f"{API}/alerts/1/look"),
            ("get", f"{API}/settings"),
            ("put", f"{API}/settings/signals/denials"),
        ):
            kw = {"json": {"threshold": 1}} if method == "put" else {}
            r = getattr(other, method)(path, headers={"X-CSRF-Token": other_csrf}, **kw)
            assert r.status_code == 403 and problem(r)["rule_id"] == "R-23-2", (who, path, r.text)
    denied = [e for e in rt.audit.tail(200) if e.decision == "deny" and e.action.startswith("monitoring.")]
    assert {e.actor for e in denied} >= {f"staff:{api.ids[w]}" for w in ("po", "sato", "analyst", "admin")}
    assert c.get(f"{API}/alerts/{mine}").json()["alert"]["status"] == "new"


def test_thresholds_are_read_and_changed(api: Api):
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    got = c.get(f"{API}/settings")
    assert got.status_code == 200
    denials = next(s for s in got.json()["signals"] if s["code"] == "denials")
    assert denials["threshold"] == 10 and denials["severity"] == "high"
    r = c.put(f"{API}/settings/signals/denials", json={"threshold": 5, "severity": "medium"}, headers=h)
    assert r.status_code == 200
    denials = next(s for s in r.json()["signals"] if s["code"] == "denials")
    assert (denials["threshold"], denials["severity"], denials["enabled"]) == (5, "medium", True)
    r = c.put(f"{API}/settings", json={"hours_start": 9, "hours_end": 18, "unused_days": 60}, headers=h)
    assert r.status_code == 200 and r.json()["hours"] == {"start": 9, "end": 18}
    assert r.json()["review"]["unused_days"] == 60
    assert c.put(f"{API}/settings/signals/gossip", json={"threshold": 5}, headers=h).status_code == 404
    assert c.put(f"{API}/settings/signals/denials", json={"threshold": -1}, headers=h).status_code == 422
    bad = c.put(f"{API}/settings", json={"hours_start": 20, "hours_end": 8}, headers=h)
    assert bad.status_code == 422 and problem(bad)["code"] == "bad_hours"
    assert c.get(f"{API}/settings").json()["hours"] == {"start": 9, "end": 18}
