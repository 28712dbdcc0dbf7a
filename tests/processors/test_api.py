"""/api/v1/processors: the privacy officer's lifecycle, the role matrix with no side effects, bad input, and an
outsourcee operator signed in through the API who sees only its contract's customers and fields (R-25-1)."""

from __future__ import annotations

from datetime import date

import pyotp
import pytest
from sqlalchemy import func, select

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.processors import service
from mamori.processors.models import (
    ProcessorAudit,
    ProcessorContract,
    ProcessorCustomer,
    ProcessorEvaluation,
    ProcessorHandover,
    ProcessorOperator,
    ProcessorSubcontract,
)
from mamori.processors.schemas import (
    CLAUSES,
    EVALUATION_ITEMS,
    AuditResultIn,
    AuditScheduleIn,
    SubcontractIn,
)
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.processors.conftest import add_counterparty, contract_data, running_contract
from tests.staff.helpers import PASSWORD

P = "/api/v1/processors"


@pytest.fixture
def api(runtime):
    return Api(runtime)


def _actor(api, username):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        return staff_service.actor_for(s, username)


def _contract_body(counterparty_id: str, **overrides):
    return {
        "counterparty_id": counterparty_id,
        "work": "配送業務",
        "purposes": ["contract"],
        "fields": ["name", "address", "postal_code"],
        "clauses": list(CLAUSES),
        "starts_on": "2026-11-01",
        "ends_on": "2027-03-31",
        **overrides,
    }


def _states(rt) -> list[tuple[str, ...]]:
    with rt.sessions() as s:
        rows = [("c", c.id, c.status) for c in s.execute(select(ProcessorContract)).scalars()]
        rows += [
            ("a", a.id, str(a.result), str(a.remedied_at))
            for a in s.execute(select(ProcessorAudit)).scalars()
        ]
        rows += [("s", x.id, x.status) for x in s.execute(select(ProcessorSubcontract)).scalars()]
    return sorted(rows)


def _count(rt, model) -> int:
    with rt.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_privacy_officer_runs_the_whole_lifecycle_through_the_api(api):
    po = _actor(api, "po")
    cp = add_counterparty(api.rt, po)
    cid = make_customer(api.rt, _actor(api, "sato"), email="api1@example.jp")
    client, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    # a contract missing a clause cannot start (R-25-1)
    r = client.post(f"{P}/contracts", json=_contract_body(cp, clauses=["confidentiality"]), headers=h)
    assert r.status_code == 201, r.text
    draft = r.json()["id"]
    r = client.post(
        f"{P}/contracts/{draft}/evaluations",
        json={"items": dict.fromkeys(EVALUATION_ITEMS, "meets")},
        headers=h,
    )
    assert r.status_code == 201 and r.json()["result"] == "passed"
    r = client.post(f"{P}/contracts/{draft}/activate", headers=h)
    assert r.status_code == 403 and r.json()["rule_id"] == "R-25-1"
    # a complete one does
    contract = client.post(f"{P}/contracts", json=_contract_body(cp), headers=h).json()["id"]
    r = client.post(f"{P}/contracts/{contract}/activate", headers=h)
    assert r.status_code == 403 and r.json()["code"] == "evaluation_not_passed"
    client.post(
        f"{P}/contracts/{contract}/evaluations",
        json={"items": dict.fromkeys(EVALUATION_ITEMS, "meets")},
        headers=h,
    )
    assert client.post(f"{P}/contracts/{contract}/activate", headers=h).json()["status"] == "active"
    r = client.post(f"{P}/contracts/{contract}/customers", json={"customer_ids": [cid]}, headers=h)
    assert r.status_code == 200 and r.json()["total"] == 1
    assert client.get(f"{P}/contracts/{contract}/customers").json()["customer_ids"] == [cid]
    r = client.post(f"{P}/contracts/{contract}/audits", json={"due_on": "2026-11-10"}, headers=h)
    audit_id = r.json()["id"]
    assert client.get(f"{P}/audits", params={"overdue": True}).json()[0]["id"] == audit_id
    r = client.post(
        f"{P}/audits/{audit_id}/result", json={"result": "passed", "performed_on": "2026-11-20"}, headers=h
    )
    assert r.status_code == 200 and not r.json()["overdue"]
    r = client.post(
        f"{P}/contracts/{contract}/subcontracts",
        json={"subcontractor": "架空運送", "work": "配達", "methods": "伝票のみ"},
        headers=h,
    )
    sub = r.json()["id"]
    assert client.post(f"{P}/subcontracts/{sub}/approve", json={}, headers=h).json()["status"] == "approved"
    r = client.post(
        f"{P}/contracts/{contract}/operators", json={"username": "dl-op", "display_name": "x"}, headers=h
    )
    assert r.status_code == 201 and r.json()["contract_id"] == contract
    assert [o["username"] for o in client.get(f"{P}/operators").json()] == ["dl-op"]
    # handover: an unneeded field is refused, the contract's fields go out, the log holds no values
    r = client.post(f"{P}/contracts/{contract}/handovers", json={"fields": ["name", "phones"]}, headers=h)
    assert r.status_code == 403 and r.json()["rule_id"] == "R-25-1"
    r = client.post(f"{P}/contracts/{contract}/handovers", json={}, headers=h)
    assert r.status_code == 201 and r.json()["rows"][0]["customer_id"] == cid
    assert r.headers.get("cache-control") == "no-store"
    log = client.get(f"{P}/contracts/{contract}/handovers").json()
    assert log[0]["customer_count"] == 1 and "rows" not in log[0]
    listed = client.get(f"{P}/contracts").json()
    assert {c["status"] for c in listed} == {"draft", "active"}
    r = client.post(
        f"{P}/contracts/{contract}/end", json={"disposal": "returned", "evidence": "返却書 R-1"}, headers=h
    )
    assert r.json()["status"] == "ended"
    assert client.get(f"{P}/contracts/{contract}").json()["subcontracts"][0]["status"] == "approved"


def test_other_roles_are_refused_every_processors_endpoint_and_nothing_changes(api):
    po = _actor(api, "po")
    cp = add_counterparty(api.rt, po)
    contract = running_contract(api.rt, po, cp)
    cid = make_customer(api.rt, _actor(api, "sato"), email="m@example.jp")
    with api.rt.transaction(po) as ctx:
        draft = service.add_contract(ctx, contract_data(cp)).id
        audit = service.schedule_audit(ctx, contract, AuditScheduleIn(due_on=date(2027, 1, 1))).id
        failed = service.schedule_audit(ctx, contract, AuditScheduleIn(due_on=date(2027, 1, 2))).id
        service.record_audit(ctx, failed, AuditResultIn(result="failed", performed_on=date(2026, 11, 22)))
        sub = service.request_subcontract(
            ctx, contract, SubcontractIn(subcontractor="s", work="w", methods="m")
        ).id
    models = (
        ProcessorContract,
        ProcessorCustomer,
        ProcessorAudit,
        ProcessorSubcontract,
        ProcessorHandover,
        ProcessorEvaluation,
        ProcessorOperator,
    )
    states = _states(api.rt)
    before = [_count(api.rt, m) for m in models]
    failures = []
    for role in ("admin", "sato", "suzuki", "support", "analyst"):
        client, csrf = api.client(role)
        h = {"X-CSRF-Token": csrf}
        calls = [
            ("get", f"{P}/contracts", None),
            ("get", f"{P}/contracts/{contract}", None),
            ("get", f"{P}/audits", None),
            ("get", f"{P}/operators", None),
            ("get", f"{P}/contracts/{contract}/handovers", None),
            ("post", f"{P}/contracts", _contract_body(cp)),
            ("post", f"{P}/contracts/{contract}/customers", {"customer_ids": [cid]}),
            ("post", f"{P}/contracts/{contract}/audits", {"due_on": "2027-01-01"}),
            (
                "post",
                f"{P}/contracts/{contract}/subcontracts",
                {"subcontractor": "x", "work": "y", "methods": "z"},
            ),
            ("post", f"{P}/contracts/{contract}/operators", {"username": f"op-{role}", "display_name": "x"}),
            ("post", f"{P}/contracts/{contract}/handovers", {}),
            ("post", f"{P}/contracts/{contract}/end", {"disposal": "deleted", "evidence": "x"}),
            ("get", f"{P}/contracts/{contract}/customers", None),
            ("post", f"{P}/contracts/{contract}/customers/remove", {"customer_ids": [cid]}),
            (
                "post",
                f"{P}/contracts/{draft}/evaluations",
                {"items": dict.fromkeys(EVALUATION_ITEMS, "meets")},
            ),
            ("post", f"{P}/contracts/{draft}/activate", None),
            ("post", f"{P}/audits/{audit}/result", {"result": "passed", "performed_on": "2026-11-20"}),
            ("post", f"{P}/audits/{failed}/remedy", {"remedy": "r"}),
            ("post", f"{P}/subcontracts/{sub}/approve", {}),
            ("post", f"{P}/subcontracts/{sub}/refuse", {}),
        ]
        for method, url, body in calls:
            r = client.get(url) if method == "get" else client.post(url, json=body, headers=h)
            if r.status_code != 403:
                failures.append((role, url, r.status_code, r.text[:200]))
    assert failures == []
    assert [_count(api.rt, m) for m in models] == before
    assert _states(api.rt) == states


def test_bad_input_is_422_without_echoing_it(api):
    po = _actor(api, "po")
    cp = add_counterparty(api.rt, po)
    client, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    secretish = "salary-of-yamada-taro"
    for body in (
        _contract_body(cp, fields=["name", secretish]),
        _contract_body(cp, ends_on="2026-01-01"),
        _contract_body(cp, purposes=[]),
        {"work": "x"},
    ):
        r = client.post(f"{P}/contracts", json=body, headers=h)
        assert r.status_code == 422, r.text
        assert secretish not in r.text
    assert client.get(f"{P}/contracts/not-an-id").status_code == 422
    assert client.get(f"{P}/contracts/{'0' * 32}").status_code == 404
    assert client.get(f"{P}/contracts", params={"status": "zombie"}).status_code == 422
    r = client.post(
        f"{P}/contracts/{'0' * 32}/evaluations", json={"items": {"basic_policy": "meets"}}, headers=h
    )
    assert r.status_code == 422
    assert _count(api.rt, ProcessorContract) == 0


def test_operator_signed_in_through_the_api_sees_only_its_contract_R_25_1(api):
    po = _actor(api, "po")
    cp = add_counterparty(api.rt, po)
    sato = _actor(api, "sato")
    covered = make_customer(api.rt, sato, email="c@example.jp")
    uncovered = make_customer(api.rt, sato, email="u@example.jp")
    contract = running_contract(api.rt, po, cp, fields=["name", "address"])
    client, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    client.post(f"{P}/contracts/{contract}/customers", json={"customer_ids": [covered]}, headers=h)
    client.post(
        f"{P}/contracts/{contract}/operators", json={"username": "cc-api", "display_name": "x"}, headers=h
    )
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.set_password(ctx, "cc-api", PASSWORD)
        api.secrets["cc-api"] = pyotp.parse_uri(staff_service.enroll_totp(ctx, "cc-api")).secret
    op, _ = api.client("cc-api")
    r = op.get(f"/api/v1/customers/{covered}", headers={"Mamori-Purpose": "contract"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] and body["address"] and body["phones"] == [] and "phones" in body["masked"]
    r = op.get(f"/api/v1/customers/{uncovered}", headers={"Mamori-Purpose": "contract"})
    assert r.status_code == 403 and r.json()["rule_id"] == "R-25-1"
    r = op.get(f"/api/v1/customers/{covered}", headers={"Mamori-Purpose": "marketing-email"})
    assert r.status_code == 403 and r.json()["rule_id"] == "R-25-1"
    assert op.get(f"{P}/contracts").status_code == 403
    client.post(f"{P}/contracts/{contract}/end", json={"disposal": "deleted", "evidence": "D-9"}, headers=h)
    r = op.get(f"/api/v1/customers/{covered}", headers={"Mamori-Purpose": "contract"})
    assert r.status_code == 403 and r.json()["rule_id"] == "R-25-1"
