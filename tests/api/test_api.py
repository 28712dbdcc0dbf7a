"""The REST API end to end (in-process ASGI): auth, problem+json, purpose header, BOLA, ETag, CSRF, tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.staff.helpers import PASSWORD

API = "/api/v1"
NEW = {
    "customer": {
        "name": "山田 花子",
        "kana": "ヤマダ ハナコ",
        "emails": ["hanako@example.jp"],
        "phones": ["090-1111-2222"],
        "address": "東京都渋谷区神宮前1-2-3",
        "birth_date": "1990-04-01",
    },
    "provenance": {"method": "direct", "channel": "web_form", "notice_version": "n-2026"},
    "purposes": ["contract", "marketing-email"],
}


def create(client, csrf, body=NEW) -> str:
    r = client.post(f"{API}/customers", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def problem(r, status, code=None, rule=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    if code:
        assert body["code"] == code
    if rule:
        assert body["rule_id"] == rule
    return body


def test_unauthenticated_requests_get_401_problem(api):
    c, _ = api.client()
    for method, path in [
        ("GET", f"{API}/customers"),
        ("GET", f"{API}/purposes"),
        ("GET", f"{API}/audit"),
        ("POST", f"{API}/customers"),
        ("GET", f"{API}/staff"),
        ("GET", f"{API}/auth/me"),
    ]:
        problem(
            c.request(method, path, headers={"Mamori-Purpose": "contract"}, json={}), 401, "unauthenticated"
        )


def test_sign_in_failures_look_the_same(api):
    c, _ = api.client()
    wrong = c.post(
        f"{API}/auth/sign-in", json={"username": "sato", "password": "wrong password!", "totp": "000000"}
    )
    unknown = c.post(
        f"{API}/auth/sign-in", json={"username": "ghost", "password": "wrong password!", "totp": "000000"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    missing = c.post(f"{API}/auth/sign-in", json={"password": PASSWORD})
    body = problem(missing, 422, "invalid_input")
    assert PASSWORD not in missing.text and "input" not in body["errors"][0]


def test_customer_read_needs_purpose_and_is_masked_and_no_store(api):
    c, csrf = api.client("sato")
    cid = create(c, csrf)
    problem(c.get(f"{API}/customers/{cid}"), 422, "invalid_input")  # no Mamori-Purpose header
    r = c.get(f"{API}/customers/{cid}", headers={"Mamori-Purpose": "contract"})
    assert r.status_code == 200 and r.json()["name"] == "山田 花子"
    assert r.headers["cache-control"] == "no-store" and r.headers["etag"] == '"v1"'
    problem(
        c.get(f"{API}/customers/{cid}", headers={"Mamori-Purpose": "marketing-email"}),
        403,
        "consent_missing",
        "R-18-1",
    )
    problem(
        c.get(f"{API}/customers/{cid}", headers={"Mamori-Purpose": "health-service"}),
        403,
        "purpose_not_notified",
        "R-21-1",
    )
    r = c.post(
        f"{API}/customers/{cid}/consents",
        headers={"X-CSRF-Token": csrf},
        json={"action": "grant", "purpose": "marketing-email", "method": "checkbox"},
    )
    assert r.status_code == 201, r.text
    r = c.get(f"{API}/customers/{cid}", headers={"Mamori-Purpose": "marketing-email"})
    assert r.status_code == 200 and r.json()["birth_date"] is None and "birth_date" in r.json()["masked"]
    en = c.get(
        f"{API}/customers/{cid}", headers={"Mamori-Purpose": "health-service", "Accept-Language": "en"}
    )
    assert "not notified" in en.json()["detail"]


def test_sales_rep_cannot_reach_another_reps_customer_by_id(api):
    sato, csrf = api.client("sato")
    cid = create(sato, csrf)
    suzuki, csrf2 = api.client("suzuki")
    problem(suzuki.get(f"{API}/customers/{cid}", headers={"Mamori-Purpose": "contract"}), 404)
    r = suzuki.patch(
        f"{API}/customers/{cid}",
        json={"occupation": "x"},
        headers={"Mamori-Purpose": "contract", "If-Match": '"v1"', "X-CSRF-Token": csrf2},
    )
    problem(r, 404)
    r = sato.get(f"{API}/customers/{cid}", headers={"Mamori-Purpose": "contract"})
    assert r.json()["occupation"] is None and r.json()["version"] == 1
    denial = api.rt.audit.tail(5)
    assert any(e.decision == "deny" and "R-23-2" in e.rule_ids and cid in e.subject_ids for e in denial)


def test_update_needs_if_match_and_refuses_stale_versions(api):
    c, csrf = api.client("sato")
    cid = create(c, csrf)
    h = {"Mamori-Purpose": "contract", "X-CSRF-Token": csrf}
    problem(c.patch(f"{API}/customers/{cid}", json={"occupation": "教員"}, headers=h), 428)
    r = c.patch(f"{API}/customers/{cid}", json={"occupation": "教員"}, headers={**h, "If-Match": '"v1"'})
    assert r.status_code == 200 and r.headers["etag"] == '"v2"'
    problem(
        c.patch(f"{API}/customers/{cid}", json={"occupation": "医師"}, headers={**h, "If-Match": '"v1"'}),
        412,
        "version_conflict",
    )
    assert (
        c.get(f"{API}/customers/{cid}", headers={"Mamori-Purpose": "contract"}).json()["occupation"] == "教員"
    )


def test_csrf_required_for_cookie_writes_and_cross_site_refused(api):
    c, csrf = api.client("sato")
    problem(c.post(f"{API}/customers", json=NEW), 403, "csrf_rejected")
    problem(c.post(f"{API}/customers", json=NEW, headers={"X-CSRF-Token": "0" * 64}), 403, "csrf_rejected")
    problem(
        c.post(f"{API}/customers", json=NEW, headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"}),
        403,
        "csrf_rejected",
    )
    r = c.get(f"{API}/customers", headers={"Mamori-Purpose": "contract"})
    assert r.json()["items"] == []


def test_validation_errors_never_echo_values(api):
    c, csrf = api.client("sato")
    body = {**NEW, "customer": {**NEW["customer"], "emails": ["leak-me-if-you-can"]}}
    r = c.post(f"{API}/customers", json=body, headers={"X-CSRF-Token": csrf})
    problem(r, 422, "invalid_input")
    assert "leak-me-if-you-can" not in r.text


def test_find_list_activities(api):
    c, csrf = api.client("support")
    cid = create(c, csrf)
    h = {"Mamori-Purpose": "contract"}
    r = c.post(f"{API}/customers/find", json={"kana": "やまだ はなこ"}, headers={**h, "X-CSRF-Token": csrf})
    assert [i["id"] for i in r.json()["items"]] == [cid]
    r = c.post(
        f"{API}/customers/{cid}/activities",
        json={"kind": "call", "body": "配送日の確認"},
        headers={**h, "X-CSRF-Token": csrf},
    )
    assert r.status_code == 201
    acts = c.get(f"{API}/customers/{cid}/activities", headers=h).json()
    assert [a["body"] for a in acts] == ["配送日の確認"]
    page = c.get(f"{API}/customers?limit=1", headers=h).json()
    assert len(page["items"]) == 1
    problem(c.get(f"{API}/customers?limit=0", headers=h), 422)
    problem(c.get(f"{API}/customers/not-an-id", headers=h), 422)


def test_sign_out_revokes_and_idle_timeout(api):
    c, csrf = api.client("po")
    assert c.get(f"{API}/auth/me").status_code == 200
    cookie = c.cookies.get("__Host-mamori_session")
    assert c.post(f"{API}/auth/sign-out", headers={"X-CSRF-Token": csrf}).status_code == 204
    c.cookies.set("__Host-mamori_session", cookie, domain="testserver")
    problem(c.get(f"{API}/auth/me"), 401)
    c2, _ = api.client("po")
    api.rt.clock.advance(timedelta(minutes=31))
    problem(c2.get(f"{API}/auth/me"), 401)


def test_api_token_is_limited_to_its_purposes(api):
    from mamori.staff.schemas import ApiTokenCreate
    from tests.staff.helpers import own_token

    c, csrf = api.client("support")
    cid = create(c, csrf)
    issued = own_token(
        api.rt, "support", api.secrets["support"], ApiTokenCreate(name="crm-sync", purposes=["contract"])
    )
    bearer, _ = api.client()
    h = {"Authorization": f"Bearer {issued.token}"}
    assert (
        bearer.get(f"{API}/customers/{cid}", headers={**h, "Mamori-Purpose": "contract"}).status_code == 200
    )
    problem(
        bearer.get(f"{API}/customers/{cid}", headers={**h, "Mamori-Purpose": "marketing-email"}),
        403,
        "token_purpose_not_allowed",
    )
    problem(
        bearer.get(
            f"{API}/customers/{cid}",
            headers={"Authorization": "Bearer mamori_wrong", "Mamori-Purpose": "contract"},
        ),
        401,
    )


def test_openapi_is_complete(api):
    c, _ = api.client()
    spec = c.get("/openapi.json").json()
    paths = spec["paths"]
    for p in (
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/find",
        "/api/v1/purposes",
        "/api/v1/audit",
        "/api/v1/staff",
        "/api/v1/auth/sign-in",
    ):
        assert p in paths
    get = paths["/api/v1/customers/{customer_id}"]["get"]
    assert any(prm["name"] == "Mamori-Purpose" and prm["in"] == "header" for prm in get["parameters"])
    assert "403" in get["responses"] and "404" in get["responses"]
    assert c.get("/docs").status_code == 200


def test_reads_are_not_blocked_by_an_open_write_transaction(api, backend):
    """GET requests run in deferred read transactions: on SQLite (WAL) a writer holding the lock must not make
    readers queue into the busy timeout (which used to turn concurrent reads into errors)."""
    if backend != "sqlite":
        pytest.skip("the write lock is SQLite's")
    import time

    from sqlalchemy import text

    c, csrf = api.client("sato")
    cid = create(c, csrf)
    with api.rt.sessions() as writer:  # BEGIN IMMEDIATE: holds the write lock until the block ends
        writer.execute(text("UPDATE customers SET version = version WHERE id = :id"), {"id": cid})
        start = time.monotonic()
        r = c.get(f"{API}/customers/{cid}", headers={"Mamori-Purpose": "contract"})
        elapsed = time.monotonic() - start
        writer.rollback()
    assert r.status_code == 200
    assert elapsed < 2.0
