"""Issue 17 in the staff web app: my own API tokens (GET/POST /staff/me/tokens), an administrator who can no
longer issue a token to a person, and service accounts added from /staff/new."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.staff import service
from mamori.staff.models import StaffApiToken
from tests.api.conftest import Api
from tests.staff.helpers import PASSWORD, make_staff


@pytest.fixture
def api(runtime):
    return Api(runtime)


def tokens(api):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return list(ctx.session.execute(select(StaffApiToken)).scalars())


def test_admin_cannot_issue_a_token_to_a_person_and_the_refusal_is_audited(api):
    c, csrf = api.client("admin")
    sid = api.ids["sato"]
    page = c.get(f"/staff/{sid}")
    assert f'action="/staff/{sid}/tokens"' not in page.text  # no form for it
    r = c.post(f"/staff/{sid}/tokens", data={"csrf": csrf, "name": "x", "expires_in_days": "30"})
    assert r.status_code == 403 and "R-23-5" in r.text and "mamori_" not in r.text
    assert tokens(api) == []
    api.rt.drain_outbox()
    refused = [
        e for e in api.rt.audit.tail(100) if e.action == "staff.token_created" and e.decision == "deny"
    ]
    assert [e.reason for e in refused] == ["token_for_other_user"]


def test_my_tokens_page_creates_a_token_that_acts_as_me_and_revokes_it(api):
    c, csrf = api.client("sato")
    page = c.get("/staff/me/tokens")
    assert (
        page.status_code == 200
        and 'action="/staff/me/tokens"' in page.text
        and 'name="role"' not in page.text
    )
    r = c.post(
        "/staff/me/tokens",
        data={"csrf": csrf, "name": "my-sync", "purposes": "contract", "expires_in_days": "30"},
    )
    assert r.status_code == 201, r.text
    token = re.search(r'id="api-token">(mamori_[^<]+)<', r.text).group(1)
    anon, _ = api.client()
    me = anon.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "sato" and me.json()["role"] == "sales"
    listed = c.get("/staff/me/tokens")
    assert "my-sync" in listed.text and token not in listed.text
    row = tokens(api)[0]
    ask = c.post(f"/staff/tokens/{row.id}/revoke", data={"csrf": csrf})
    assert ask.status_code == 200 and 'href="/staff/me/tokens"' in ask.text
    done = c.post(f"/staff/tokens/{row.id}/revoke", data={"csrf": csrf, "confirm": "1"})
    assert done.status_code == 200 and tokens(api)[0].revoked_at is not None


def test_my_tokens_refusals(api):
    anon, _ = api.client()
    for method in ("GET", "POST"):
        r = anon.request(method, "/staff/me/tokens", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/sign-in"
    c, csrf = api.client("sato")
    assert c.post("/staff/me/tokens", data={"name": "x"}).status_code == 403  # no CSRF token
    for bad in (
        {"name": ""},
        {"name": "x", "purposes": "Not A Code!"},
        {"name": "x", "expires_in_days": "0"},
    ):
        r = c.post("/staff/me/tokens", data={"csrf": csrf, **bad})
        assert r.status_code == 422 and "mamori_" not in r.text
    # a session that checked no second factor cannot create one
    make_staff(api.rt, "ito", Role.ANALYST, mfa=False)
    ito, _ = api.client()
    r = ito.post("/sign-in", data={"username": "ito", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303
    ito_csrf = re.search(r'name="csrf" value="([^"]+)"', ito.get("/staff/me/tokens").text).group(1)
    r = ito.post("/staff/me/tokens", data={"csrf": ito_csrf, "name": "x"})
    assert r.status_code == 403 and "R-23-5" in r.text and "mamori_" not in r.text
    assert tokens(api) == []


def test_admin_adds_a_service_account_from_the_form(api):
    c, csrf = api.client("admin")
    form = c.get("/staff/new")
    assert 'name="kind"' in form.text and 'value="service"' in form.text
    base = {"csrf": csrf, "username": "crm", "display_name": "CRM", "kind": "service"}
    r = c.post("/staff/new", data={**base, "role": "admin"})
    assert r.status_code == 422
    assert c.post("/staff/new", data={**base, "role": "support", "kind": "robot"}).status_code == 404
    r = c.post("/staff/new", data={**base, "role": "support"})
    assert r.status_code == 201 and "サービスアカウント" in r.text and 'id="generated-password"' not in r.text
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        crm = next(u for u in service.list_staff(ctx) if u.username == "crm")
    assert crm.kind == "service" and not crm.password_set
    page = c.get(f"/staff/{crm.id}")
    assert f'action="/staff/{crm.id}/tokens"' in page.text
    issued = c.post(
        f"/staff/{crm.id}/tokens", data={"csrf": csrf, "name": "crm-sync", "purposes": "contract"}
    )
    assert issued.status_code == 201, issued.text
    sato, scsrf = api.client("sato")  # a non-admin cannot add one
    assert (
        sato.post(
            "/staff/new", data={**base, "csrf": scsrf, "username": "crm2", "role": "support"}
        ).status_code
        == 403
    )
