"""The staff administration screens of the staff web app (issue 15) without a browser: the list in words, add
(with a generated password shown once), disable / enable and reset 2FA behind a confirmation, API tokens issued
(the token on the creation response only) and revoked.

Each page: the happy path, the roles that may not (sales rep, privacy officer: 403 in words, nothing changed), bad
input (422 in words, nothing written), a write without its CSRF token refused and changing nothing, CSP and
no-store, staff named in URLs by their opaque id only.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service
from mamori.staff.models import StaffApiToken, StaffSession
from tests.api.conftest import Api


@pytest.fixture
def api(runtime):
    return Api(runtime)


def page_headers(r) -> None:
    assert r.headers["cache-control"] == "no-store"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in r.text and 'style="' not in r.text


def staff(api, username):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return next(u for u in service.list_staff(ctx) if u.username == username)


def staff_count(api) -> int:
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return len(service.list_staff(ctx))


def tokens(api):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return list(ctx.session.execute(select(StaffApiToken)).scalars())


def live_sessions(api, staff_id) -> int:
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        rows = ctx.session.execute(select(StaffSession).where(StaffSession.staff_id == staff_id)).scalars()
        return sum(1 for r in rows if r.revoked_at is None)


def service_account(api, username="crm") -> str:
    """Issue 17: an administrator issues tokens to a machine client's service account only (never to a person)."""
    from mamori.kernel.context import Role
    from mamori.staff.schemas import ServiceAccountCreate

    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        return service.add_service(
            ctx, ServiceAccountCreate(username=username, display_name="CRM 連携", role=Role.SUPPORT)
        ).id


def issue(api, c, csrf, staff_id, **over):
    body = {"csrf": csrf, "name": "crm-sync", "purposes": "contract, support", "expires_in_days": "30"}
    body.update(over)
    return c.post(f"/staff/{staff_id}/tokens", data=body)


# -- sign-in and the list ---------------------------------------------------------------------------------------------


def test_every_staff_page_needs_a_session(api):
    anon, _ = api.client()
    sid = api.ids["sato"]
    for method, path in [
        ("GET", "/staff"),
        ("GET", "/staff/new"),
        ("POST", "/staff/new"),
        ("GET", f"/staff/{sid}"),
        ("POST", f"/staff/{sid}/disable"),
        ("POST", f"/staff/{sid}/enable"),
        ("POST", f"/staff/{sid}/reset-2fa"),
        ("POST", f"/staff/{sid}/tokens"),
        ("POST", f"/staff/tokens/{'0' * 32}/revoke"),
    ]:
        r = anon.request(method, path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/sign-in", (method, path)


def test_the_list_in_words_with_opaque_links(api):
    c, _ = api.client("admin")
    r = c.get("/staff")
    assert r.status_code == 200, r.text
    page_headers(r)
    assert "担当者の管理" in r.text
    assert "営業担当者" in r.text and "個人情報保護管理者" in r.text and "システム管理者" in r.text
    assert "登録済み" in r.text and "有効" in r.text
    links = re.findall(r'href="(/staff/[^"]+)"', r.text)
    assert f"/staff/{api.ids['sato']}" in links
    assert all(
        re.fullmatch(r"/staff/(new|me/tokens|[0-9a-f]{32})", link) for link in links
    )  # never a user name
    en, _ = api.client("admin")
    en.cookies.set("mamori_lang", "en")
    assert "Sales rep" in en.get("/staff").text


def test_locked_and_not_enrolled_are_shown(api):
    from tests.staff.helpers import make_staff

    make_staff(api.rt, "newbie", mfa=False)
    c, _ = api.client("admin")  # (signing in moves the test clock on)
    anon, _ = api.client()
    for _ in range(10):  # the 10th failure locks the account for a while
        anon.post("/sign-in", data={"username": "sato", "password": "wrong", "totp": "000000"})
    text = c.get("/staff").text
    assert "未登録（次回サインイン時に登録）" in text
    assert "までロック中" in text


@pytest.mark.parametrize("who", ["sato", "po"])
def test_other_roles_are_refused_every_page_and_nothing_changes(api, who):
    c, csrf = api.client(who)
    target = api.ids["support"]
    before = (staff_count(api), staff(api, "support"), len(tokens(api)), live_sessions(api, target))
    checks = [
        c.get("/staff"),
        c.get("/staff/new"),
        c.post(
            "/staff/new", data={"csrf": csrf, "username": "intruder", "display_name": "x", "role": "admin"}
        ),
        c.get(f"/staff/{target}"),
        c.post(f"/staff/{target}/disable", data={"csrf": csrf, "confirm": "1"}),
        c.post(f"/staff/{target}/disable", data={"csrf": csrf}),
        c.post(f"/staff/{target}/enable", data={"csrf": csrf}),
        c.post(f"/staff/{target}/reset-2fa", data={"csrf": csrf, "confirm": "1"}),
        issue(api, c, csrf, target),
    ]
    for r in checks:
        assert r.status_code == 403, (r.request.url, r.status_code)
        page_headers(r)
        assert (
            "権限では、この操作はできません" in r.text and "R-23-2" in r.text
        )  # the role in words, not its code
        assert "staff.manage" not in r.text and "Traceback" not in r.text
    assert (staff_count(api), staff(api, "support"), len(tokens(api)), live_sessions(api, target)) == before


def test_revoke_is_refused_for_other_roles(api):
    admin, admin_csrf = api.client("admin")
    issued = issue(api, admin, admin_csrf, service_account(api))
    assert issued.status_code == 201
    token_id = tokens(api)[0].id
    for who in ("sato", "po"):
        c, csrf = api.client(who)
        for body in ({"csrf": csrf}, {"csrf": csrf, "confirm": "1"}):
            r = c.post(f"/staff/tokens/{token_id}/revoke", data=body)
            assert r.status_code == 403 and "権限では" in r.text
    assert tokens(api)[0].revoked_at is None


# -- add ------------------------------------------------------------------------------------------------------------


def test_add_with_a_generated_password_shown_once(api):
    c, csrf = api.client("admin")
    form = c.get("/staff/new")
    assert form.status_code == 200 and 'name="role"' in form.text and "コールセンター担当者" in form.text
    assert '<option value="system"' not in form.text and '<option value="person"' not in form.text
    r = c.post(
        "/staff/new",
        data={"csrf": csrf, "username": "kimura", "display_name": "木村 花子", "role": "support", "team": ""},
    )
    assert r.status_code == 201, r.text
    page_headers(r)
    m = re.search(r'id="generated-password">([^<]+)<', r.text)
    assert m, r.text
    password = m.group(1)
    user = staff(api, "kimura")
    assert user.role.value == "support" and user.active and user.password_set and not user.mfa_enrolled
    assert user.display_name == "木村 花子"
    assert password not in c.get(f"/staff/{user.id}").text and password not in c.get("/staff").text
    # the generated password works: the right password leads to the enrolment page (support must use 2FA)
    anon, _ = api.client()
    enrol = anon.post("/sign-in", data={"username": "kimura", "password": password})
    assert enrol.status_code == 200 and "二要素認証の登録" in enrol.text


def test_add_with_a_typed_password_does_not_echo_it(api):
    c, csrf = api.client("admin")
    r = c.post(
        "/staff/new",
        data={
            "csrf": csrf,
            "username": "mori",
            "display_name": "森",
            "role": "analyst",
            "password": "a long enough passphrase",
        },
    )
    assert r.status_code == 201 and "a long enough passphrase" not in r.text
    assert "入力した初期パスワードを設定しました" in r.text
    anon, _ = api.client()  # an analyst needs no second factor: signed in at once
    ok = anon.post(
        "/sign-in", data={"username": "mori", "password": "a long enough passphrase"}, follow_redirects=False
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/"


@pytest.mark.parametrize(
    ("over", "word"),
    [
        ({"username": ""}, "ユーザー名"),
        ({"username": "Not Valid"}, "ユーザー名"),
        ({"role": "system"}, "役割"),
        ({"role": "wizard"}, "役割"),
        ({"role": ""}, "役割"),
    ],
)
def test_add_bad_input_is_422_in_words_and_writes_nothing(api, over, word):
    c, csrf = api.client("admin")
    before = staff_count(api)
    body = {"csrf": csrf, "username": "kimura", "display_name": "木村", "role": "support"}
    body.update(over)
    r = c.post("/staff/new", data=body)
    assert r.status_code == 422, r.text
    page_headers(r)
    assert "入力内容" in r.text and word in r.text
    if over.get("username"):
        assert over["username"] not in r.text  # the value is never echoed
    assert staff_count(api) == before


def test_add_weak_password_or_existing_user_is_refused_and_writes_nothing(api):
    c, csrf = api.client("admin")
    before = staff_count(api)
    weak = c.post(
        "/staff/new",
        data={
            "csrf": csrf,
            "username": "kimura",
            "display_name": "木村",
            "role": "support",
            "password": "short",
        },
    )
    assert weak.status_code == 422 and "8 文字以上" in weak.text and "short" not in weak.text
    exists = c.post(
        "/staff/new", data={"csrf": csrf, "username": "sato", "display_name": "x", "role": "sales"}
    )
    assert exists.status_code == 409 and "既に存在します" in exists.text
    assert staff_count(api) == before  # the weak password rolled the account back too


def test_add_without_csrf_is_refused_and_writes_nothing(api):
    c, _ = api.client("admin")
    before = staff_count(api)
    body = {"username": "kimura", "display_name": "木村", "role": "support"}
    assert c.post("/staff/new", data=body).status_code == 403
    assert c.post("/staff/new", data={**body, "csrf": "forged"}).status_code == 403
    cross = c.post(
        "/staff/new", data={**body, "csrf": api.client("admin")[1]}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status_code == 403
    assert staff_count(api) == before


# -- disable / enable / reset 2FA -------------------------------------------------------------------------------------


def test_disable_asks_first_then_disables_and_ends_sessions(api):
    sato, _ = api.client("sato")
    c, csrf = api.client("admin")
    sid = api.ids["sato"]
    ask = c.post(f"/staff/{sid}/disable", data={"csrf": csrf})
    assert (
        ask.status_code == 200 and "アカウントの無効化" in ask.text and 'name="confirm" value="1"' in ask.text
    )
    assert f'action="/staff/{sid}/disable"' in ask.text and f'href="/staff/{sid}"' in ask.text
    assert staff(api, "sato").active  # the question changes nothing
    done = c.post(f"/staff/{sid}/disable", data={"csrf": csrf, "confirm": "1"})
    assert done.status_code == 200 and "無効にしました" in done.text
    assert not staff(api, "sato").active and live_sessions(api, sid) == 0
    assert sato.get("/", follow_redirects=False).status_code == 303  # their session is over
    again = c.post(f"/staff/{sid}/enable", data={"csrf": csrf})
    assert again.status_code == 200 and "有効に戻しました" in again.text and staff(api, "sato").active


def test_disable_and_enable_without_csrf_change_nothing(api):
    c, csrf = api.client("admin")
    sid = api.ids["sato"]
    assert c.post(f"/staff/{sid}/disable", data={"confirm": "1"}).status_code == 403
    assert staff(api, "sato").active
    c.post(f"/staff/{sid}/disable", data={"csrf": csrf, "confirm": "1"})
    assert c.post(f"/staff/{sid}/enable", data={}).status_code == 403
    assert not staff(api, "sato").active


def test_an_admin_cannot_disable_themselves(api):
    c, csrf = api.client("admin")
    me = api.ids["admin"]
    assert 'action="/staff/' + me + '/disable"' not in c.get(f"/staff/{me}").text
    r = c.post(f"/staff/{me}/disable", data={"csrf": csrf, "confirm": "1"})
    assert r.status_code == 409 and "自分自身" in r.text
    assert staff(api, "admin").active


def test_reset_2fa_asks_first_then_resets_and_ends_sessions(api):
    support, _ = api.client("support")
    c, csrf = api.client("admin")
    sid = api.ids["support"]
    ask = c.post(f"/staff/{sid}/reset-2fa", data={"csrf": csrf})
    assert ask.status_code == 200 and "二要素認証のリセット" in ask.text
    assert f'action="/staff/{sid}/reset-2fa"' in ask.text
    assert staff(api, "support").mfa_enrolled
    assert c.post(f"/staff/{sid}/reset-2fa", data={"confirm": "1"}).status_code == 403  # no CSRF token
    assert staff(api, "support").mfa_enrolled and live_sessions(api, sid) == 1
    done = c.post(f"/staff/{sid}/reset-2fa", data={"csrf": csrf, "confirm": "1"})
    assert done.status_code == 200 and "二要素認証をリセットしました" in done.text
    assert not staff(api, "support").mfa_enrolled and live_sessions(api, sid) == 0
    assert support.get("/", follow_redirects=False).status_code == 303


def test_unknown_or_malformed_ids_are_404(api):
    c, csrf = api.client("admin")
    assert c.get(f"/staff/{'0' * 32}").status_code == 404
    assert c.get("/staff/sato").status_code == 404  # a user name is not an id
    assert c.post(f"/staff/{'0' * 32}/disable", data={"csrf": csrf, "confirm": "1"}).status_code == 404
    assert c.post(f"/staff/tokens/{'0' * 32}/revoke", data={"csrf": csrf, "confirm": "1"}).status_code == 404


# -- API tokens -------------------------------------------------------------------------------------------------------


def test_token_is_shown_once_then_listed_without_it_and_revoked(api):
    c, csrf = api.client("admin")
    sid = service_account(api)
    r = issue(api, c, csrf, sid)
    assert r.status_code == 201, r.text
    page_headers(r)
    m = re.search(r'id="api-token">(mamori_[^<]+)<', r.text)
    assert m
    token = m.group(1)
    assert "<code>contract</code>" in r.text and "<code>support</code>" in r.text
    row = tokens(api)[0]
    assert row.purposes == "contract,support" and row.token_hash != token
    page = c.get(f"/staff/{sid}")
    assert "crm-sync" in page.text and token not in page.text  # never shown again
    assert token not in c.get("/staff").text
    # the token works for the API
    bearer, _ = api.client()
    ok = bearer.get(
        "/api/v1/purposes", headers={"Authorization": f"Bearer {token}", "Mamori-Purpose": "support"}
    )
    assert ok.status_code == 200, ok.text
    ask = c.post(f"/staff/tokens/{row.id}/revoke", data={"csrf": csrf})
    assert ask.status_code == 200 and "API トークンの失効" in ask.text and token not in ask.text
    assert f'action="/staff/tokens/{row.id}/revoke"' in ask.text and f'href="/staff/{sid}"' in ask.text
    assert tokens(api)[0].revoked_at is None
    assert c.post(f"/staff/tokens/{row.id}/revoke", data={"confirm": "1"}).status_code == 403  # no CSRF
    assert tokens(api)[0].revoked_at is None
    done = c.post(f"/staff/tokens/{row.id}/revoke", data={"csrf": csrf, "confirm": "1"})
    assert done.status_code == 200 and "失効させました" in done.text
    assert tokens(api)[0].revoked_at is not None
    refused = bearer.get(
        "/api/v1/purposes", headers={"Authorization": f"Bearer {token}", "Mamori-Purpose": "support"}
    )
    assert refused.status_code == 401


@pytest.mark.parametrize(
    "over",
    [
        {"name": ""},
        {"name": "名前"},
        {"purposes": "Not A Code!"},
        {"expires_in_days": "0"},
        {"role": "system"},
    ],
)
def test_token_bad_input_is_422_and_issues_nothing(api, over):
    c, csrf = api.client("admin")
    r = issue(api, c, csrf, service_account(api), **over)
    assert r.status_code == 422, r.text
    assert "入力内容" in r.text and "mamori_" not in r.text
    assert tokens(api) == []


def test_token_without_csrf_issues_nothing(api):
    c, _ = api.client("admin")
    r = c.post(f"/staff/{api.ids['support']}/tokens", data={"name": "crm-sync"})
    assert r.status_code == 403 and "mamori_" not in r.text
    assert tokens(api) == []
