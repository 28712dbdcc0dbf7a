"""Issue 17: an API token's purposes are bound to every action that names a purpose, not only to the
``Mamori-Purpose`` header — a ``contract`` token cannot register customers for marketing, list who still needs a
marketing notice, cover marketing customers by an outsourcing contract or provide data for marketing (R-23-2)."""

from __future__ import annotations

import inspect
import typing

from fastapi.routing import APIRoute
from pydantic import BaseModel

from mamori.kernel.http.deps import declared_purposes
from mamori.staff.schemas import ApiTokenCreate
from tests.api.test_api import API, NEW, problem
from tests.staff.helpers import own_token

# Routes that name a purpose but are not bound to the caller's token: a person's own request (rights — the
# person exercises their rights; staff recording it must never be blocked) and the token endpoints themselves
# (a token cannot make tokens; the purposes there are the new token's).
UNBOUND = {"rights", "staff"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _names_a_purpose(model: object, seen: set[object]) -> bool:
    if not (isinstance(model, type) and issubclass(model, BaseModel)) or model in seen:
        return False
    seen.add(model)
    for name, field in model.model_fields.items():
        if name == "purpose" or name == "purposes" or name.endswith(("_purpose", "_purposes")):
            return True
        stack: list[object] = [field.annotation]
        while stack:
            ann = stack.pop()
            stack.extend(typing.get_args(ann))
            if _names_a_purpose(ann, seen):
                return True
    return False


def _api_routes(app) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in app.routes:
        inner = getattr(route, "original_router", None)
        for r in inner.routes if inner is not None else [route]:
            if isinstance(r, APIRoute) and r.endpoint.__module__.endswith(".api"):
                found.append(r)
    return found


def test_every_api_route_whose_body_names_a_purpose_binds_it_to_the_token(api):
    bound = []
    for route in _api_routes(api.app):
        body = route.body_field
        if body is None or not _names_a_purpose(body.field_info.annotation, set()):
            continue
        slice_name = route.endpoint.__module__.split(".")[1]
        if slice_name in UNBOUND:
            continue
        source = inspect.getsource(route.endpoint)
        assert "require_body_purposes(who, body)" in source or "require_token_purpose(" in source, (
            f"{route.endpoint.__module__}.{route.endpoint.__name__} names a purpose but does not bind it"
        )
        bound.append(route.endpoint.__name__)
    # the sweep found the routes it is about (it fails if the walk stops seeing them)
    assert {"create_customer", "import_customers", "provide", "assign", "record_consent"} <= set(bound)


def test_declared_purposes_reads_list_fields_and_ignores_others():
    from mamori.customers.schemas import CustomerCreateRequest

    body = CustomerCreateRequest.model_validate(NEW)
    assert declared_purposes(body) == {"contract", "marketing-email"}


def test_a_contract_token_cannot_act_for_marketing(api):
    c, csrf = api.client("support")
    token = own_token(
        api.rt, "support", api.secrets["support"], ApiTokenCreate(name="crm", purposes=["contract"])
    ).token
    anon, _ = api.client()
    before = c.get(f"{API}/customers", headers={"Mamori-Purpose": "contract"}).json()
    # registering a customer for marketing-email with a contract-only token
    r = anon.post(f"{API}/customers", headers=bearer(token), json=NEW)
    body = problem(r, 403, "token_purpose_not_allowed", "R-23-2")
    assert "marketing-email" not in r.text and body["rule_id"] == "R-23-2"
    # the import names its purposes the same way
    r = anon.post(
        f"{API}/customers/imports",
        headers=bearer(token),
        json={
            "csv": "name,kana,email\n山田 太郎,ヤマダ タロウ,taro@example.jp\n",
            "source": "form",
            "purposes": ["marketing-email"],
            "provenance": {"method": "direct", "channel": "web_form", "notice_version": "n-2026"},
        },
    )
    problem(r, 403, "token_purpose_not_allowed", "R-23-2")
    # a query naming a purpose is bound too
    r = anon.get(
        f"{API}/customers/pending-notice", headers=bearer(token), params={"purpose": "marketing-email"}
    )
    problem(r, 403, "token_purpose_not_allowed", "R-23-2")
    assert (
        c.get(f"{API}/customers", headers={"Mamori-Purpose": "contract"}).json() == before
    )  # nothing written
    # within its purposes the token works
    r = anon.post(f"{API}/customers", headers=bearer(token), json=NEW | {"purposes": ["contract"]})
    assert r.status_code == 201, r.text
    r = anon.get(f"{API}/customers/pending-notice", headers=bearer(token), params={"purpose": "contract"})
    problem(
        r, 403, "role_not_permitted"
    )  # past the token's check, refused for the role (support sends no notices)


def test_a_session_is_not_limited_by_token_purposes(api):
    c, csrf = api.client("support")
    r = c.post(f"{API}/customers", json=NEW, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text


def test_a_token_refused_for_the_declared_purpose_is_audited_over_http(api):
    from tests.kernel.test_sensitive_refusal_sweep import denials_since, last_seq

    token = own_token(
        api.rt, "support", api.secrets["support"], ApiTokenCreate(name="crm", purposes=["contract"])
    ).token
    anon, _ = api.client()
    before = last_seq(api.rt)
    r = anon.get(f"{API}/customers", headers=bearer(token) | {"Mamori-Purpose": "marketing-email"})
    problem(r, 403, "token_purpose_not_allowed", "R-23-2")
    r = anon.post(f"{API}/customers", headers=bearer(token), json=NEW)  # refused inside the transaction
    problem(r, 403, "token_purpose_not_allowed", "R-23-2")
    entries = denials_since(api.rt, before)
    assert [(e.reason, e.rule_ids) for e in entries] == [("token_purpose_not_allowed", ("R-23-2",))] * 2
    assert entries[0].action == "api.token.purpose"  # refused before any Context; the second inside one
    assert {e.actor_role for e in entries} == {"support"}  # the token's owner, never an impersonated user
