"""The consent and do-not-contact screens of the staff web app (issue 15) without a browser.

``/consent`` (the stop-use lists and the way to one customer by id), ``/consent/suppressions/…`` (one list) and
``/consent/customers/{id}`` (consent per purpose, 要配慮 consent, do-not-contact per channel, stop of use, the
ledger) with their forms. Each: the happy path through the same service as the API and the CLI, an unauthorized
role, bad input (422 / 404 in Japanese), a write without its CSRF token refused and changing nothing, nothing
personal in any URL, CSP and no-store, and the audit entries.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote, unquote

import pytest

from mamori.consent import service as consent_service
from mamori.kernel.context import SYSTEM_ACTOR, Actor, ActorKind
from tests.api.conftest import USERS, Api
from tests.factories import make_customer

NAME, KANA, EMAIL, PHONE = "山田 花子", "ヤマダ ハナコ", "hanako@example.jp", "090-1111-2222"
PERSONAL = [NAME, KANA, EMAIL, PHONE, "hanako", "ハナコ", "花子", "09011112222", "+819011112222"]
HREF = re.compile(r'(?:href|action|hx-post|hx-get|src)="([^"]*)"')
JST_MIDNIGHT_2028_07_16 = datetime(2028, 7, 15, 15, 0, tzinfo=UTC)  # R-R8-4's statutory latest 施行日


@pytest.fixture
def api(runtime):
    return Api(runtime)


def _actor(api, username):
    role, team = USERS[username]
    return Actor(kind=ActorKind.STAFF, id=api.ids[username], name=username, role=role, team=team)


@pytest.fixture
def cid(api):
    """sato's customer, notified of contract and marketing-email (consent needed)."""
    return make_customer(api.rt, _actor(api, "sato"), name=NAME, kana=KANA, email=EMAIL, phone=PHONE)


def ledger(api, customer_id):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return consent_service.show(ctx, customer_id)


def no_personal_url(r) -> None:
    """No personal value in a link, form target or redirect of the response (raw or percent-encoded)."""
    urls = HREF.findall(r.text)
    if "location" in r.headers:
        urls.append(r.headers["location"])
    for url in urls:
        for v in PERSONAL:
            assert v not in unquote(url) and quote(v) not in url, url
    assert not any(v in str(r.url) for v in PERSONAL)


def page_headers(r) -> None:
    assert r.headers["cache-control"] == "no-store"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in r.text and 'style="' not in r.text
    assert "Traceback" not in r.text


def audited(api, action, customer_id, since=0):
    return [e for e in api.rt.audit.tail(2000)[since:] if e.action == action and customer_id in e.subject_ids]


def post(c, url, csrf, **data):
    return c.post(url, data={"csrf": csrf, **data}, follow_redirects=False)


# -- sign-in ----------------------------------------------------------------------------------------------------------


def test_every_consent_page_needs_a_session(api):
    anon, _ = api.client()
    cid = "0" * 32
    for method, path in [
        ("GET", "/consent"),
        ("POST", "/consent/open"),
        ("GET", "/consent/suppressions/all"),
        ("GET", "/consent/suppressions/purpose/contract"),
        ("POST", "/consent/suppressions"),
        ("GET", f"/consent/customers/{cid}"),
        ("POST", f"/consent/customers/{cid}/purposes"),
        ("POST", f"/consent/customers/{cid}/sensitive"),
        ("POST", f"/consent/customers/{cid}/contact"),
        ("POST", f"/consent/customers/{cid}/suppression"),
    ]:
        r = anon.request(method, path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/sign-in", (method, path)


# -- the overview -------------------------------------------------------------------------------------------------------


def test_the_overview_opens_a_customer_by_id_in_a_post_body(api, cid):
    c, csrf = api.client("sato")
    r = c.get("/consent")
    assert r.status_code == 200 and "同意・連絡停止" in r.text and "利用停止の一覧" in r.text
    assert 'method="post" action="/consent/open"' in r.text and 'name="customer_id"' in r.text
    assert "利用停止を記録" not in r.text  # a sales rep may not stop use (RIGHTS_MANAGE): no form offered
    page_headers(r)
    opened = post(c, "/consent/open", csrf, customer_id=f"  {cid.upper()} ")
    assert opened.status_code == 303 and opened.headers["location"] == f"/consent/customers/{cid}"
    no_personal_url(opened)
    bad = post(c, "/consent/open", csrf, customer_id=NAME)  # a name is not an id (and is not echoed)
    assert bad.status_code == 422 and "32桁" in bad.text and NAME not in bad.text
    page_headers(bad)
    assert post(c, "/consent/open", csrf, customer_id="a" * 5000).status_code == 422
    no_token = c.post("/consent/open", data={"customer_id": cid}, follow_redirects=False)
    assert no_token.status_code == 403 and "CSRF" in no_token.text


def test_the_overview_for_the_privacy_officer_and_support_and_in_english(api):
    po, _ = api.client("po")
    r = po.get("/consent")
    assert r.status_code == 200 and "利用停止を記録" in r.text and 'action="/consent/suppressions"' in r.text
    assert "利用を停止している顧客はいません" in r.text
    support, _ = api.client("support")
    assert support.get("/consent").status_code == 200
    po.post("/lang", data={"lang": "en", "next": "/consent"})
    en = po.get("/consent")
    assert en.status_code == 200 and "Stop-of-use lists" in en.text and "Open a customer" in en.text


def test_the_customer_page_in_english(api, cid):
    c, _ = api.client("sato")
    c.post("/lang", data={"lang": "en", "next": f"/consent/customers/{cid}"})
    r = c.get(f"/consent/customers/{cid}")
    assert r.status_code == 200 and 'lang="en"' in r.text
    for words in ("Consent by purpose", "Not asked", "Do not contact", "Record consent", "The ledger"):
        assert words in r.text, words


@pytest.mark.parametrize("username", ["analyst", "admin"])
def test_an_analyst_or_admin_is_refused_the_consent_pages_in_words(api, cid, username):
    c, csrf = api.client(username)
    before = len(api.rt.audit.tail(2000))
    for r in (c.get("/consent"), c.get(f"/consent/customers/{cid}"), c.get("/consent/suppressions/all")):
        assert r.status_code == 403 and "R-23-2" in r.text and "権限では、この操作はできません" in r.text
        assert NAME not in r.text
        page_headers(r)
    write = post(
        c,
        f"/consent/customers/{cid}/purposes",
        csrf,
        action="grant",
        purpose="marketing-email",
        method="oral",
    )
    assert write.status_code == 403 and "R-23-2" in write.text
    dnc = post(c, f"/consent/customers/{cid}/contact", csrf, channel="phone")
    assert dnc.status_code == 403
    assert ledger(api, cid).events == []
    denials = [e for e in api.rt.audit.tail(2000)[before:] if e.decision == "deny"]
    assert any(cid in e.subject_ids and "R-23-2" in e.rule_ids for e in denials)


# -- one customer -----------------------------------------------------------------------------------------------------------


def test_the_customer_page_shows_each_purpose_and_channel_with_the_id_only(api, cid):
    c, _ = api.client("sato")
    r = c.get(f"/consent/customers/{cid}")
    assert r.status_code == 200, r.text
    page_headers(r)
    no_personal_url(r)
    assert cid in r.text and f'href="/customers/{cid}"' in r.text  # the name is on the customer page
    for v in PERSONAL:
        assert v not in r.text  # no purpose declared here: the service gives ids and codes only
    assert "契約の履行" in r.text and "未取得" in r.text  # every purpose, not asked yet
    for word in (
        "電話",
        "メール",
        "郵便",
        "ショートメッセージ（SMS）",
        "訪問",
    ):  # every channel the service takes
        assert word in r.text
    assert "記録はまだありません" in r.text
    assert audited(api, "consent.read", cid)  # the read is audited like the API's


def test_grant_and_withdraw_through_the_page_are_in_the_ledger_and_the_audit_log(api, cid):
    c, csrf = api.client("sato")
    url = f"/consent/customers/{cid}/purposes"
    r = post(c, url, csrf, action="grant", purpose="marketing-email", method="checkbox", evidence="form-123")
    assert r.status_code == 200, r.text
    assert "記録しました" in r.text and "同意あり" in r.text and "チェックボックス" in r.text
    assert "form-123" in r.text and re.search(r"\d{4}年\d{1,2}月\d{1,2}日", r.text)
    page_headers(r)
    no_personal_url(r)
    assert ledger(api, cid).purposes == {"marketing-email": "granted"}
    [entry] = audited(api, "consent.granted", cid)
    assert entry.fields == ("purpose:marketing-email",) and "R-CNS-1" in entry.rule_ids
    w = post(c, url, csrf, action="withdraw", purpose="marketing-email", method="oral")
    assert w.status_code == 200 and "撤回済み" in w.text
    assert ledger(api, cid).purposes == {"marketing-email": "withdrawn"}
    assert any("G-7" in e.rule_ids for e in audited(api, "consent.withdrawn", cid))
    # the withdrawal holds at once: the customer can no longer be read for marketing-email
    s = c.get(f"/api/v1/customers/{cid}", headers={"Mamori-Purpose": "marketing-email"})
    assert s.status_code == 403


def test_do_not_contact_and_allow_per_channel(api, cid):
    c, csrf = api.client("support")
    url = f"/consent/customers/{cid}/contact"
    r = post(c, url, csrf, channel="phone")
    assert r.status_code == 200 and "連絡停止" in r.text and "連絡を再開する（電話）" in r.text
    no_personal_url(r)
    assert ledger(api, cid).do_not_contact == ["phone"]
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert not consent_service.may_contact(ctx, cid, "phone")
        assert consent_service.may_contact(ctx, cid, "email")
    assert audited(api, "consent.opt_out", cid)
    back = post(c, url, csrf, channel="phone", allow="1")
    assert back.status_code == 200 and "連絡停止にする（電話）" in back.text
    assert ledger(api, cid).do_not_contact == []
    assert audited(api, "consent.opt_in", cid)


def test_consent_to_acquiring_sensitive_data_and_its_withdrawal(api, cid):
    c, csrf = api.client("sato")
    url = f"/consent/customers/{cid}/sensitive"
    r = post(c, url, csrf, action="grant", method="paper", evidence="doc-7")
    assert r.status_code == 200 and "書面" in r.text
    assert ledger(api, cid).sensitive == "granted"
    assert any("R-20-2" in e.rule_ids for e in audited(api, "consent.granted", cid))
    w = post(c, url, csrf, action="withdraw", method="oral")
    assert w.status_code == 200 and ledger(api, cid).sensitive == "withdrawn"


def test_a_childs_consent_without_a_guardian_is_refused_with_its_rule(api):
    api.rt.clock.at = JST_MIDNIGHT_2028_07_16
    child = make_customer(api.rt, _actor(api, "sato"), birth_date="2015-04-01", email="kodomo@example.jp")
    c, csrf = api.client("sato")
    url = f"/consent/customers/{child}/purposes"
    r = post(c, url, csrf, action="grant", purpose="marketing-email", method="paper")
    assert r.status_code == 422 and "R-R8-4" in r.text and "法定代理人" in r.text and "2015" not in r.text
    page_headers(r)
    assert ledger(api, child).events == []
    bad = post(c, url, csrf, action="grant", purpose="marketing-email", method="paper", guardian="uncle")
    assert bad.status_code == 422 and ledger(api, child).events == []
    ok = post(c, url, csrf, action="grant", purpose="marketing-email", method="paper", guardian="parent")
    assert ok.status_code == 200 and "親権者" in ok.text
    assert [e.guardian for e in ledger(api, child).events] == ["parent"]


def test_htmx_gets_the_message_and_the_state_out_of_band_and_refusals_as_a_fragment(api, cid):
    c, csrf = api.client("sato")
    page = c.get(f"/consent/customers/{cid}")
    assert f'hx-post="/consent/customers/{cid}/contact"' in page.text and 'id="consent-message"' in page.text
    h = {"HX-Request": "true"}
    r = c.post(f"/consent/customers/{cid}/contact", data={"csrf": csrf, "channel": "email"}, headers=h)
    assert r.status_code == 200 and "<html" not in r.text
    assert 'id="consent-state" hx-swap-oob="true"' in r.text and "記録しました" in r.text
    page_headers(r)
    bad = c.post(f"/consent/customers/{cid}/contact", data={"csrf": csrf, "channel": "fax"}, headers=h)
    assert bad.status_code == 422 and 'id="failure"' in bad.text and "<html" not in bad.text


def test_another_reps_customer_is_the_same_404_as_an_unknown_one_and_nothing_changes(api, cid):
    suzuki, csrf = api.client("suzuki")
    unknown_id = "f" * 32
    theirs, unknown = suzuki.get(f"/consent/customers/{cid}"), suzuki.get(f"/consent/customers/{unknown_id}")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.text.replace(cid, "ID") == unknown.text.replace(unknown_id, "ID")
    assert "R-23-2" not in theirs.text and NAME not in theirs.text
    page_headers(theirs)
    for path, data in [
        ("purposes", {"action": "grant", "purpose": "marketing-email", "method": "oral"}),
        ("purposes", {"action": "withdraw", "purpose": "contract", "method": "oral"}),
        ("sensitive", {"action": "grant", "method": "oral"}),
        ("contact", {"channel": "phone"}),
    ]:
        r = post(suzuki, f"/consent/customers/{cid}/{path}", csrf, **data)
        assert r.status_code == 404 and "見つかりません" in r.text, path
    assert ledger(api, cid).events == []
    denials = [e for e in api.rt.audit.tail(50) if e.decision == "deny" and cid in e.subject_ids]
    assert denials and all("R-23-2" in e.rule_ids for e in denials)
    # the overview counts only the rep's own customers
    po, _ = api.client("po")
    with api.rt.transaction(_actor(api, "po")) as ctx:
        consent_service.suppress(ctx, cid, "all", None, "REQ-1")
    assert "利用を停止している顧客はいません" in suzuki.get("/consent").text
    assert "1人" in po.get("/consent").text


def test_bad_input_is_a_japanese_422_or_404_page_and_changes_nothing(api, cid):
    c, csrf = api.client("sato")
    base = f"/consent/customers/{cid}"
    cases = [
        ("contact", {"channel": "fax"}, "連絡手段を選択肢から選んでください"),
        ("contact", {"channel": "phone", "allow": "yes"}, "操作を選択肢から選んでください"),
        ("purposes", {"action": "grant", "purpose": "no-such-purpose", "method": "oral"}, "利用目的を選択肢"),
        ("purposes", {"action": "grant", "purpose": "Bad Code!", "method": "oral"}, "利用目的を選択肢"),
        ("purposes", {"action": "delete", "purpose": "contract", "method": "oral"}, "操作を選択肢"),
        ("purposes", {"action": "grant", "purpose": "contract", "method": "telepathy"}, "方法を選択肢"),
        ("sensitive", {"action": "grant", "method": "oral", "evidence": "あ" * 201}, "入力内容を確認"),
        ("sensitive", {"action": "grant", "method": "oral", "evidence": "あ" * 300}, "入力が長すぎます"),
        ("suppression", {"scope": "everything", "reference": "REQ-1"}, "停止の範囲を選択肢"),
    ]
    for path, data, words in cases:
        r = post(c, f"{base}/{path}", csrf, **data)
        assert r.status_code == 422 and words in r.text, (path, data, r.text)
        assert "あああ" not in r.text and "telepathy" not in r.text and "fax" not in r.text
        page_headers(r)
    for bad_id in ("not-an-id", "A" * 32, "0" * 31):
        assert c.get(f"/consent/customers/{bad_id}").status_code == 404
        assert post(c, f"/consent/customers/{bad_id}/contact", csrf, channel="phone").status_code == 404
    assert c.get("/consent/suppressions/everything").status_code == 404
    assert c.get("/consent/suppressions/purpose/Bad!").status_code == 404
    assert ledger(api, cid).events == []


def test_writes_without_the_csrf_token_are_refused_and_the_ledger_is_unchanged(api, cid):
    c, csrf = api.client("po")
    before = len(api.rt.audit.tail(2000))
    writes = [
        (
            f"/consent/customers/{cid}/purposes",
            {"action": "grant", "purpose": "marketing-email", "method": "oral"},
        ),
        (f"/consent/customers/{cid}/sensitive", {"action": "grant", "method": "oral"}),
        (f"/consent/customers/{cid}/contact", {"channel": "phone"}),
        (f"/consent/customers/{cid}/suppression", {"scope": "all", "reference": "REQ-1"}),
        ("/consent/suppressions", {"customer_id": cid, "scope": "all", "reference": "REQ-1"}),
    ]
    for url, data in writes:
        r = c.post(url, data=data, follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text, url
        page_headers(r)
        wrong = c.post(url, data={**data, "csrf": "x" * 40}, follow_redirects=False)
        assert wrong.status_code == 403, url
        cross = c.post(url, data={**data, "csrf": csrf}, headers={"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403, url
    assert ledger(api, cid).events == []
    assert not any(
        e.action.startswith("consent.")
        and e.decision == "allow"
        and cid in e.subject_ids
        and e.action != "consent.read"
        for e in api.rt.audit.tail(2000)[before:]
    )


# -- stop of use (利用停止, R-35-1) ---------------------------------------------------------------------------------------


def test_the_privacy_officer_adds_and_lifts_a_stop_from_the_overview_and_the_list(api, cid):
    c, csrf = api.client("po")
    r = post(
        c,
        "/consent/suppressions",
        csrf,
        customer_id=cid,
        scope="purpose",
        purpose="marketing-email",
        reference="REQ-42",
    )
    assert r.status_code == 200, r.text
    assert "利用停止を記録しました" in r.text and cid in r.text and "REQ-42" in r.text
    assert f'href="/consent/customers/{cid}"' in r.text
    page_headers(r)
    no_personal_url(r)
    assert ledger(api, cid).suppressed == ["marketing-email"]
    assert any("R-35-1" in e.rule_ids for e in audited(api, "consent.suppression.stopped", cid))
    overview = c.get("/consent")
    assert 'href="/consent/suppressions/purpose/marketing-email"' in overview.text and "1人" in overview.text
    listed = c.get("/consent/suppressions/purpose/marketing-email")
    assert listed.status_code == 200 and cid in listed.text
    assert any(cid in e.subject_ids for e in api.rt.audit.tail(5) if e.action == "consent.read")
    lifted = post(
        c,
        "/consent/suppressions",
        csrf,
        customer_id=cid,
        action="resume",
        scope="purpose",
        purpose="marketing-email",
        reference="REQ-43",
    )
    assert lifted.status_code == 200 and "利用再開を記録しました" in lifted.text
    assert "この範囲で利用を停止している顧客はいません" in lifted.text
    assert ledger(api, cid).suppressed == []
    assert audited(api, "consent.suppression.resumed", cid)
    unknown = post(c, "/consent/suppressions", csrf, customer_id="e" * 32, scope="all", reference="REQ-44")
    assert unknown.status_code == 404
    empty_ref = post(c, "/consent/suppressions", csrf, customer_id=cid, scope="all", reference="  ")
    assert empty_ref.status_code == 422 and "請求の参照" in empty_ref.text
    bad_id = post(c, "/consent/suppressions", csrf, customer_id="x", scope="all", reference="REQ-45")
    assert bad_id.status_code == 422
    unknown_purpose = post(
        c,
        "/consent/suppressions",
        csrf,
        customer_id=cid,
        scope="purpose",
        purpose="no-such-purpose",
        reference="REQ-46",
    )
    assert unknown_purpose.status_code == 404 and ledger(api, cid).events[-1].action == "resumed"


def test_stop_and_resume_all_use_from_the_customer_page(api, cid):
    c, csrf = api.client("po")
    url = f"/consent/customers/{cid}/suppression"
    r = post(c, url, csrf, scope="all", reference="REQ-9")
    assert r.status_code == 200 and "すべての利用" in r.text and "利用を再開する" in r.text
    assert ledger(api, cid).suppressed == ["*"]
    assert "1人" in c.get("/consent").text and cid in c.get("/consent/suppressions/all").text
    sales, csrf2 = api.client("sato")  # the owner may see the stop but not lift it (RIGHTS_MANAGE)
    page = sales.get(f"/consent/customers/{cid}")
    assert (
        "すべての利用" in page.text and 'action="/consent/customers/' + cid + '/suppression"' not in page.text
    )
    refused = post(sales, url, csrf2, action="resume", scope="all", reference="REQ-10")
    assert refused.status_code == 403 and "R-23-2" in refused.text and "営業担当者" in refused.text
    assert ledger(api, cid).suppressed == ["*"]
    back = post(c, url, csrf, action="resume", scope="all", reference="REQ-11")
    assert back.status_code == 200 and ledger(api, cid).suppressed == []
    assert "利用停止はありません" in back.text


def test_the_customer_page_loads_the_consent_summary_read_only(api, cid):
    c, csrf = api.client("support")
    assert post(c, f"/consent/customers/{cid}/contact", csrf, channel="phone").status_code == 200
    r = c.get(f"/consent/customers/{cid}/summary", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text
    page_headers(r)
    assert "電話" in r.text and 'id="consent-summary-dnc"' in r.text
    assert "<form" not in r.text  # read only: the forms stay on the consent page
    assert NAME not in r.text and EMAIL not in r.text
    assert audited(api, "consent.read", cid)
    suzuki, _ = api.client("suzuki")  # another rep's customer: the same 404 fragment as an unknown one
    theirs = suzuki.get(f"/consent/customers/{cid}/summary", headers={"HX-Request": "true"})
    unknown = suzuki.get(f"/consent/customers/{'f' * 32}/summary", headers={"HX-Request": "true"})
    assert theirs.status_code == unknown.status_code == 404 and "<html" not in theirs.text
    analyst, _ = api.client("analyst")
    assert analyst.get(f"/consent/customers/{cid}/summary").status_code == 403
    assert c.get("/consent/customers/not-an-id/summary").status_code == 404
