"""The monitoring web pages (issue 25 "Deliver" 1 and 2): the queue with its tabs and filter, an alert with the
entries behind it and the forms 確認中にする / 対応不要 / 事案として登録, 「今すぐ評価」, the thresholds page — bad
input 422 without the value, a write without the CSRF token refused, other roles and one's own alert refused with
R-23-2. No customer's value on any page."""

from __future__ import annotations

import re

from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.runtime import Runtime
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.monitoring.alert_support import alert_row, entries_of, insert_alert, read_customer

NAME, PHONE = "監視 試験四郎", "090-8642-1357"


def actor(rt: Runtime, username: str) -> Actor:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


def _no_value(text: str, cid: str) -> None:
    assert NAME not in text and PHONE not in text and cid not in text


def test_the_officer_works_the_queue_and_an_alert(api: Api):
    rt = api.rt
    sato = actor(rt, "sato")
    cid = make_customer(rt, sato, name=NAME, phone=PHONE, email="web@example.jp")
    read_customer(rt, sato, cid)
    seqs = [e.seq for e in entries_of(rt, sato, "customer.read")]
    first = insert_alert(rt, sato.label, seqs=seqs)
    second = insert_alert(rt, sato.label, signal="off_hours", severity="medium", observed=30, threshold=20)
    c, csrf = api.client("po")
    home = c.get("/")
    assert 'href="/monitoring"' in home.text and "監視アラート" in home.text
    page = c.get("/monitoring")
    assert page.status_code == 200
    assert page.text.index("ALT-0002") < page.text.index("ALT-0001")  # newest first
    assert "未対応（2）" in page.text and "対応不要（0）" in page.text
    assert 'class="badge severity-high overdue"' in page.text
    filtered = c.get("/monitoring", params={"signal": "off_hours"})
    assert "ALT-0002" in filtered.text and "ALT-0001" not in filtered.text
    detail = c.get(f"/monitoring/alerts/{first}")
    assert detail.status_code == 200
    assert 'id="alert-entries"' in detail.text and f"<td>{seqs[0]}</td>" in detail.text
    assert "顧客情報の閲覧" in detail.text and "本人の通常" in detail.text
    assert 'id="look-form"' in detail.text and 'id="dismiss-form"' in detail.text
    for text in (page.text, detail.text):
        _no_value(text, cid)
    r = c.post(f"/monitoring/alerts/{first}/look", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/monitoring/alerts/{first}"
    looked = c.get(r.headers["location"])
    assert 'id="alert-status">確認中' in looked.text and 'id="look-form"' not in looked.text
    r = c.post(
        f"/monitoring/alerts/{first}/dismiss",
        data={"csrf": csrf, "reason": "business_need", "note": "月次の確認作業"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    done = c.get(r.headers["location"])
    assert 'id="alert-status">対応不要' in done.text and "業務上必要" in done.text
    assert 'id="dismiss-form"' not in done.text
    r = c.post(
        f"/monitoring/alerts/{second}/incident", data={"csrf": csrf, "title": ""}, follow_redirects=False
    )
    assert r.status_code == 303
    opened = c.get(r.headers["location"])
    link = re.search(r'href="(/incidents/[0-9a-f]{32})" id="alert-incident"', opened.text)
    assert link is not None and c.get(link.group(1)).status_code == 200
    tabs = c.get("/monitoring", params={"status": "dismissed"})
    assert "ALT-0001" in tabs.text and "ALT-0002" not in tabs.text and "対応不要（1）" in tabs.text


def test_bad_input_and_a_missing_csrf_token_change_nothing(api: Api):
    alert_id = insert_alert(api.rt, actor(api.rt, "sato").label)
    c, csrf = api.client("po")
    r = c.post(f"/monitoring/alerts/{alert_id}/dismiss", data={"reason": "false_positive"})
    assert r.status_code == 403
    r = c.post(f"/monitoring/alerts/{alert_id}/dismiss", data={"csrf": csrf, "reason": "boredom"})
    assert r.status_code == 422 and "boredom" not in r.text and 'id="alert-errors"' in r.text
    r = c.post(
        f"/monitoring/alerts/{alert_id}/dismiss",
        data={"csrf": csrf, "reason": "other", "note": f"{NAME}さんに確認"},
    )
    assert r.status_code == 422 and NAME not in r.text and 'id="alert-failure"' in r.text
    r = c.post(f"/monitoring/alerts/{alert_id}/dismiss", data={"csrf": csrf, "reason": "other"})
    assert r.status_code == 422 and "メモを書いてください" in r.text
    assert c.get("/monitoring/alerts/ALT-9999").status_code == 404
    assert c.get("/monitoring/alerts/..%2Fsecret").status_code == 404
    assert alert_row(api.rt, alert_id).status == "new"


def test_other_roles_and_ones_own_alert_are_refused(api: Api):
    alert_id = insert_alert(api.rt, actor(api.rt, "sato").label)
    own = insert_alert(api.rt, f"staff:{api.ids['po']}", role="privacy_officer")
    for who in ("sato", "analyst", "admin"):
        c, csrf = api.client(who)
        assert 'href="/monitoring"' not in c.get("/").text
        page = c.get("/monitoring")
        assert page.status_code == 403 and "R-23-2" in page.text and "ALT-0001" not in page.text
        assert c.get(f"/monitoring/alerts/{alert_id}").status_code == 403
        r = c.post(f"/monitoring/alerts/{alert_id}/look", data={"csrf": csrf})
        assert r.status_code == 403 and "R-23-2" in r.text
        assert c.get("/monitoring/settings").status_code == 403
    c, csrf = api.client("po")
    page = c.get(f"/monitoring/alerts/{own}")
    assert 'id="own-alert"' in page.text and 'id="dismiss-form"' not in page.text
    r = c.post(f"/monitoring/alerts/{own}/dismiss", data={"csrf": csrf, "reason": "business_need"})
    assert r.status_code == 403 and "R-23-2" in r.text
    assert alert_row(api.rt, own).status == "new" and alert_row(api.rt, alert_id).status == "new"


def test_the_thresholds_page_and_evaluate_now(api: Api):
    c, csrf = api.client("po")
    page = c.get("/monitoring/settings")
    assert page.status_code == 200 and 'id="form-denials"' in page.text and "拒否の連続" in page.text
    r = c.post(
        "/monitoring/settings/signals/denials",
        data={"csrf": csrf, "enabled": "1", "threshold": "4", "severity": "medium"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/monitoring/settings?saved=denials"
    saved = c.get(r.headers["location"])
    assert 'id="saved"' in saved.text
    assert 'value="4" size="8" form="form-denials" id="threshold-denials"' in saved.text
    r = c.post("/monitoring/settings/signals/denials", data={"csrf": csrf, "threshold": "たくさん"})
    assert r.status_code == 422 and "たくさん" not in r.text
    off = c.post(
        "/monitoring/settings/signals/off_hours",
        data={"csrf": csrf, "threshold": "20", "severity": "low"},
        follow_redirects=False,
    )
    assert off.status_code == 303
    boxes = re.findall(
        r'<input type="checkbox"[^>]*id="enabled-([a-z_]+)"[^>]*>', c.get("/monitoring/settings").text
    )
    switched = re.findall(
        r'<input type="checkbox"[^>]*id="enabled-([a-z_]+)"[^>]*checked>', c.get("/monitoring/settings").text
    )
    assert "off_hours" in boxes and "off_hours" not in switched and "denials" in switched  # switched off
    r = c.post(
        "/monitoring/settings",
        data={
            "csrf": csrf,
            "hours_start": "9",
            "hours_end": "18",
            "review_interval_months": "",
            "unused_days": "",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert 'name="hours_start" min="0" max="23" value="9"' in c.get("/monitoring/settings").text
    bad = c.post("/monitoring/settings", data={"csrf": csrf, "hours_start": "20", "hours_end": "8"})
    assert bad.status_code == 422
    assert c.post("/monitoring/settings/signals/gossip", data={"csrf": csrf}).status_code == 404
    r = c.post("/monitoring/evaluate", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/monitoring?raised=")
    assert 'id="evaluated"' in c.get(r.headers["location"]).text
