"""Authorization matrix: role × endpoint × purpose. Every cell checks the status; every refused cell also checks
that nothing changed (Saleor's rule: assert the side effect did NOT happen)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mamori.consent.models import ConsentEvent
from mamori.customers.models import Activity, Customer
from mamori.purposes.models import Purpose
from mamori.staff.models import StaffUser
from tests.factories import make_customer

API = "/api/v1"
ROLES = ["admin", "po", "sato", "suzuki", "support", "analyst"]
OK_READ = {"po": 200, "sato": 200, "support": 200}

# (endpoint, purpose) → role → expected status (absent = 403)
MATRIX: dict[tuple[str, str | None], dict[str, int]] = {
    ("read", "contract"): {**OK_READ, "suzuki": 404},
    ("read", "health-service"): {"suzuki": 404},  # not notified → 403 R-21-1 for everyone in scope
    ("update", "contract"): {**OK_READ, "suzuki": 404},
    ("update", "health-service"): {"suzuki": 404},
    ("note", "contract"): {"po": 201, "sato": 201, "support": 201, "suzuki": 404},
    ("note", "health-service"): {"suzuki": 404},
    ("consent", None): {"po": 201, "sato": 201, "support": 201, "suzuki": 404},
    ("audit", None): {"po": 200},
    ("staff", None): {"admin": 200},
    ("add-purpose", None): {"po": 201},
    ("add-staff", None): {"admin": 201},
}


def count(rt, model, **where):
    with rt.sessions() as s:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return s.scalar(stmt)


def version(rt, cid):
    with rt.sessions() as s:
        return s.scalar(select(Customer.version).where(Customer.id == cid))


@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(api, role):
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.staff import service as staff_service

    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        sato = staff_service.actor_for(s, "sato")
    del SYSTEM_ACTOR
    client, csrf = api.client(role)
    failures = []
    for (endpoint, purpose), allowed in MATRIX.items():
        expected = allowed.get(role, 403)
        cid = make_customer(api.rt, sato, email=None, phone=None)
        h = {"X-CSRF-Token": csrf}
        if purpose:
            h["Mamori-Purpose"] = purpose
        before = {
            "version": version(api.rt, cid),
            "activities": count(api.rt, Activity, customer_id=cid),
            "consents": count(api.rt, ConsentEvent, customer_id=cid),
            "purposes": count(api.rt, Purpose),
            "staff": count(api.rt, StaffUser),
        }
        if endpoint == "read":
            r = client.get(f"{API}/customers/{cid}", headers=h)
        elif endpoint == "update":
            r = client.patch(
                f"{API}/customers/{cid}", json={"occupation": "変更"}, headers={**h, "If-Match": '"v1"'}
            )
        elif endpoint == "note":
            r = client.post(
                f"{API}/customers/{cid}/activities", json={"kind": "call", "body": "折り返し"}, headers=h
            )
        elif endpoint == "consent":
            r = client.post(
                f"{API}/customers/{cid}/consents",
                headers=h,
                json={"action": "grant", "purpose": "contract", "method": "oral"},
            )
        elif endpoint == "audit":
            r = client.get(f"{API}/audit", headers=h)
        elif endpoint == "staff":
            r = client.get(f"{API}/staff", headers=h)
        elif endpoint == "add-purpose":
            r = client.post(
                f"{API}/purposes",
                headers=h,
                json={
                    "code": f"p-{role}",
                    "title_ja": "試験",
                    "title_en": "Test",
                    "text_ja": "試験用の利用目的として氏名と連絡先を利用します。",
                    "text_en": "test",
                    "categories": ["identifier"],
                },
            )
        else:
            r = client.post(
                f"{API}/staff",
                headers=h,
                json={"username": f"new-{role}", "display_name": "x", "role": "support"},
            )
        if r.status_code != expected:
            failures.append(f"{endpoint}/{purpose}: {r.status_code} != {expected} {r.text[:120]}")
        if r.status_code >= 400:
            after = {
                "version": version(api.rt, cid),
                "activities": count(api.rt, Activity, customer_id=cid),
                "consents": count(api.rt, ConsentEvent, customer_id=cid),
                "purposes": count(api.rt, Purpose),
                "staff": count(api.rt, StaffUser),
            }
            if after != before:
                failures.append(f"{endpoint}/{purpose}: refused but changed {before} -> {after}")
            assert r.headers["content-type"].startswith("application/problem+json")
    assert failures == []
