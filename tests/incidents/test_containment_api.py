"""POST /api/v1/incidents/{key}/containment and GET /api/v1/incidents/{key}/measures (issue 22 "Deliver" 7):
steps really take effect (a revoked session's cookie and a revoked token get 401), are recorded and audited with
the incident id; other roles get 403 problem+json with R-23-2 (audited); bad input is 404 / 422 problem+json that
never echoes the value, and nothing is recorded."""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service
from mamori.staff.schemas import ApiTokenCreate
from tests.api.conftest import Api
from tests.incidents.support import new_incident
from tests.staff.helpers import own_token


def _actor(api: Api, username: str):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


@pytest.fixture
def api(runtime) -> Api:
    return Api(runtime)


@pytest.fixture
def incident(api: Api):
    return new_incident(api.rt, _actor(api, "po"))


def test_revoke_a_session_from_the_incident_ends_that_cookie(api, incident):
    rep, _ = api.client("sato")
    assert rep.get("/api/v1/incidents/x/measures").status_code in (403, 422)  # signed in (refused, not 401)
    sid = [s.id for s in _sessions(api, "sato")][-1]
    po, csrf = api.client("po")
    r = po.post(
        f"/api/v1/incidents/{incident.ref}/containment",
        json={"kind": "revoke_session", "target": sid},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "revoke_session" and body["result"] == {"sessions_revoked": 1}
    assert body["incident_id"] == incident.id and body["target"] == sid
    assert _problem(rep.get("/api/v1/staff/tokens"), 401)["code"] == "unauthenticated"
    listed = po.get(f"/api/v1/incidents/{incident.number}/measures")
    assert listed.status_code == 200 and [m["id"] for m in listed.json()] == [body["id"]]
    entry = [e for e in api.rt.audit.tail(30) if e.action == "incident.contain"][-1]
    assert entry.details["incident_id"] == incident.id and entry.details["measure_id"] == body["id"]
    assert entry.details["session_id"] == sid and entry.rule_ids == ("R-26-7",)


def _sessions(api: Api, username: str):
    with api.rt.transaction(_actor(api, "po"), readonly=True) as ctx:
        return staff_service.contain_sessions_of(ctx, username)


def test_revoke_a_token_from_the_incident_then_its_call_gets_401(api, incident):
    issued = own_token(
        api.rt, "sato", api.secrets["sato"], ApiTokenCreate(name="sync", purposes=["contract"])
    )
    machine, _ = api.client()
    bearer = {"Authorization": f"Bearer {issued.token}"}
    assert machine.get("/api/v1/staff/tokens", headers=bearer).status_code == 200
    admin, csrf = api.client("admin")
    r = admin.post(
        f"/api/v1/incidents/{incident.id}/containment",
        json={"kind": "revoke_token", "target": issued.id},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201 and r.json()["result"] == {"tokens_revoked": 1}
    assert _problem(machine.get("/api/v1/staff/tokens", headers=bearer), 401)["code"] == "unauthenticated"


def test_disable_account_from_the_incident(api, incident):
    rep, _ = api.client("suzuki")
    po, csrf = api.client("po")
    r = po.post(
        f"/api/v1/incidents/{incident.ref}/containment",
        json={"kind": "disable_account", "target": "suzuki"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201 and r.json()["result"]["disabled"] == 1
    assert rep.get("/api/v1/staff/tokens").status_code == 401


@pytest.mark.parametrize("username", ["sato", "support", "analyst"])
def test_other_roles_get_403_with_the_rule_and_nothing_changes(api, incident, username):
    c, csrf = api.client(username)
    r = c.post(
        f"/api/v1/incidents/{incident.ref}/containment",
        json={"kind": "revoke_sessions", "target": "suzuki"},
        headers={"X-CSRF-Token": csrf},
    )
    assert _problem(r, 403)["rule_id"] == "R-23-2"
    assert _problem(c.get(f"/api/v1/incidents/{incident.ref}/measures"), 403)["rule_id"] == "R-23-2"
    denied = [e for e in api.rt.audit.tail(10) if e.decision == "deny"]
    assert denied[-2].action == "incident.contain" and denied[-2].actor == f"staff:{api.ids[username]}"
    po, _ = api.client("po")
    assert po.get(f"/api/v1/incidents/{incident.ref}/measures").json() == []


def test_rotate_keys_is_refused_for_the_privacy_officer_naming_the_administrator(api, incident):
    po, csrf = api.client("po")
    r = po.post(
        f"/api/v1/incidents/{incident.ref}/containment",
        json={"kind": "rotate_keys"},
        headers={"X-CSRF-Token": csrf, "Accept-Language": "en"},
    )
    body = _problem(r, 403)
    assert body["code"] == "keys_rotate_admin_only" and body["rule_id"] == "R-23-2"


def test_bad_input_is_a_problem_that_echoes_nothing_and_records_nothing(api, incident):
    po, csrf = api.client("po")
    url = f"/api/v1/incidents/{incident.ref}/containment"
    h = {"X-CSRF-Token": csrf}
    cases = [
        ({"kind": "revoke_session", "target": "0" * 32}, 404, "unknown_session"),
        ({"kind": "revoke_token", "target": "e" * 32}, 404, "unknown_token"),
        ({"kind": "disable_account", "target": "nobody"}, 404, "unknown_staff"),
        ({"kind": "suspend_outsourcee", "target": "a" * 32}, 404, "contract_not_found"),
        ({"kind": "revoke_session", "target": "secret-looking-value"}, 422, None),
        ({"kind": "rotate_keys", "target": "secret-looking-value"}, 422, None),
        ({"kind": "wipe_everything", "target": "sato"}, 422, None),
        ({"kind": "revoke_sessions"}, 422, None),
    ]
    for body, status, code in cases:
        r = po.post(url, json=body, headers=h)
        problem = _problem(r, status)
        if code is not None:
            assert problem["code"] == code, r.text
        assert "secret-looking-value" not in r.text and "nobody" not in r.text
    assert _problem(po.get("/api/v1/incidents/INC-0099/measures"), 404)["code"] == "incident_not_found"
    assert po.get("/api/v1/incidents/bad key/measures").status_code == 422
    assert po.get(f"/api/v1/incidents/{incident.ref}/measures").json() == []
