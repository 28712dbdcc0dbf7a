"""The staff web app's pages for requests from the person (本人からの請求, issue 15).

The board (due-date order, 期限超過 / 3日以内 in words and colour), the request page and its actions as forms
(each calling the same service as the API), the intake; the refusals in plain Japanese with the rule id; the
disclosure downloaded, never stored; CSRF on every write; no personal value in any URL.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mamori.kernel.clock import JST
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.rights import service
from mamori.rights.schemas import RequestOpen
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.rights.helpers import last_code

A_EMAIL = "hanako.sato@example.jp"
A_PHONE = "090-1111-2222"


@pytest.fixture
def api(runtime):
    return Api(runtime)


@pytest.fixture
def person(api):
    return make_customer(api.rt, _actor(api, "po"), name="佐藤 花子", email=A_EMAIL, phone=A_PHONE)


def _actor(api, username):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        return staff_service.actor_for(s, username)


def _open(api, kind="disclosure", **extra):
    with api.rt.transaction(_actor(api, "po")) as ctx:
        return service.open_request(ctx, RequestOpen(kind=kind, channel="phone", emails=[A_EMAIL], **extra))


def _show(api, rid):
    with api.rt.transaction(_actor(api, "po")) as ctx:
        return service.show(ctx, rid)


def _identifier_id(html):
    found = re.search(r'name="identifier_id" value="([0-9a-f]{32})"', html)
    assert found, html
    return found.group(1)


def _no_personal_value_in(url):
    # the path's ids are random hex: look for the values themselves, not a fragment such as "090" that an id may hold
    # (an id may end the path, or be followed by "/" or the query: "/rights/<id>?done=opened")
    path = re.sub(r"/[0-9a-f]{32}(?=[/?#]|$)", "/<id>", str(url))
    for value in (A_EMAIL, "hanako", "090", "1111"):
        assert value not in path


def _page_headers(r):
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"


# -- the board ----------------------------------------------------------------------------------------------------


def test_board_shows_the_receipt_number_and_the_kind_in_words_R_39_1(api, person):
    v = _open(api)
    po, _ = api.client("po")
    r = po.get("/rights")
    assert r.status_code == 200, r.text
    _page_headers(r)
    assert v.receipt_no and re.fullmatch(r"R-2026-\d{6}", v.receipt_no)
    assert v.receipt_no in r.text
    assert f'href="/rights/{v.id}"' in r.text
    assert "開示" in r.text and "電話" in r.text and "個人情報保護法" in r.text
    assert "disclosure" not in r.text and ">phone<" not in r.text and ">appi<" not in r.text  # no raw code
    assert A_EMAIL not in r.text
    assert "余裕あり" in r.text


def test_board_shows_overdue_and_due_soon_in_words_and_colour(api, person):
    late = _open(api)
    api.rt.clock.advance(timedelta(days=12))
    soon = _open(api, kind="purpose_notice")  # received 12 days later: due within 14 days
    api.rt.clock.advance(timedelta(days=3))  # late: day 15 (overdue); soon: 11 days left
    api.rt.clock.advance(timedelta(days=9))  # soon: 2 days left
    po, _ = api.client("po")
    r = po.get("/rights")
    assert r.status_code == 200
    rows = r.text.split("<tr")
    late_row = next(row for row in rows if late.receipt_no in row)
    soon_row = next(row for row in rows if soon.receipt_no in row)
    assert 'class="overdue"' in late_row and "期限超過" in late_row
    assert 'class="soon"' in soon_row and "3日以内" in soon_row
    # by due date: the overdue one first
    assert r.text.index(late.receipt_no) < r.text.index(soon.receipt_no)


def test_board_toggle_includes_closed_requests(api, person):
    v = _open(api)
    po, csrf = api.client("po")
    r = po.post(
        f"/rights/{v.id}/refuse",
        data={
            "csrf": csrf,
            "ground": "identity_not_verified",
            "explanation": "ご本人からの請求と確認できませんでした",
        },
    )
    assert r.status_code == 200, r.text
    assert v.receipt_no not in po.get("/rights").text
    shown = po.get("/rights?closed=1")
    assert v.receipt_no in shown.text and "不対応（お断り）" in shown.text


# -- the whole workflow: intake, code, verification, disclosure as a download ----------------------------------


def test_intake_send_code_verify_and_fulfil_as_a_pdf_download_R_37_1_R_33_1(api, person):
    po, csrf = api.client("po")
    urls = []
    form = po.get("/rights/new")
    assert form.status_code == 200 and 'name="csrf"' in form.text
    _page_headers(form)
    r = po.post(
        "/rights/new",
        data={"csrf": csrf, "kind": "disclosure", "channel": "phone", "email": A_EMAIL},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    urls.append(location)
    rid = re.fullmatch(r"/rights/([0-9a-f]{32})\?done=opened", location).group(1)
    page = po.get(location)
    assert page.status_code == 200 and "受け付けました" in page.text
    assert "メールアドレス" in page.text and "未確認" in page.text
    assert A_EMAIL not in page.text  # the value is never shown
    ident = _identifier_id(page.text)
    sent = po.post(f"/rights/{rid}/send-code", data={"csrf": csrf, "identifier_id": ident})
    urls.append(sent.url)
    assert sent.status_code == 200 and "確認コードをメールで送りました" in sent.text
    code = last_code(api.rt, A_EMAIL)
    wrong = "000000" if code != "000000" else "111111"
    bad = po.post(
        f"/rights/{rid}/verify",
        data={"csrf": csrf, "method": "email_code", "identifier_id": ident, "code": wrong},
    )
    assert bad.status_code == 403 and "確認コードが一致しないか期限切れです（残り 4 回）" in bad.text
    assert "R-37-1" in bad.text and code not in bad.text
    ok = po.post(
        f"/rights/{rid}/verify",
        data={"csrf": csrf, "method": "email_code", "identifier_id": ident, "code": code},
    )
    assert ok.status_code == 200, ok.text
    assert "本人確認が済みました（対象の顧客 1人）" in ok.text and "確認済み" in ok.text
    assert "基本情報" in ok.text  # the scope form lists the categories held, in words
    for url in re.findall(r'(?:href|action)="([^"]+)"', ok.text):
        _no_personal_value_in(url)  # every link and form target: opaque ids only
        assert code not in url
    scoped = po.post(
        f"/rights/{rid}/scope", data={"csrf": csrf, "categories": ["customers:profile", "customers:contact"]}
    )
    assert scoped.status_code == 200 and "請求の範囲を絞りました" in scoped.text
    assert _show(api, rid).categories == ["customers:contact", "customers:profile"]
    bad_scope = po.post(f"/rights/{rid}/scope", data={"csrf": csrf})
    assert bad_scope.status_code == 422
    got = po.post(f"/rights/{rid}/fulfil", data={"csrf": csrf, "format": "pdf", "delivery": "electronic"})
    urls.append(got.url)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["cache-control"] == "no-store"
    assert got.content.startswith(b"%PDF")
    # a disclosure taken by staff is handed over by post (issue 18): open until the officer records the posting
    after = po.get(f"/rights/{rid}")
    assert "回答の郵送待ち" in after.text and "郵送で回答済みにする" in after.text
    assert _show(api, rid).status == "verified"
    today = api.rt.clock.now().astimezone(JST).date().isoformat()
    done = po.post(f"/rights/{rid}/posted", data={"csrf": csrf, "posted_on": today})
    assert done.status_code == 200, done.text
    urls.append(done.url)
    after = po.get(f"/rights/{rid}")
    assert "完了" in after.text and "対応済み" in after.text and "対応完了" in after.text
    assert _show(api, rid).status == "closed"
    for url in urls:
        _no_personal_value_in(url)
        assert code not in str(url)


def test_verification_by_health_insurance_card_shows_the_masking_guidance_R_37_1(api, person):
    v = _open(api, kind="purpose_notice")
    po, csrf = api.client("po")
    page = po.get(f"/rights/{v.id}")
    assert "健康保険証の場合" in page.text and "隠した状態" in page.text
    r = po.post(
        f"/rights/{v.id}/verify",
        data={
            "csrf": csrf,
            "method": "id_document",
            "customer_id": person,
            "document": "health_insurance_card",
        },
    )
    assert r.status_code == 200, r.text
    assert "本人確認が済みました" in r.text and "告知要求制限" in r.text
    bad = po.post(
        f"/rights/{v.id}/verify",
        data={"csrf": csrf, "method": "id_document", "customer_id": "x" * 5, "document": "passport"},
    )
    assert bad.status_code == 422 and "顧客番号" in bad.text and "R-37-1" in bad.text


def test_the_htmx_request_gets_the_fragment_only(api, person):
    v = _open(api)
    po, _ = api.client("po")
    r = po.get(f"/rights/{v.id}", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<div id="request">') and "<html" not in r.text
    _page_headers(r)


# -- refusals -----------------------------------------------------------------------------------------------------


def test_refusal_without_an_explanation_is_refused_and_changes_nothing_R_33_2(api, person):
    v = _open(api, kind="stop_use", stop_scope="all")
    before = _show(api, v.id)
    po, csrf = api.client("po")
    r = po.post(f"/rights/{v.id}/refuse", data={"csrf": csrf, "ground": "not_justified", "explanation": ""})
    assert r.status_code == 422, r.text
    assert "本人に伝える具体的な理由" in r.text and "法第36条" in r.text
    assert '<span class="rule">R-33-2</span>' in r.text
    after = _show(api, v.id)
    assert after.status == before.status != "closed" and len(after.events) == len(before.events)
    too_short = po.post(
        f"/rights/{v.id}/refuse", data={"csrf": csrf, "ground": "not_justified", "explanation": "理由"}
    )
    assert too_short.status_code == 422 and _show(api, v.id).status != "closed"


def test_a_gdpr_ground_is_not_offered_for_an_appi_request_and_posting_it_is_refused(api, person):
    v = _open(api, kind="erasure", regime="appi")
    po, csrf = api.client("po")
    page = po.get(f"/rights/{v.id}")
    offered = set(
        re.findall(
            r'<option value="([a-z_]+)">', page.text.split('id="refuse-ground"')[1].split("</select>")[0]
        )
    )
    assert offered == {"not_justified", "alternative_measure", "identity_not_verified"}
    assert "法第35条第2項" in page.text  # each ground with its article and the reason told
    assert "ご請求に理由があることが判明しなかった" in page.text
    before = _show(api, v.id)
    r = po.post(
        f"/rights/{v.id}/refuse",
        data={
            "csrf": csrf,
            "ground": "gdpr_legal_claims",
            "explanation": "法的請求の防御のために保存が必要です",
        },
    )
    assert r.status_code == 422, r.text
    assert "個人情報保護法の請求には使えない事由です" in r.text
    after = _show(api, v.id)
    assert after.status != "closed" and len(after.events) == len(before.events)


def test_service_refusals_are_shown_in_words_with_their_rule_ids(api, person):
    v = _open(api, kind="stop_use", stop_scope="all")
    po, csrf = api.client("po")
    fee = po.post(f"/rights/{v.id}/fee", data={"csrf": csrf, "yen": "500"})
    assert fee.status_code == 403 and "手数料を徴収できません" in fee.text and "R-38-1" in fee.text
    ext = po.post(f"/rights/{v.id}/extend", data={"csrf": csrf, "months": "1", "reason": "volume"})
    assert ext.status_code == 403 and "延長の制度はありません" in ext.text and "R-39-1" in ext.text
    bad = po.post(f"/rights/{v.id}/extend", data={"csrf": csrf, "months": "3", "reason": "volume"})
    assert bad.status_code == 422 and "Traceback" not in bad.text
    not_verified = po.post(f"/rights/{v.id}/fulfil", data={"csrf": csrf})
    assert not_verified.status_code == 403 and "本人確認が済んでいない" in not_verified.text
    assert _show(api, v.id).status != "closed"
    missing = po.get(f"/rights/{'0' * 32}")
    assert missing.status_code == 404 and "請求が見つかりません" in missing.text
    assert po.get("/rights/not-an-id").status_code == 404


def test_gdpr_request_can_be_extended_G_12(api, person):
    v = _open(api, kind="erasure", regime="gdpr")
    po, csrf = api.client("po")
    page = po.get(f"/rights/{v.id}")
    assert "回答期限の延長（GDPR）" in page.text
    assert "gdpr_legal_claims" in page.text and "not_justified" not in page.text
    r = po.post(f"/rights/{v.id}/extend", data={"csrf": csrf, "months": "2", "reason": "complexity"})
    assert r.status_code == 200, r.text
    assert "回答期限を" in r.text and "延長し" in r.text and "回答期限の延長" in r.text


def test_intake_bad_input_is_refused_in_words_without_echo(api):
    po, csrf = api.client("po")
    r = po.post(
        "/rights/new",
        data={"csrf": csrf, "kind": "bogus", "channel": "phone", "email": "secret-value@example.jp"},
    )
    assert r.status_code == 422
    assert "次のいずれかを指定してください" in r.text and "secret-value" not in r.text
    bad_email = po.post("/rights/new", data={"csrf": csrf, "kind": "disclosure", "email": "secret-value"})
    assert bad_email.status_code == 422
    assert "メールアドレスの形式が正しくありません" in bad_email.text and "secret-value" not in bad_email.text
    gdpr_only = po.post("/rights/new", data={"csrf": csrf, "kind": "portability", "regime": "appi"})
    assert gdpr_only.status_code == 422 and "GDPR の権利です" in gdpr_only.text and "G-12" in gdpr_only.text


# -- who may do what ------------------------------------------------------------------------------------------------


def test_sales_is_refused_on_every_request_page_and_action_R_23_2(api, person):
    v = _open(api)
    before = _show(api, v.id)
    sato, csrf = api.client("sato")
    routes = [
        ("GET", "/rights", None),
        ("GET", "/rights?closed=1", None),
        ("GET", f"/rights/{v.id}", None),
        ("POST", f"/rights/{v.id}/scope", {"categories": "customers:contact"}),
        ("POST", f"/rights/{v.id}/fulfil", {"format": "pdf", "delivery": "electronic"}),
        (
            "POST",
            f"/rights/{v.id}/refuse",
            {"ground": "identity_not_verified", "explanation": "確認できませんでした。"},
        ),
        ("POST", f"/rights/{v.id}/extend", {"months": "1", "reason": "volume"}),
        ("POST", f"/rights/{v.id}/fee", {"yen": "100"}),
        (
            "POST",
            f"/rights/{v.id}/verify",
            {"method": "id_document", "customer_id": person, "document": "passport"},
        ),
    ]
    for method, path, body in routes:
        data = {"csrf": csrf, **body} if body is not None else None
        r = sato.request(method, path, data=data)
        assert r.status_code == 403, (path, r.text)
        assert 'class="rule">R-23-2</' in r.text, path
        assert "営業担当者には" in r.text and "rights.manage" not in r.text and "「sales」" not in r.text
        assert v.receipt_no not in r.text
        _page_headers(r)
    after = _show(api, v.id)
    assert after.status == before.status and len(after.events) == len(before.events)


def test_intake_roles_take_a_request_and_verify_but_never_see_the_board_R_23_2(api, person):
    """The service lets sales and the call center take a request (RIGHTS_INTAKE): the intake page, the code."""
    sato, csrf = api.client("sato")
    r = sato.post("/rights/new", data={"csrf": csrf, "kind": "disclosure", "email": A_EMAIL})
    assert r.status_code == 200, r.text
    receipt = re.search(r"R-2026-\d{6}", r.text).group(0)
    ident = _identifier_id(r.text)
    rid = re.search(r'action="/rights/([0-9a-f]{32})/send-code"', r.text).group(1)
    sent = sato.post(f"/rights/{rid}/send-code", data={"csrf": csrf, "identifier_id": ident})
    assert sent.status_code == 200 and "確認コードをメールで送りました" in sent.text
    ok = sato.post(
        f"/rights/{rid}/verify",
        data={
            "csrf": csrf,
            "method": "email_code",
            "identifier_id": ident,
            "code": last_code(api.rt, A_EMAIL),
        },
    )
    assert ok.status_code == 200 and "本人確認が済みました" in ok.text
    assert 'name="code"' not in ok.text  # verified: no code form any more
    assert _show(api, rid).receipt_no == receipt and _show(api, rid).status == "verified"


def test_an_analyst_is_refused_everywhere_even_intake_R_23_2(api, person):
    v = _open(api)
    analyst, csrf = api.client("analyst")
    for method, path, body in [
        ("GET", "/rights/new", None),
        ("POST", "/rights/new", {"kind": "disclosure", "email": A_EMAIL}),
        ("POST", f"/rights/{v.id}/send-code", {"identifier_id": "0" * 32}),
        ("POST", f"/rights/{v.id}/identifiers", {"kind": "phone", "value": A_PHONE}),
        ("GET", "/rights", None),
    ]:
        r = analyst.request(method, path, data={"csrf": csrf, **body} if body else None)
        assert r.status_code == 403, (path, r.text)
        assert "R-23-2" in r.text


def test_writes_without_the_csrf_token_are_refused_and_change_nothing(api, person):
    v = _open(api, kind="stop_use", stop_scope="all")
    before = _show(api, v.id)
    po, csrf = api.client("po")
    body = {"ground": "not_justified", "explanation": "調査の結果、法令違反は認められませんでした"}
    r = po.post(f"/rights/{v.id}/refuse", data=body)
    assert r.status_code == 403 and "CSRF" in r.text
    wrong = po.post(f"/rights/{v.id}/refuse", data={**body, "csrf": "0" * 64})
    assert wrong.status_code == 403
    cross = po.post(
        f"/rights/{v.id}/refuse", data={**body, "csrf": csrf}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status_code == 403
    intake = po.post("/rights/new", data={"kind": "disclosure", "email": A_EMAIL})
    assert intake.status_code == 403
    after = _show(api, v.id)
    assert after.status == before.status != "closed" and len(after.events) == len(before.events)
    po_board = po.get("/rights")
    assert po_board.text.count("R-2026-") == 1  # no request was opened
    # the htmx header carries the token as well
    ok = po.post(f"/rights/{v.id}/refuse", data=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and _show(api, v.id).status == "closed"


def test_unauthenticated_visitors_are_sent_to_sign_in(api, person):
    v = _open(api)
    anon, _ = api.client()
    for method, path in [
        ("GET", "/rights"),
        ("GET", "/rights/new"),
        ("POST", "/rights/new"),
        ("GET", f"/rights/{v.id}"),
        ("POST", f"/rights/{v.id}/refuse"),
        ("POST", f"/rights/{v.id}/fulfil"),
        ("POST", f"/rights/{v.id}/send-code"),
    ]:
        r = anon.request(method, path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/sign-in", path


def test_fulfilling_a_stop_use_request_is_answered_in_words_not_a_download_R_35_1(api, person):
    v = _open(api, kind="stop_use", stop_scope="all")
    po, csrf = api.client("po")
    page = po.get(f"/rights/{v.id}")
    assert 'name="format"' not in page.text  # nothing to download for a stop of use
    verified = po.post(
        f"/rights/{v.id}/verify",
        data={"csrf": csrf, "method": "id_document", "customer_id": person, "document": "drivers_license"},
    )
    assert verified.status_code == 200, verified.text
    r = po.post(f"/rights/{v.id}/fulfil", data={"csrf": csrf})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html") and "content-disposition" not in r.headers
    # the e-mail the person gave was never verified: what it asked for is refused (R-37-1), so partly fulfilled
    assert "対応しました: 一部対応" in r.text and "完了" in r.text and "R-35-1" in r.text
    assert _show(api, v.id).outcome == "partial"


def test_the_pages_switch_to_english(api, person):
    v = _open(api)
    po, _ = api.client("po")
    po.cookies.set("mamori_lang", "en")
    board = po.get("/rights")
    assert (
        "Requests from the person" in board.text and "Disclosure" in board.text and "On track" in board.text
    )
    page = po.get(f"/rights/{v.id}")
    assert "Receipt no." in page.text and "Identity not verified" in page.text and "APPI" in page.text


# -- partial refusals and corrections (the fulfil form) -------------------------------------------------------------


def _verified(api, po, csrf, kind):
    v = _open(api, kind=kind)
    page = po.get(f"/rights/{v.id}")
    ident = _identifier_id(page.text)
    po.post(f"/rights/{v.id}/send-code", data={"csrf": csrf, "identifier_id": ident})
    ok = po.post(
        f"/rights/{v.id}/verify",
        data={
            "csrf": csrf,
            "method": "email_code",
            "identifier_id": ident,
            "code": last_code(api.rt, A_EMAIL),
        },
    )
    assert ok.status_code == 200, ok.text
    return v, ok


def test_part_of_a_disclosure_is_withheld_with_its_reason_R_33_2(api, person):
    po, csrf = api.client("po")
    v, page = _verified(api, po, csrf, "disclosure")
    assert 'name="partial"' in page.text and "customers:contact|business_hindrance" in page.text
    assert "gdpr_rights_of_others" not in page.text  # only grounds of this request's regime that allow a part
    base = {"csrf": csrf, "format": "json", "delivery": "electronic"}
    unexplained = po.post(
        f"/rights/{v.id}/fulfil", data={**base, "partial": ["customers:contact|business_hindrance"]}
    )
    assert unexplained.status_code == 422 and "R-33-2" in unexplained.text
    assert _show(api, v.id).status != "closed"  # refused: nothing done
    got = po.post(
        f"/rights/{v.id}/fulfil",
        data={
            **base,
            "partial": ["customers:contact|business_hindrance", ""],
            "refusal_explanation": "連絡先には調査中の不正利用案件の記録が含まれるため",
        },
    )
    assert got.status_code == 200, got.text
    assert got.headers["content-disposition"].startswith("attachment;")
    package = got.json()
    assert package["refused_categories"] == {"customers:contact": "business_hindrance"}
    assert {r["category"] for r in package["records"]} and "contact" not in {
        r["category"] for r in package["records"]
    }
    assert A_EMAIL not in got.text  # the withheld contact point is not in the answer
    assert _show(api, v.id).status == "verified"  # answered; open until the posting is recorded (issue 18)


def test_a_correction_is_made_from_the_request_page_R_34_1(api, person):
    from sqlalchemy import select

    from mamori.customers.models import ContactPoint

    po, csrf = api.client("po")
    v, page = _verified(api, po, csrf, "correction")
    assert 'name="cor_record"' in page.text
    with api.rt.sessions() as s:
        contact = s.execute(
            select(ContactPoint.id).where(ContactPoint.customer_id == person, ContactPoint.kind == "email")
        ).scalar_one()
    bad = po.post(
        f"/rights/{v.id}/fulfil",
        data={
            "csrf": csrf,
            "cor_source": ["customers"],
            "cor_record": [contact],
            "cor_field": ["no_such_item"],
            "cor_value": ["x"],
        },
    )
    assert bad.status_code in (403, 422), bad.text
    assert _show(api, v.id).status != "closed"
    ok = po.post(
        f"/rights/{v.id}/fulfil",
        data={
            "csrf": csrf,
            "cor_source": ["customers", ""],
            "cor_record": [contact, ""],
            "cor_field": ["value", ""],
            "cor_value": ["hanako.new@example.jp", ""],
        },
    )
    assert ok.status_code == 200, ok.text
    assert "1件を訂正し" in ok.text and "R-34-1" in ok.text
    assert "hanako.new@example.jp" not in ok.text  # the new value is not echoed on the page
    view = po.get(f"/api/v1/customers/{person}", headers={"Mamori-Purpose": "contract"})
    assert view.status_code == 200 and view.json()["emails"] == ["hanako.new@example.jp"]
    assert _show(api, v.id).status == "closed"


def test_the_handling_log_names_colleagues_by_name(api, person):
    v = _open(api)  # opened by the privacy officer
    po, _ = api.client("po")
    ident = _identifier_id(po.get(f"/rights/{v.id}").text)
    desk, desk_csrf = api.client("support")  # the call center sends the code (intake)
    r = desk.post(f"/rights/{v.id}/send-code", data={"csrf": desk_csrf, "identifier_id": ident})
    assert r.status_code == 200, r.text
    page = po.get(f"/rights/{v.id}")
    log = page.text[page.text.index("対応の記録") :] if "対応の記録" in page.text else page.text
    assert ">support<" in log or "support（" in log or "support</" in log
    assert "担当者 #" not in page.text  # no colleague by a short id while they are on the staff list
