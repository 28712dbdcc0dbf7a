"""The scope routes under /api/v1/incidents (issue 22 "Deliver" 2; R-26-1, R-26-7). Reads are made through the
API by a real signed-in session and a real API token; the scope is then drawn from the audit log. Synthetic data."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import Runtime
from mamori.staff.models import StaffSession
from mamori.staff.schemas import ApiTokenCreate
from tests.api.conftest import Api
from tests.api.test_api import problem
from tests.factories import make_customer
from tests.incidents.support import new_incident
from tests.incidents.test_scope import actor, subjects
from tests.staff.helpers import own_token

API = "/api/v1/incidents"
PURPOSE = {"Mamori-Purpose": "contract"}


def _newest_session(rt: Runtime, staff_id: str) -> str:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return str(
            ctx.session.execute(
                select(StaffSession.id)
                .where(StaffSession.staff_id == staff_id)
                .order_by(StaffSession.created_at.desc())
                .limit(1)
            ).scalar_one()
        )


def test_scope_from_an_api_session_and_a_token(runtime: Runtime) -> None:
    api = Api(runtime)
    sato = actor(runtime, "sato")
    a, b, c = (make_customer(runtime, sato, email=f"a{i}@example.jp", phone=None) for i in range(3))
    incident = new_incident(runtime, actor(runtime, "po"))
    web, _ = api.client("sato")
    session_id = _newest_session(runtime, api.ids["sato"])
    since = runtime.clock.now()
    runtime.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    assert web.get(f"/api/v1/customers/{a}", headers=PURPOSE).status_code == 200
    issued = own_token(runtime, "sato", api.secrets["sato"], ApiTokenCreate(name="t", purposes=["contract"]))
    bearer = {"Authorization": f"Bearer {issued.token}", **PURPOSE}
    tok, _ = api.client()
    assert tok.get(f"/api/v1/customers/{b}", headers=bearer).status_code == 200
    until = runtime.clock.now() + timedelta(minutes=1)
    runtime.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]
    assert web.get(f"/api/v1/customers/{c}", headers=PURPOSE).status_code == 200  # after the window

    po, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    window = {"since": since.isoformat(), "until": until.isoformat()}
    r = po.post(
        f"{API}/{incident.ref}/scopes",
        json={"method": "audit", "session_id": session_id, **window},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["persons"] == 1 and set(subjects(runtime, incident.id)) == {a}
    body = {"method": "audit", "token_id": issued.id, **window}
    r = po.post(f"{API}/{incident.id}/scopes", json=body, headers=h)
    assert r.status_code == 201, r.text
    token_scope = r.json()
    assert token_scope["persons"] == 1 and token_scope["params"]["token_id"] == issued.id
    assert set(subjects(runtime, incident.id)) == {a, b}
    r = po.post(
        f"{API}/{incident.ref}/scopes",
        json={"method": "estimate", "maximum": 1001, "fields": ["emails"]},
        headers=h,
    )
    assert r.status_code == 201 and r.json()["maximum"] == 1001
    r = po.get(f"{API}/{incident.ref}/scope-summary")
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["persons"], s["maximum"], s["eu"], s["sensitive"]) == (2, 1001, 0, 0)
    assert s["items"]["name"] == 2 and len(s["scopes"]) == 3
    assert "example.jp" not in r.text
    r = po.get(f"{API}/{incident.ref}/scopes")
    assert r.status_code == 200 and sorted(x["method"] for x in r.json()) == ["audit", "audit", "estimate"]
    r = po.delete(f"{API}/{incident.ref}/scopes/{token_scope['id']}", headers=h)
    assert r.status_code == 200, r.text
    assert set(subjects(runtime, incident.id)) == {a}
    assert len(po.get(f"{API}/{incident.ref}/scopes", params={"removed": "true"}).json()) == 3


def test_bad_input_is_problem_json_without_values(runtime: Runtime) -> None:
    api = Api(runtime)
    cid = make_customer(runtime, actor(runtime, "sato"))
    incident = new_incident(runtime, actor(runtime, "po"))
    po, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    url = f"{API}/{incident.ref}/scopes"
    problem(po.post(url, json={"method": "guess"}, headers=h), 422, "invalid_input")
    body = {
        "method": "audit",
        "username": "sato",
        "session_id": "a" * 32,
        "since": "2026-11-23T00:00:00Z",
        "until": "2026-11-24T00:00:00Z",
    }
    problem(po.post(url, json=body, headers=h), 422, "invalid_input")
    body = {
        "method": "audit",
        "username": "sato",
        "since": "2026-11-23T00:00:00",
        "until": "2026-11-24T00:00:00",
    }
    problem(po.post(url, json=body, headers=h), 422, "invalid_input")  # no time zone
    r = po.post(url, json={"method": "ids", "ids": [cid, "q" * 32], "fields": ["name"]}, headers=h)
    p = problem(r, 422, "unknown_customers")
    assert cid not in r.text and p["code"] == "unknown_customers"
    problem(
        po.post(url, json={"method": "ids", "ids": [cid], "fields": ["Name; drop"]}, headers=h),
        422,
        "invalid_input",
    )
    problem(po.post(url, json={"method": "provision", "provision_id": "0" * 32}, headers=h), 404)
    problem(po.delete(f"{url}/{'0' * 32}", headers=h), 404, "scope_not_found")
    problem(po.get(f"{API}/INC-9999/scope-summary"), 404)
    assert subjects(runtime, incident.id) == {}


def test_unauthorised_roles_get_403_and_are_audited(runtime: Runtime) -> None:
    api = Api(runtime)
    incident = new_incident(runtime, actor(runtime, "po"))
    for username in ("sato", "admin"):
        c, csrf = api.client(username)
        r = c.post(
            f"{API}/{incident.ref}/scopes",
            json={"method": "estimate", "maximum": 5, "fields": ["name"]},
            headers={"X-CSRF-Token": csrf},
        )
        problem(r, 403)
    assert len(runtime.audit.search(action="incident.scope", decision="deny")) == 2
    c, _ = api.client("sato")
    problem(c.get(f"{API}/{incident.ref}/scope-summary"), 403)
    admin, _ = api.client("admin")
    assert admin.get(f"{API}/{incident.ref}/scope-summary").status_code == 200  # the board's readers
    anon, _ = api.client()
    problem(anon.get(f"{API}/{incident.ref}/scopes"), 401)


def test_scope_routes_conform_to_the_openapi_document(runtime: Runtime) -> None:
    """schemathesis over this part's four operations (as tests/api/test_schemathesis.py does for the whole API):
    no 5xx, documented status codes, content types and response schemas."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    api = Api(runtime)
    new_incident(runtime, actor(runtime, "po"))
    issued = own_token(runtime, "po", api.secrets["po"], ApiTokenCreate(name="fuzz", purposes=["contract"]))
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    headers = {"Authorization": f"Bearer {issued.token}"}
    failures: dict[str, str] = {}
    seen = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/v1/incidents/{key}/scope"):
            continue
        seen += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        try:
            run()
        except Exception as exc:  # every failing operation, not only the first
            failures[f"{operation.method.upper()} {operation.path}"] = str(exc)[:600]
    assert seen == 4
    assert failures == {}
