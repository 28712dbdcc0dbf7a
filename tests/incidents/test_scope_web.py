"""The incident page's scope section (issue 22 "Deliver" 2; R-26-1, R-26-7) without a browser: the fragment, the
forms (audit log by session, ids, estimate, remove), bad input, CSRF, roles. Reads are made through the web app
by a real sign-in. Synthetic data."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from mamori.kernel.runtime import Runtime
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.incidents.support import new_incident
from tests.incidents.test_scope import actor, subjects
from tests.incidents.test_scope_api import _newest_session
from tests.web.test_customers_pages import open_for, page_headers

HTMX = {"HX-Request": "true"}
JST = ZoneInfo("Asia/Tokyo")
PERSONAL = ("山田", "ヤマダ", "example.jp", "090-", "渋谷", "150-0001", "1985")


def _no_values(text: str) -> None:
    text = re.sub(r"[0-9A-Za-z_-]{16,}", "<token>", text)
    for value in PERSONAL:
        assert value not in text, value


def test_a_web_sessions_reads_become_the_scope_through_the_form(runtime: Runtime) -> None:
    api = Api(runtime)
    sato = actor(runtime, "sato")
    a, b = (make_customer(runtime, sato, email=f"w{i}@example.jp") for i in range(2))
    incident = new_incident(runtime, actor(runtime, "po"))
    web, web_csrf = api.client("sato")
    session_id = _newest_session(runtime, api.ids["sato"])
    since = runtime.clock.now()
    runtime.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    assert open_for(web, web_csrf, a, "contract").status_code == 200
    until = runtime.clock.now() + timedelta(minutes=1)
    runtime.clock.advance(timedelta(minutes=3))  # type: ignore[attr-defined]
    assert open_for(web, web_csrf, b, "contract").status_code == 200  # after the window

    po, csrf = api.client("po")
    base = f"/incidents/{incident.id}/scope"
    r = po.get(base)
    assert r.status_code == 200, r.text
    page_headers(r)
    assert "まだ範囲が登録されていません" in r.text and 'id="scope-form-audit"' in r.text
    local = {
        "since": since.astimezone(JST).replace(tzinfo=None).isoformat(),
        "until": until.astimezone(JST).replace(tzinfo=None).isoformat(),
    }
    form = {"csrf": csrf, "actor_kind": "session", "actor_ref": session_id, **local}
    r = po.post(f"{base}/audit", data=form, headers=HTMX)
    assert r.status_code == 200, r.text
    assert "範囲を登録しました: 1 人" in r.text and '<dd id="scope-persons">1</dd>' in r.text
    assert "<code>name</code>" in r.text and "識別子" in r.text and "監査ログ" in r.text
    _no_values(r.text)
    assert set(subjects(runtime, incident.id)) == {a}
    r = po.post(f"{base}/estimate", data={"csrf": csrf, "maximum": "1500", "fields": "emails"}, headers=HTMX)
    assert r.status_code == 200 and '<dd id="scope-maximum">1500</dd>' in r.text
    r = po.post(f"{base}/ids", data={"csrf": csrf, "ids": f"{b}\n{'z' * 32}", "fields": "name"}, headers=HTMX)
    assert r.status_code == 422 and "見つからない顧客IDが 1 件" in r.text and b not in r.text
    r = po.post(f"{base}/ids", data={"csrf": csrf, "ids": b, "fields": "name, kana"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/incidents/{incident.id}#scope"
    assert set(subjects(runtime, incident.id)) == {a, b}
    r = po.get(base, params={"lang": "en"})
    assert "People by item" in r.text and "Add from the audit log" in r.text
    (scope_id,) = re.findall(r'<tr id="scope-([0-9a-f]{32})">\s*<td>list of customer ids', r.text)
    r = po.post(f"{base}/remove", data={"csrf": csrf, "scope_id": scope_id}, headers=HTMX)
    assert r.status_code == 200 and "範囲を取り除きました" in r.text
    assert set(subjects(runtime, incident.id)) == {a}


def test_bad_input_csrf_and_roles(runtime: Runtime) -> None:
    api = Api(runtime)
    incident = new_incident(runtime, actor(runtime, "po"))
    base = f"/incidents/{incident.id}/scope"
    po, csrf = api.client("po")
    r = po.post(
        f"{base}/audit",
        data={"csrf": csrf, "actor_kind": "username", "actor_ref": "sato", "since": "soon", "until": "later"},
        headers=HTMX,
    )
    assert r.status_code == 422 and "soon" not in r.text
    r = po.post(f"{base}/estimate", data={"csrf": csrf, "maximum": "0", "fields": "name"})
    assert r.status_code == 422
    r = po.post(f"{base}/guess", data={"csrf": csrf})
    assert r.status_code == 404
    r = po.post(f"{base}/estimate", data={"maximum": "5", "fields": "name"})  # no CSRF token
    assert r.status_code == 403
    assert po.get(base).text.count("まだ範囲が登録されていません") == 1  # nothing written
    sato, sato_csrf = api.client("sato")
    r = sato.get(base)
    assert r.status_code == 403 and 'id="scope-form-audit"' not in r.text
    r = sato.post(f"{base}/estimate", data={"csrf": sato_csrf, "maximum": "5", "fields": "name"})
    assert r.status_code == 403
    assert runtime.audit.search(action="incident.scope", decision="deny", limit=1)
    admin, _ = api.client("admin")
    r = admin.get(base)  # the board's readers see the scope, without the forms
    assert r.status_code == 200 and 'id="scope-form-audit"' not in r.text and "取り除く" not in r.text
