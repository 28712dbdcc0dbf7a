"""Issue 17 over HTTP: who may make an API token, service accounts, and a token's purposes bound to every action.

Endpoints: POST/GET /staff/tokens, POST /staff/tokens/{id}/revoke, POST /staff/service-accounts and
POST /staff/service-accounts/{username}/tokens — each with its happy path, its refusals and its bad input.
"""

from __future__ import annotations

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service
from mamori.staff.schemas import ApiTokenCreate
from tests.api.test_api import API, create, problem
from tests.staff.helpers import make_staff, own_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_ids(api) -> set[str]:
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return {t.id for t in staff_service.list_tokens(ctx)}


def test_owner_creates_own_token_from_an_mfa_session_and_it_acts_as_them(api):
    c, csrf = api.client("sato")
    r = c.post(
        f"{API}/staff/tokens",
        json={"name": "my-sync", "purposes": ["contract"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text
    issued = r.json()
    assert (
        issued["username"] == "sato" and issued["role"] == "sales" and issued["token"].startswith("mamori_")
    )
    anon, _ = api.client()
    me = anon.get(f"{API}/auth/me", headers=bearer(issued["token"]))
    assert me.status_code == 200 and me.json()["username"] == "sato"
    listed = c.get(f"{API}/staff/tokens")
    assert listed.status_code == 200 and [t["id"] for t in listed.json()] == [issued["id"]]
    assert issued["token"] not in listed.text


def test_token_creation_refusals(api):
    c, csrf = api.client("sato")
    h = {"X-CSRF-Token": csrf}
    problem(
        c.post(f"{API}/staff/tokens", json={"name": "x", "role": "admin"}, headers=h),
        403,
        "token_role_above_owner",
        "R-23-5",
    )
    problem(c.post(f"{API}/staff/tokens", json={"name": "x"}), 403)  # no CSRF token
    problem(c.post(f"{API}/staff/tokens", json={"name": ""}, headers=h), 422)
    problem(c.post(f"{API}/staff/tokens", json={"name": "x", "purposes": ["Not A Code"]}, headers=h), 422)
    problem(c.post(f"{API}/staff/tokens", json={"name": "x", "expires_in_days": 999}, headers=h), 422)
    anon, _ = api.client()
    problem(anon.post(f"{API}/staff/tokens", json={"name": "x"}), 401)
    # a token cannot make tokens (it has no MFA session behind it)
    token = own_token(api.rt, "support", api.secrets["support"], ApiTokenCreate(name="t")).token
    problem(
        anon.post(f"{API}/staff/tokens", json={"name": "x"}, headers=bearer(token)),
        403,
        "token_needs_mfa_session",
    )
    assert len(token_ids(api)) == 1


def test_a_session_without_a_second_factor_cannot_create_a_token(api):
    make_staff(api.rt, "ito", api_role("analyst"), mfa=False)  # analysts need no TOTP
    c, _ = api.client()
    r = c.post(f"{API}/auth/sign-in", json={"username": "ito", "password": "correct horse battery staple"})
    assert r.status_code == 200, r.text
    h = {"X-CSRF-Token": r.json()["csrf_token"]}
    problem(
        c.post(f"{API}/staff/tokens", json={"name": "x"}, headers=h), 403, "token_needs_mfa_session", "R-23-5"
    )
    assert token_ids(api) == set()


def api_role(name: str):
    from mamori.kernel.context import Role

    return Role(name)


def test_service_accounts_are_added_and_issued_tokens_by_an_admin_only(api):
    admin, acsrf = api.client("admin")
    ah = {"X-CSRF-Token": acsrf}
    body = {"username": "crm", "display_name": "CRM 連携", "role": "support"}
    sato, scsrf = api.client("sato")
    problem(
        sato.post(f"{API}/staff/service-accounts", json=body, headers={"X-CSRF-Token": scsrf}),
        403,
        rule="R-23-2",
    )
    problem(admin.post(f"{API}/staff/service-accounts", json={**body, "role": "admin"}, headers=ah), 422)
    problem(admin.post(f"{API}/staff/service-accounts", json={**body, "role": "system"}, headers=ah), 422)
    r = admin.post(f"{API}/staff/service-accounts", json=body, headers=ah)
    assert r.status_code == 201 and r.json()["kind"] == "service" and r.json()["password_set"] is False
    problem(admin.post(f"{API}/staff/service-accounts", json=body, headers=ah), 409)
    # its tokens: admin only, its role only; a person's name is not a service account
    url = f"{API}/staff/service-accounts/crm/tokens"
    problem(sato.post(url, json={"name": "x"}, headers={"X-CSRF-Token": scsrf}), 403, rule="R-23-2")
    problem(admin.post(f"{API}/staff/service-accounts/sato/tokens", json={"name": "x"}, headers=ah), 404)
    problem(
        admin.post(f"{API}/staff/service-accounts/NOT%20A%20NAME/tokens", json={"name": "x"}, headers=ah), 422
    )
    problem(admin.post(url, json={"name": "x", "role": "sales"}, headers=ah), 403, "token_role_above_owner")
    issued = admin.post(url, json={"name": "crm-sync", "purposes": ["contract"]}, headers=ah)
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    anon, _ = api.client()
    me = anon.get(f"{API}/auth/me", headers=bearer(token))
    assert (
        me.json()["username"] == "crm" and me.json()["role"] == "support"
    )  # its own identity, not the admin's
    # it never signs in
    problem(anon.post(f"{API}/auth/sign-in", json={"username": "crm", "password": "whatever it is"}), 401)


def test_admin_cannot_create_a_token_for_a_person_over_http(api):
    admin, acsrf = api.client("admin")
    r = admin.post(
        f"{API}/staff/service-accounts/sato/tokens", json={"name": "x"}, headers={"X-CSRF-Token": acsrf}
    )
    problem(r, 404)
    assert token_ids(api) == set()


def test_revoke_own_or_as_admin_and_bad_ids(api):
    sato_token = own_token(api.rt, "sato", api.secrets["sato"], ApiTokenCreate(name="s"))
    suzuki_token = own_token(api.rt, "suzuki", api.secrets["suzuki"], ApiTokenCreate(name="z"))
    c, csrf = api.client("sato")
    h = {"X-CSRF-Token": csrf}
    problem(c.post(f"{API}/staff/tokens/{suzuki_token.id}/revoke", headers=h), 403, rule="R-23-2")
    problem(c.post(f"{API}/staff/tokens/not-an-id/revoke", headers=h), 422)
    problem(c.post(f"{API}/staff/tokens/{sato_token.id}/revoke"), 403)  # no CSRF
    r = c.post(f"{API}/staff/tokens/{sato_token.id}/revoke", headers=h)
    assert r.status_code == 200 and r.json()["revoked_at"]
    admin, acsrf = api.client("admin")
    assert {t["id"] for t in admin.get(f"{API}/staff/tokens").json()} == {sato_token.id, suzuki_token.id}
    r = admin.post(f"{API}/staff/tokens/{suzuki_token.id}/revoke", headers={"X-CSRF-Token": acsrf})
    assert r.status_code == 200
    problem(admin.post(f"{API}/staff/tokens/{'0' * 32}/revoke", headers={"X-CSRF-Token": acsrf}), 404)
    anon, _ = api.client()
    for t in (sato_token, suzuki_token):
        problem(anon.get(f"{API}/auth/me", headers=bearer(t.token)), 401)


# -- a token's purposes are bound to every action, consent included (finding: a contract-only token granted
#    marketing consent) ---------------------------------------------------------------------------------------------


def test_a_contract_only_token_cannot_grant_or_withdraw_marketing_consent(api):
    c, csrf = api.client("support")
    cid = create(c, csrf)
    token = own_token(
        api.rt, "support", api.secrets["support"], ApiTokenCreate(name="crm", purposes=["contract"])
    ).token
    anon, _ = api.client()
    url = f"{API}/customers/{cid}/consents"
    before = c.get(url).json()
    for action in ("grant", "withdraw"):
        r = anon.post(
            url,
            headers=bearer(token),
            json={"action": action, "purpose": "marketing-email", "method": "checkbox"},
        )
        body = problem(r, 403, "token_purpose_not_allowed", "R-23-2")
        assert "marketing-email" not in r.text and body["rule_id"] == "R-23-2"
    for body in ({"action": "grant", "sensitive": True, "method": "paper"},):
        problem(anon.post(url, headers=bearer(token), json=body), 403, "token_purpose_not_allowed")
    problem(
        anon.post(
            f"{API}/customers/{cid}/contact-preferences",
            headers=bearer(token),
            json={"channel": "email", "allow": True, "method": "oral"},
        ),
        403,
        "token_purpose_not_allowed",
    )
    assert c.get(url).json() == before  # nothing recorded
    # withdrawals of 要配慮 consent and do-not-contact are never blocked by a token's purposes
    r = anon.post(
        f"{API}/customers/{cid}/contact-preferences",
        headers=bearer(token),
        json={"channel": "email", "method": "oral"},
    )
    assert r.status_code == 201, r.text
    # the session (no token) is not limited by purposes
    r = c.post(
        url,
        headers={"X-CSRF-Token": csrf},
        json={"action": "grant", "purpose": "marketing-email", "method": "checkbox"},
    )
    assert r.status_code == 201, r.text


def test_the_token_purpose_refusal_echoes_no_input(api):
    c, csrf = api.client("support")
    cid = create(c, csrf)
    token = own_token(
        api.rt, "support", api.secrets["support"], ApiTokenCreate(name="crm", purposes=["contract"])
    ).token
    anon, _ = api.client()
    probe = "zz-echo-probe-purpose"
    r = anon.get(f"{API}/customers/{cid}", headers={**bearer(token), "Mamori-Purpose": probe})
    problem(r, 403, "token_purpose_not_allowed", "R-23-2")
    assert probe not in r.text and cid not in r.text
    en = anon.get(
        f"{API}/customers/{cid}", headers={**bearer(token), "Mamori-Purpose": probe, "Accept-Language": "en"}
    )
    assert probe not in en.text and "not allowed for the declared purpose" in en.text
