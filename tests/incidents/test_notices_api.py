"""/api/v1/incidents/{key}/notice-plan, /notices, /substitute-measures (R-26-6, G-34): the happy path, bad input
as 422 problem+json without the value, other roles refused (403 with the rule id) and nothing sent."""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.incidents.notice_support import A_EMAIL, outbox, people, put_in_scope, to
from tests.incidents.support import new_incident

API = "/api/v1/incidents"


@pytest.fixture
def api(runtime):
    return Api(runtime)


def _case(api: Api):  # noqa: ANN202
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        po = staff_service.actor_for(ctx, "po")
        sato = staff_service.actor_for(ctx, "sato")
    who = people(api.rt, po)
    inc = new_incident(api.rt, sato)
    put_in_scope(api.rt, inc.id, {cid: {"origin": "DE" if k == "eu" else "JP"} for k, cid in who.items()})
    return inc, who


def test_api_plan_send_log_and_substitute(api: Api):
    inc, who = _case(api)
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    plan = c.get(f"{API}/{inc.ref}/notice-plan")
    assert plan.status_code == 200, plan.text
    assert (plan.json()["email"], plan.json()["letter"], plan.json()["no_contact"]) == (3, 1, 1)
    r = c.post(f"{API}/{inc.ref}/notices", json={}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["email"] == 3 and r.json()["rule_ids"] == ["R-26-6", "G-34"]
    assert A_EMAIL not in r.text
    assert len(to(api.rt, A_EMAIL)) == 1
    again = c.post(f"{API}/{inc.id}/notices", headers=h)  # by id, no body: the defaults
    assert again.status_code == 200 and again.json()["skipped"] == 4
    log = c.get(f"{API}/{inc.ref}/notices")
    assert log.status_code == 200 and len(log.json()) == 5
    assert A_EMAIL not in log.text and "通知 一郎" not in log.text
    sub = c.post(
        f"{API}/{inc.ref}/substitute-measures",
        json={"kind": "publication", "note": "https://example.co.jp/news/1"},
        headers=h,
    )
    assert sub.status_code == 201, sub.text
    assert sub.json()["persons"] == 1
    statuses = {x["customer_id"]: x["status"] for x in c.get(f"{API}/{inc.ref}/notices").json()}
    assert statuses[who["none"]] == "substitute"


def test_api_bad_input_and_roles(api: Api):
    inc, _ = _case(api)
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    secret = "山田花子様の電話"
    bad = c.post(
        f"{API}/{inc.ref}/substitute-measures", json={"kind": "billboard", "note": secret}, headers=h
    )
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert secret not in bad.text
    bad = c.post(f"{API}/{inc.ref}/notices", json={"channel_preference": ["fax"]}, headers=h)
    assert bad.status_code == 422
    assert c.get(f"{API}/INC-9999/notice-plan").status_code == 404
    assert c.get(f"{API}/not a key!/notice-plan").status_code in (404, 422)
    assert c.post(f"{API}/{inc.ref}/notices", json={}).status_code == 403  # no CSRF
    for user in ("admin", "sato", "support", "analyst"):
        cu, token = api.client(user)
        hu = {"X-CSRF-Token": token}
        r = cu.post(f"{API}/{inc.ref}/notices", json={}, headers=hu)
        assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2", (user, r.text)
        r = cu.post(
            f"{API}/{inc.ref}/substitute-measures", json={"kind": "publication", "note": "x"}, headers=hu
        )
        assert r.status_code == 403
        if user != "admin":
            assert cu.get(f"{API}/{inc.ref}/notice-plan").status_code == 403
            assert cu.get(f"{API}/{inc.ref}/notices").status_code == 403
    assert outbox(api.rt) == []
    denied = [e for e in api.rt.audit.tail(200) if e.action == "incident.notify" and e.decision == "deny"]
    assert len(denied) >= 8
