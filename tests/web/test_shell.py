"""The web app's shell without a browser: headers, sign-in, CSRF, language, static files served by the app."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.api.conftest import Api
from tests.staff.helpers import PASSWORD, code_now


@pytest.fixture
def api(runtime):
    return Api(runtime)


def test_pages_carry_a_strict_csp_and_no_store(api):
    c, _ = api.client()
    r = c.get("/sign-in")
    assert r.status_code == 200 and "サインイン" in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["cache-control"] == "no-store" and r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text and 'style="' not in r.text  # nothing inline for the CSP to allow


def test_home_needs_a_session_and_shows_the_role_in_words(api):
    anon, _ = api.client()
    r = anon.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sign-in"
    c, csrf = api.client("po")  # signed in through the API: the same server-side session
    r = c.get("/")
    assert r.status_code == 200 and "個人情報保護管理者" in r.text and "privacy_officer" not in r.text
    assert f'name="mamori-csrf" content="{csrf}"' in r.text
    assert 'name="mamori-idle-seconds" content="1800"' in r.text  # MAMORI_SESSION_IDLE_MINUTES default 30


def test_sign_in_form_sets_the_session_and_failures_say_one_thing(api):
    c, _ = api.client()
    bad = c.post("/sign-in", data={"username": "po", "password": "wrong", "totp": "000000"})
    assert bad.status_code == 401 and "ユーザー名、パスワード又は確認コードが正しくありません" in bad.text
    unknown = c.post("/sign-in", data={"username": "nobody", "password": "wrong", "totp": "000000"})
    assert unknown.status_code == 401 and unknown.text == bad.text  # no user enumeration
    cross = c.post(
        "/sign-in",
        data={"username": "po", "password": PASSWORD, "totp": "000000"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    api.rt.clock.advance(timedelta(seconds=30))
    ok = c.post(
        "/sign-in",
        data={"username": "po", "password": PASSWORD, "totp": code_now(api.rt, api.secrets["po"])},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    cookie = ok.headers["set-cookie"]
    assert cookie.startswith("__Host-mamori_session=") and "HttpOnly" in cookie and "Secure" in cookie
    assert "samesite=strict" in cookie.lower()
    assert c.get("/").status_code == 200


def test_sign_out_needs_the_csrf_token(api):
    c, csrf = api.client("sato")
    refused = c.post("/sign-out", data={})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert c.get("/").status_code == 200  # still signed in
    done = c.post("/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert c.get("/", follow_redirects=False).status_code == 303  # the server ended the session


def test_the_session_idles_out_on_the_server(api):
    c, _ = api.client("support")
    assert c.get("/").status_code == 200
    api.rt.clock.advance(timedelta(minutes=31))
    assert c.get("/", follow_redirects=False).status_code == 303  # refused by the server, not only the page


def test_language_switch_and_bad_input(api):
    c, _ = api.client("po")
    r = c.post("/lang", data={"lang": "en", "next": "/"}, follow_redirects=False)
    assert r.status_code == 303 and "mamori_lang=en" in r.headers["set-cookie"]
    assert "Privacy officer" in c.get("/").text
    assert c.post("/lang", data={"lang": "fr", "next": "/"}).status_code == 422
    off_site = c.post("/lang", data={"lang": "ja", "next": "//evil.example/"}, follow_redirects=False)
    assert off_site.headers["location"] == "/"  # no open redirect


def test_browser_code_and_docs_come_from_the_app(api):
    c, _ = api.client()
    htmx = c.get("/static/htmx/htmx.min.js")
    assert htmx.status_code == 200 and "htmx" in htmx.text[:2000]
    assert c.get("/static/mamori/mamori.js").status_code == 200
    docs = c.get("/docs")
    assert docs.status_code == 200
    srcs = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert srcs and all(s.startswith("/static/") for s in srcs)  # no CDN
    assert c.get("/static/swagger/swagger-ui-bundle.js").status_code == 200


def test_home_shows_each_role_what_its_services_allow(api):
    po, csrf = api.client("po")
    r = po.post(
        "/api/v1/rights",
        headers={"X-CSRF-Token": csrf},
        json={"kind": "disclosure", "channel": "letter", "emails": ["someone@example.jp"]},
    )
    assert r.status_code == 201, r.text
    receipt = r.json()["receipt_no"]
    api.rt.clock.advance(timedelta(days=15))  # past the 14-day service level (R-39-1)
    po, _ = api.client("po")
    home = po.get("/").text
    assert "期限超過: 1件" in home and receipt in home and "開示" in home
    assert "委託先の監査（期限超過）" in home  # the privacy officer oversees outsourcees (R-25-1)
    sales, _ = api.client("sato")
    mine = sales.get("/").text
    assert "h-requests" not in mine and receipt not in mine  # not a sales rep's board (R-23-2)


def test_home_opens_my_customers_for_a_purpose_chosen_first(api):
    from tests.factories import make_customer

    mine = make_customer(api.rt, api_actor(api, "sato"), name="山田 太郎", email="taro.home@example.jp")
    theirs = make_customer(api.rt, api_actor(api, "suzuki"), name="川口 次郎", email="jiro.home@example.jp")
    sales, _ = api.client("sato")
    home = sales.get("/").text
    assert "担当の顧客" in home and 'action="/customers"' in home and 'name="purpose"' in home
    listed = sales.get("/customers?purpose=contract")
    assert listed.status_code == 200
    assert f"/customers/{mine}" in listed.text and f"/customers/{theirs}" not in listed.text  # own scope only
    analyst, _ = api.client("analyst")
    assert "h-mine" not in analyst.get("/").text  # an analyst reads no customer one by one (R-23-2)


def api_actor(api, username):
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.staff import service as staff_service

    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)
