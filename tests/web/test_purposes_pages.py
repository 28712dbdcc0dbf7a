"""The purpose registry screens of the staff web app (issue 15) without a browser: the registry and one purpose
in words, register, revise in three steps (入力 → 確認 → 完了) with the diff of the notice text and the count of
persons who now need the new notice, retire.

Each page: the happy path, an unauthorized role (403 with the rule id on writes), bad input (422 in Japanese with
field labels), a write without its CSRF token refused and changing nothing, CSP and no-store, sign-in needed.
"""

from __future__ import annotations

import re

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.purposes import service
from mamori.purposes import web as purposes_web
from tests.api.conftest import Api

API = "/api/v1"
NEW = {
    "code": "newsletter",
    "title_ja": "ニュースレター配信",
    "title_en": "Newsletter",
    "text_ja": "ご同意いただいた方にメールでニュースレターをお送りするため、氏名とメールアドレスを利用します。",
    "text_en": "Sending the newsletter by email, with consent.",
    "categories": ["identifier", "contact"],
    "consent_appi": "1",
    "lawful_basis": "consent",
}


@pytest.fixture
def api(runtime):
    return Api(runtime)


def page_headers(r) -> None:
    assert r.headers["cache-control"] == "no-store"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in r.text and 'style="' not in r.text


def current(api, code):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return service.show(ctx, code)


def revise_form(p, **over):
    body = {
        "base_version": str(p.version),
        "title_ja": p.title_ja,
        "title_en": p.title_en,
        "text_ja": p.text_ja,
        "text_en": p.text_en,
        "categories": [c.value for c in p.categories],
        "lawful_basis": p.lawful_basis or "",
    }
    for flag in ("third_party", "consent_appi", "consent_gdpr", "art10"):
        if getattr(p, flag):
            body[flag] = "1"
    body.update(over)
    return body


# -- sign-in --------------------------------------------------------------------------------------------------------


def test_every_purpose_page_needs_a_session(api):
    anon, _ = api.client()
    for method, path in [
        ("GET", "/purposes"),
        ("GET", "/purposes/new"),
        ("POST", "/purposes/new"),
        ("GET", "/purposes/contract"),
        ("GET", "/purposes/contract/revise"),
        ("POST", "/purposes/contract/revise"),
        ("POST", "/purposes/contract/retire"),
    ]:
        r = anon.request(method, path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/sign-in", (method, path)


# -- the registry and one purpose -----------------------------------------------------------------------------------


def test_registry_in_japanese_with_words_not_codes(api):
    c, _ = api.client("support")
    r = c.get("/purposes")
    assert r.status_code == 200, r.text
    page_headers(r)
    assert "利用目的の登録簿" in r.text
    assert "メールでのご案内" in r.text and "契約の履行" in r.text  # titles
    assert "識別情報、連絡先" in r.text  # categories in words
    assert "個人情報保護法、GDPR" in r.text  # consent required (marketing-email)
    assert "不要" in r.text  # consent not required (contract)
    assert "本人の同意（第6条第1項(a)）" in r.text  # the lawful basis in words
    assert "第1版" in r.text and "有効" in r.text
    assert 'href="/purposes/new"' not in r.text  # no actions for the call center
    assert 'action="/purposes/' not in r.text
    one = c.get("/purposes/marketing-email")  # the service lets every signed-in role read the registry
    assert one.status_code == 200 and "ご同意いただいた方に新商品のご案内" in one.text
    assert "/revise" not in one.text and "/retire" not in one.text


def test_registry_in_english(api):
    c, _ = api.client("sato")
    c.cookies.set("mamori_lang", "en")
    r = c.get("/purposes")
    assert r.status_code == 200 and "Purpose registry" in r.text and "Marketing email" in r.text
    assert "Identifiers, Contact details" in r.text and "v1" in r.text


def test_privacy_officer_sees_the_actions(api):
    c, _ = api.client("po")
    r = c.get("/purposes")
    assert 'href="/purposes/new"' in r.text
    r = c.get("/purposes/contract")
    assert r.status_code == 200 and 'href="/purposes/contract/revise"' in r.text
    assert 'action="/purposes/contract/retire"' in r.text


def test_show_lists_every_version_with_its_text(api):
    c, csrf = api.client("po")
    p = current(api, "contract")
    c.post(
        "/purposes/contract/revise",
        data=revise_form(p, step="save", text_ja=p.text_ja + "改訂後の文面。", csrf=csrf),
    )
    r = c.get("/purposes/contract")
    assert r.status_code == 200
    page_headers(r)
    assert "第2版" in r.text and "第1版" in r.text and "改訂後の文面。" in r.text
    assert r.text.index("第2版") < r.text.index("第1版（")  # newest first
    assert "識別情報、連絡先、属性、行動履歴" in r.text


def test_unknown_or_malformed_code_is_a_404_page(api):
    c, _ = api.client("sato")
    for path in ("/purposes/no-such-purpose", "/purposes/BAD!", "/purposes/no-such/revise"):
        r = c.get(path)
        assert r.status_code == 404 and "利用目的が見つかりません" in r.text, path
        page_headers(r)


# -- register -------------------------------------------------------------------------------------------------------


def test_privacy_officer_registers_a_purpose(api):
    c, csrf = api.client("po")
    form = c.get("/purposes/new")
    assert form.status_code == 200 and 'name="csrf"' in form.text and "必須" in form.text
    page_headers(form)
    assert "識別情報" in form.text and "本人の同意（第6条第1項(a)）" in form.text  # choices in words
    r = c.post("/purposes/new", data={**NEW, "csrf": csrf})
    assert r.status_code == 201, r.text
    page_headers(r)
    assert "登録しました" in r.text and "第1版" in r.text
    p = current(api, "newsletter")
    assert p.title_ja == NEW["title_ja"] and p.consent_appi and p.lawful_basis == "consent"
    assert [x.value for x in p.categories] == ["identifier", "contact"]


def test_register_shows_the_wording_warnings(api):
    c, csrf = api.client("po")
    r = c.post(
        "/purposes/new",
        data={**NEW, "code": "vague", "text_ja": "事業活動に利用するため", "lawful_basis": "", "csrf": csrf},
    )
    assert r.status_code == 201 and "R-17-1" in r.text and "G-6" in r.text


def test_register_refused_for_sales_and_support_with_rule_id(api):
    for user in ("sato", "support"):
        c, csrf = api.client(user)
        form = c.get("/purposes/new")
        assert form.status_code == 403 and "R-23-2" in form.text and "権限がありません" in form.text
        assert "ロール「" not in form.text  # the role in words, not its code
        r = c.post("/purposes/new", data={**NEW, "csrf": csrf})
        assert r.status_code == 403 and "R-23-2" in r.text, r.text
        page_headers(r)
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert "newsletter" not in {p.code for p in service.list_purposes(ctx)}
    denied = [e for e in api.rt.audit.tail(40) if e.action == "purpose.manage" and e.decision == "deny"]
    assert {e.actor for e in denied} >= {f"staff:{api.ids['sato']}", f"staff:{api.ids['support']}"}
    assert all("R-23-2" in e.rule_ids for e in denied)  # every refused write is in the audit log


def test_register_without_csrf_is_refused_and_changes_nothing(api):
    c, _ = api.client("po")
    r = c.post("/purposes/new", data=NEW)
    assert r.status_code == 403 and "CSRF" in r.text
    r = c.post("/purposes/new", data={**NEW, "csrf": "wrong"})
    assert r.status_code == 403
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert "newsletter" not in {p.code for p in service.list_purposes(ctx)}


@pytest.mark.parametrize(
    ("over", "words"),
    [
        ({"code": "Bad Code!"}, "コード: コードは英小文字・数字・_ - の2〜64文字で指定してください"),
        ({"title_ja": "  "}, "名称（日本語）: 入力してください"),
        ({"categories": ["identifier", "astrology"]}, "データ区分: 次のいずれかを指定してください"),
        ({"categories": []}, "データ区分:"),
        ({"retention_days": "abc"}, "保存期間（日）: 整数で入力してください"),
        ({"lawful_basis": "whim"}, "GDPRの適法根拠: 次のいずれかを指定してください"),
    ],
    ids=["bad-code", "empty-title", "unknown-category", "no-category", "retention-not-a-number", "bad-basis"],
)
def test_register_bad_input_is_a_422_page_in_japanese(api, over, words):
    c, csrf = api.client("po")
    r = c.post("/purposes/new", data={**NEW, **over, "csrf": csrf})
    assert r.status_code == 422, r.text
    page_headers(r)
    assert "入力内容を確認してください" in r.text and words in r.text
    assert "Traceback" not in r.text
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        codes = {p.code for p in service.list_purposes(ctx)}
    assert "newsletter" not in codes


def test_register_refusal_of_the_service_shows_its_rule_id(api):
    c, csrf = api.client("po")
    r = c.post(
        "/purposes/new",
        data={**NEW, "lawful_basis": "legitimate_interests", "consent_gdpr": "", "csrf": csrf},
    )
    assert r.status_code == 422 and "比較衡量の記録" in r.text and '<small class="rule">G-6</small>' in r.text
    assert 'value="newsletter"' in r.text  # the form again, values kept
    dup = c.post("/purposes/new", data={**NEW, "code": "contract", "csrf": csrf})
    assert dup.status_code == 409 and "既に存在します" in dup.text


# -- revise: 入力 → 確認 → 完了 ----------------------------------------------------------------------------------------


def test_revise_shows_the_diff_then_saves_and_counts_persons_to_notify(api):
    c, csrf = api.client("po")
    sales, sales_csrf = api.client("sato")
    r = sales.post(
        f"{API}/customers",
        json={
            "customer": {"name": "山田 花子", "kana": "ヤマダ ハナコ", "emails": ["hanako@example.jp"]},
            "provenance": {"method": "direct", "channel": "web_form", "notice_version": "n-2026"},
            "purposes": ["contract"],
        },
        headers={"X-CSRF-Token": sales_csrf},
    )
    assert r.status_code == 201, r.text

    form = c.get("/purposes/contract/revise")
    assert form.status_code == 200 and 'aria-current="step"' in form.text and "入力" in form.text
    assert "商品の発送と代金の請求" in form.text  # the current text to start from
    p = current(api, "contract")
    new_text = p.text_ja.replace("アフターサービス", "修理受付").replace("（履歴の分析は行いません）", "")
    confirm = c.post("/purposes/contract/revise", data=revise_form(p, text_ja=new_text, csrf=csrf))
    assert confirm.status_code == 200, confirm.text
    page_headers(confirm)
    assert 'class="current" aria-current="step">確認' in confirm.text
    assert re.search(r'<del class="diff-del"[^>]*>アフターサービス</del>', confirm.text)
    assert re.search(r'<ins class="diff-ins"[^>]*>修理受付</ins>', confirm.text)
    assert "（履歴の分析は行いません）</del>" in confirm.text
    assert "第1版" in confirm.text and "第2版" in confirm.text
    assert current(api, "contract").version == 1  # nothing saved at the confirm step

    back = c.post("/purposes/contract/revise", data=revise_form(p, text_ja=new_text, csrf=csrf, step="edit"))
    assert back.status_code == 200 and "修理受付" in back.text and "<textarea" in back.text

    done = c.post("/purposes/contract/revise", data=revise_form(p, text_ja=new_text, csrf=csrf, step="save"))
    assert done.status_code == 201, done.text
    page_headers(done)
    assert 'aria-current="step">完了' in done.text and "第2版" in done.text
    assert (
        "新しい版の通知が必要な本人" in done.text
        and '<p class="count" id="pending-count">1人</p>' in done.text
    )
    after = current(api, "contract")
    assert after.version == 2 and after.text_ja == new_text


def test_revise_changes_of_other_fields_are_listed(api):
    c, csrf = api.client("po")
    p = current(api, "contract")
    r = c.post(
        "/purposes/contract/revise", data=revise_form(p, categories=["identifier", "contact"], csrf=csrf)
    )
    assert r.status_code == 200 and "文面に変更はありません" in r.text
    assert '<del class="diff-del">識別情報、連絡先、属性、行動履歴</del>' in r.text
    assert '<ins class="diff-ins">識別情報、連絡先</ins>' in r.text


def test_revise_against_a_stale_version_is_refused(api):
    c, csrf = api.client("po")
    p = current(api, "contract")
    c.post("/purposes/contract/revise", data=revise_form(p, step="save", csrf=csrf))
    r = c.post("/purposes/contract/revise", data=revise_form(p, step="save", csrf=csrf))
    assert r.status_code == 409 and "第2版" in r.text
    assert current(api, "contract").version == 2


def test_revise_refused_for_sales_and_support(api):
    p = current(api, "contract")
    for user in ("sato", "support"):
        c, csrf = api.client(user)
        assert c.get("/purposes/contract/revise").status_code == 403
        for step in ("confirm", "save"):
            r = c.post("/purposes/contract/revise", data=revise_form(p, step=step, csrf=csrf))
            assert r.status_code == 403 and "R-23-2" in r.text, (user, step)
            assert "diff-del" not in r.text
    assert current(api, "contract").version == 1


def test_revise_without_csrf_is_refused_and_changes_nothing(api):
    c, _ = api.client("po")
    p = current(api, "contract")
    for step in ("confirm", "save"):
        r = c.post("/purposes/contract/revise", data=revise_form(p, step=step))
        assert r.status_code == 403 and "CSRF" in r.text
    assert current(api, "contract").version == 1


def test_revise_bad_input_is_a_422_page(api):
    c, csrf = api.client("po")
    p = current(api, "contract")
    r = c.post("/purposes/contract/revise", data=revise_form(p, text_ja="", categories=["magic"], csrf=csrf))
    assert r.status_code == 422 and "利用目的の文面（日本語）: 入力してください" in r.text
    assert "データ区分: 次のいずれかを指定してください" in r.text
    r = c.post("/purposes/contract/revise", data=revise_form(p, step="save", lawful_basis="whim", csrf=csrf))
    assert r.status_code == 422
    assert current(api, "contract").version == 1


# -- retire ---------------------------------------------------------------------------------------------------------


def test_privacy_officer_retires_a_purpose(api):
    c, csrf = api.client("po")
    ask = c.post("/purposes/partner-sharing/retire", data={"csrf": csrf})
    assert ask.status_code == 200 and "利用目的の廃止" in ask.text and 'name="confirm" value="1"' in ask.text
    page_headers(ask)
    assert not current(api, "partner-sharing").retired  # the question changes nothing
    r = c.post("/purposes/partner-sharing/retire", data={"csrf": csrf, "confirm": "1"})
    assert r.status_code == 200 and "廃止しました" in r.text
    page_headers(r)
    assert current(api, "partner-sharing").retired
    listing = c.get("/purposes")
    assert 'class="retired"' in listing.text


def test_retire_refused_without_csrf_or_for_sales(api):
    po, po_csrf = api.client("po")
    assert po.post("/purposes/partner-sharing/retire", data={"confirm": "1"}).status_code == 403
    sales, csrf = api.client("sato")
    for confirm in ("", "1"):
        r = sales.post("/purposes/partner-sharing/retire", data={"csrf": csrf, "confirm": confirm})
        assert r.status_code == 403 and "R-23-2" in r.text and "営業担当者" in r.text
    assert not current(api, "partner-sharing").retired
    unknown = po.post("/purposes/no-such/retire", data={"csrf": po_csrf, "confirm": "1"})
    assert unknown.status_code == 404 and "利用目的が見つかりません" in unknown.text


# -- the diff itself ------------------------------------------------------------------------------------------------


def test_diff_character_level_for_japanese_and_word_level_for_english():
    assert purposes_web.diff("氏名と住所", "氏名と電話番号") == [
        ("same", "氏名と"),
        ("del", "住所"),
        ("ins", "電話番号"),
    ]
    runs = purposes_web.diff("Shipping and billing.", "Shipping and returns.")
    assert ("del", "billing") in runs and ("ins", "returns") in runs
