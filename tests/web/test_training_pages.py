"""The 研修・誓約 page (R-23-3, issue 21) without a browser.

Everyone sees their own status and signs the pledge; the privacy officer and the admin also see the courses, the
overdue list by user name, and the forms (record a completion, publish a pledge version, the policy switch). Each
write: the happy path, bad input (422 in words, nothing written, no value echoed), a role that may not (403 with
the rule id, nothing changed), a missing CSRF token refused. With the policy on, an untrained sales rep's customer
page is refused with R-23-3 until they are trained and have signed.
"""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service
from mamori.staff.schemas import CourseCreate, PledgePublish
from tests.api.conftest import Api

PAGE = "/staff/training"


@pytest.fixture
def api(runtime):
    a = Api(runtime)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        service.add_course(ctx, CourseCreate(code="basic", title="個人情報保護基礎研修", validity_days=365))
        service.publish_pledge(
            ctx, PledgePublish(title="秘密保持誓約書", body="業務上知り得た秘密を守ります。")
        )
    return a


def page_headers(r) -> None:
    assert r.headers["cache-control"] == "no-store"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in r.text and 'style="' not in r.text


def status(api, username):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return service.training._statuses(ctx, [_user(ctx, username)])[api.ids[username]]


def _user(ctx, username):
    from mamori.staff.models import StaffUser

    return ctx.session.get(
        StaffUser, dict(ctx.session.query(StaffUser.username, StaffUser.id).all())[username]
    )


def test_the_page_needs_a_session(api):
    anon, _ = api.client()
    for method, path in [("GET", PAGE), ("POST", PAGE + "/sign"), ("POST", PAGE + "/record")]:
        r = anon.request(method, path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/sign-in"


def test_everyone_sees_their_status_and_signs_the_pledge(api):
    c, csrf = api.client("sato")
    r = c.get(PAGE)
    assert r.status_code == 200, r.text
    page_headers(r)
    assert "研修・誓約" in r.text and "未受講" in r.text and "業務上知り得た秘密を守ります。" in r.text
    assert "誓約書に署名する" in r.text
    assert (
        "受講を記録する" not in r.text and "研修の必須化" not in r.text
    )  # the officer's forms are not shown
    assert c.post(PAGE + "/sign", data={"version": "1"}).status_code == 403  # no CSRF token
    assert status(api, "sato").signed_version is None
    r = c.post(PAGE + "/sign", data={"csrf": csrf, "version": "1"})
    assert r.status_code == 200 and "誓約書に署名しました。" in r.text and "この版に署名済みです。" in r.text
    assert status(api, "sato").signed_version == 1
    r = c.post(PAGE + "/sign", data={"csrf": csrf, "version": "x"})
    assert r.status_code == 422 and "Traceback" not in r.text


def test_officer_records_publishes_and_switches_the_policy(api):
    c, csrf = api.client("po")
    r = c.get(PAGE)
    assert r.status_code == 200
    assert "受講を記録する" in r.text and "<code>sato</code>" in r.text and "研修の必須化" in r.text
    r = c.post(
        PAGE + "/record", data={"csrf": csrf, "username": "sato", "course": "basic", "reference": "C-7"}
    )
    assert r.status_code == 201 and "受講を記録しました: sato" in r.text
    assert status(api, "sato").courses[0].state == "current"
    r = c.post(
        PAGE + "/courses",
        data={"csrf": csrf, "code": "phishing", "title": "標的型メール訓練", "validity_days": "180"},
    )
    assert r.status_code == 201 and "標的型メール訓練" in r.text
    r = c.post(PAGE + "/courses/phishing/retire", data={"csrf": csrf})
    assert r.status_code == 200 and "廃止しました: phishing" in r.text
    r = c.post(PAGE + "/pledges", data={"csrf": csrf, "title": "秘密保持誓約書", "body": "第2版の本文"})
    assert r.status_code == 201 and "第2版を公開しました" in r.text
    r = c.post(PAGE + "/policy", data={"csrf": csrf, "enforced": "1", "roles": ["sales", "support"]})
    assert r.status_code == 200 and "設定を保存しました。" in r.text
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        pol = service.policy(ctx)
    assert pol.enforced and [r.value for r in pol.roles] == ["sales", "support"]


def test_bad_input_is_422_in_words_and_writes_nothing(api):
    c, csrf = api.client("po")
    for path, data in [
        ("/record", {"username": "sato", "course": "basic", "reference": "山田太郎"}),
        ("/record", {"username": "sato", "course": "basic", "completed_on": "31/12/2026"}),
        ("/courses", {"code": "Bad Code", "title": "x", "validity_days": "10"}),
        ("/courses", {"code": "ok", "title": "x", "validity_days": "0"}),
        ("/pledges", {"title": "t", "body": "  "}),
        ("/policy", {"enforced": "1", "roles": ["admin"]}),
    ]:
        r = c.post(PAGE + path, data={"csrf": csrf, **data})
        assert r.status_code == 422, (path, r.status_code)
        assert "山田太郎" not in r.text and "Bad Code" not in r.text
    r = c.post(PAGE + "/record", data={"csrf": csrf, "username": "nobody", "course": "basic"})
    assert r.status_code == 404
    assert status(api, "sato").courses[0].state == "missing"


@pytest.mark.parametrize("who", ["sato", "support", "analyst"])
def test_other_roles_are_refused_the_officer_forms(api, who):
    c, csrf = api.client(who)
    for path, data in [
        ("/record", {"username": who, "course": "basic"}),
        ("/courses", {"code": "x", "title": "x", "validity_days": "10"}),
        ("/courses/basic/retire", {}),
        ("/pledges", {"title": "t", "body": "b"}),
        ("/policy", {"enforced": "1", "roles": ["sales"]}),
    ]:
        r = c.post(PAGE + path, data={"csrf": csrf, **data})
        assert r.status_code == 403 and "R-23-2" in r.text, path
    assert status(api, who).courses[0].state == "missing"
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert not service.policy(ctx).enforced and service.latest_pledge(ctx).version == 1


def test_the_gate_on_the_customer_page(api):
    sato, csrf = api.client("sato")
    r = sato.post(
        "/api/v1/customers",
        json={
            "customer": {"name": "山田 花子", "kana": "ヤマダ ハナコ"},
            "provenance": {"method": "direct", "channel": "web_form", "notice_version": "n-2026"},
            "purposes": ["contract"],
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    po, po_csrf = api.client("po")
    assert (
        po.post(PAGE + "/policy", data={"csrf": po_csrf, "enforced": "1", "roles": ["sales"]}).status_code
        == 200
    )
    sato.post(f"/customers/{cid}/open", data={"csrf": csrf, "purpose": "contract"}, follow_redirects=False)
    r = sato.get(f"/customers/{cid}")
    assert r.status_code == 403 and "R-23-3" in r.text and "山田" not in r.text
    assert "対応するまで個人データは表示されません。" in sato.get(PAGE).text
    po.post(PAGE + "/record", data={"csrf": po_csrf, "username": "sato", "course": "basic"})
    sato.post(PAGE + "/sign", data={"csrf": csrf, "version": "1"})
    sato.post(f"/customers/{cid}/open", data={"csrf": csrf, "purpose": "contract"}, follow_redirects=False)
    r = sato.get(f"/customers/{cid}")
    assert r.status_code == 200 and "山田" in r.text


def test_admin_sees_the_officer_forms_and_is_not_covered(api):
    c, _ = api.client("admin")
    r = c.get(PAGE)
    assert r.status_code == 200
    page_headers(r)
    assert "研修必須化の対象外" in r.text and "受講を記録する" in r.text and "誓約書を公開する" in r.text
    en, _ = api.client("sato")
    en.cookies.set("mamori_lang", "en")
    r = en.get(PAGE)
    assert "Training and pledge" in r.text and "Sign the pledge" in r.text
