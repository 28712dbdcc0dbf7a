"""The customer screens of the staff web app (issue 15) without a browser: search, the purpose choice, the
customer page for a purpose (masked ●●●, refusals with their rule id), notes with the scanner's warnings.

Each page: the happy path, an unauthorized role, bad input (422 in Japanese), a write without its CSRF token
refused and changing nothing, nothing personal in any URL the pages link to or redirect to, CSP and no-store.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

import pytest

from mamori.customers.web import search as customers_web
from tests.api.conftest import Api

API = "/api/v1"
PERSON = {
    "name": "山田 花子",
    "kana": "ヤマダ ハナコ",
    "email": "hanako@example.jp",
    "phone": "090-1111-2222",
    "birth": "1990-04-01",
    "occupation": "図書館司書",
    "employer": "架空図書株式会社",
}
PERSONAL = [PERSON[k] for k in ("name", "kana", "email", "phone", "occupation", "employer")] + [
    "+819011112222",
    "09011112222",
    "hanako",
    "ハナコ",
    "花子",
]
HREF = re.compile(r'(?:href|action|hx-post|hx-get|src)="([^"]*)"')


@pytest.fixture
def api(runtime):
    return Api(runtime)


def create(client, csrf, purposes=("contract", "marketing-email", "health-service"), **over) -> str:
    body = {
        "customer": {
            "name": over.get("name", PERSON["name"]),
            "kana": over.get("kana", PERSON["kana"]),
            "emails": [over.get("email", PERSON["email"])],
            "phones": [over.get("phone", PERSON["phone"])],
            "address": "東京都渋谷区神宮前1-2-3",
            "postal_code": "150-0001",
            "birth_date": PERSON["birth"],
            "occupation": PERSON["occupation"],
            "employer": PERSON["employer"],
        },
        "provenance": {"method": "direct", "channel": "web_form", "notice_version": "n-2026"},
        "purposes": list(purposes),
    }
    r = client.post(f"{API}/customers", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def no_personal_url(r) -> None:
    """No personal value in a link, form target or redirect of the response (raw or percent-encoded)."""
    urls = HREF.findall(r.text)
    if "location" in r.headers:
        urls.append(r.headers["location"])
    for url in urls:
        for value in PERSONAL:
            assert value not in unquote(url) and quote(value) not in url, url


def page_headers(r) -> None:
    assert r.headers["cache-control"] == "no-store"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in r.text and 'style="' not in r.text


def open_for(c, csrf, cid, purpose):
    r = c.post(f"/customers/{cid}/open", data={"csrf": csrf, "purpose": purpose}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/customers/{cid}", r.text
    no_personal_url(r)
    return c.get(f"/customers/{cid}")


# -- sign-in --------------------------------------------------------------------------------------------------------


def test_every_customer_page_needs_a_session(api):
    anon, _ = api.client()
    cid = "0" * 32
    for method, path in [
        ("GET", "/customers"),
        ("POST", "/customers/search"),
        ("GET", f"/customers/{cid}"),
        ("POST", f"/customers/{cid}/open"),
        ("POST", f"/customers/{cid}/notes"),
        ("POST", f"/customers/{cid}/notes/check"),
    ]:
        r = anon.request(method, path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/sign-in", (method, path)


# -- search -------------------------------------------------------------------------------------------------------


def test_search_page_in_japanese_with_csp_and_no_store_and_in_english(api):
    c, csrf = api.client("sato")
    r = c.get("/customers")
    assert r.status_code == 200 and "顧客を探す" in r.text and "今回の利用目的" in r.text
    assert "契約の履行" in r.text  # the purposes by their titles
    page_headers(r)
    assert 'method="post" action="/customers/search"' in r.text and 'hx-post="/customers/search"' in r.text
    switched = c.post("/lang", data={"lang": "en", "next": "/customers"}, follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/customers"
    en = c.get("/customers")
    assert en.status_code == 200 and "Find a customer" in en.text and "Purpose of this use" in en.text


def test_search_by_each_key_in_the_body_shows_the_customer_and_no_term_in_a_url(api):
    c, csrf = api.client("sato")
    cid = create(c, csrf)
    for key, term in [
        ("email", "HANAKO@example.jp"),
        ("phone", "０９０-１１１１-２２２２"),
        ("kana", "やまだ はなこ"),
    ]:
        r = c.post("/customers/search", data={"csrf": csrf, "purpose": "contract", key: term})
        assert r.status_code == 200, r.text
        assert PERSON["name"] in r.text and f'action="/customers/{cid}/open"' in r.text
        assert "<html" in r.text  # a full page without htmx
        page_headers(r)
        no_personal_url(r)
        assert r.url.path == "/customers/search" and not r.url.query
    frag = c.post(
        "/customers/search",
        data={"csrf": csrf, "purpose": "contract", "name": PERSON["name"]},
        headers={"HX-Request": "true"},
    )
    assert frag.status_code == 200 and "<html" not in frag.text and PERSON["name"] in frag.text
    page_headers(frag)


def test_search_shows_only_what_the_purpose_allows(api):
    c, csrf = api.client("sato")
    cid = create(c, csrf, purposes=("contract", "health-service"))
    r = c.post(
        f"{API}/customers/{cid}/attributes",
        json={"key": "hobby", "value": "登山", "category": "attribute"},
        headers={"X-CSRF-Token": csrf, "Mamori-Purpose": "contract"},
    )
    assert r.status_code == 201, r.text
    r = c.post(
        "/customers/search", data={"csrf": csrf, "purpose": "health-service", "email": PERSON["email"]}
    )
    assert r.status_code == 200 and PERSON["name"] in r.text  # identifiers are in the purpose
    # the customer page for health-service: attributes (birth date, occupation, hobby) are masked, not sent
    page = open_for(c, csrf, cid, "health-service")
    assert page.status_code == 200, page.text
    assert "●●●" in page.text
    assert f'href="/consent/customers/{cid}"' in page.text  # consents and do-not-contact, one click away
    assert f'hx-get="/consent/customers/{cid}/summary"' in page.text  # and loaded on the page (htmx)
    shown = page.text.split("<main", 1)[1]  # (the head holds a random CSRF token, which may contain digits)
    for hidden in (PERSON["occupation"], PERSON["employer"], "登山", "1990", "平成2年"):
        assert hidden not in shown
    assert (
        "利用目的の範囲外のため非表示" in page.text and "契約の履行" in page.text
    )  # the purpose that would show it


def test_bad_search_input_is_a_japanese_422_page(api):
    c, csrf = api.client("sato")
    empty = c.post("/customers/search", data={"csrf": csrf, "purpose": "contract"})
    assert empty.status_code == 422 and "検索条件をひとつ指定してください" in empty.text
    page_headers(empty)
    bad = c.post(
        "/customers/search", data={"csrf": csrf, "purpose": "no such purpose!", "email": "a@example.jp"}
    )
    assert bad.status_code == 422 and "利用目的を選択肢から選んでください" in bad.text
    unknown = c.post(
        "/customers/search", data={"csrf": csrf, "purpose": "unknown-code", "email": "a@example.jp"}
    )
    assert unknown.status_code == 422
    long = c.post("/customers/search", data={"csrf": csrf, "purpose": "contract", "name": "あ" * 201})
    assert (
        long.status_code == 422 and "入力内容を確認してください" in long.text and "あ" * 201 not in long.text
    )
    both = c.post(
        "/customers/search",
        data={"csrf": csrf, "purpose": "contract", "name": "山田", "email": "a@example.jp"},
    )
    assert both.status_code == 422 and "a@example.jp" not in both.text


def test_search_without_csrf_is_refused(api):
    c, csrf = api.client("sato")
    create(c, csrf)
    r = c.post("/customers/search", data={"purpose": "contract", "email": PERSON["email"]})
    assert r.status_code == 403 and "CSRF" in r.text and PERSON["name"] not in r.text
    cross = c.post(
        "/customers/search",
        data={"csrf": csrf, "purpose": "contract", "email": PERSON["email"]},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403 and PERSON["name"] not in cross.text


def test_a_sales_rep_finds_and_lists_only_own_customers(api):
    sato, csrf = api.client("sato")
    cid = create(sato, csrf)
    suzuki, csrf2 = api.client("suzuki")
    r = suzuki.post(
        "/customers/search", data={"csrf": csrf2, "purpose": "contract", "email": PERSON["email"]}
    )
    assert r.status_code == 200 and PERSON["name"] not in r.text and "該当する顧客はいません" in r.text
    mine = sato.get("/customers?purpose=contract")
    assert mine.status_code == 200 and PERSON["name"] in mine.text and f"/customers/{cid}/open" in mine.text
    no_personal_url(mine)
    theirs = suzuki.get("/customers?purpose=contract")
    assert theirs.status_code == 200 and PERSON["name"] not in theirs.text


def test_the_list_is_paged_with_an_opaque_cursor(api, monkeypatch):
    monkeypatch.setattr(customers_web, "PAGE_SIZE", 2)
    c, csrf = api.client("sato")
    ids = [
        create(c, csrf, name=f"山田 花子{i}", email=f"h{i}@example.jp", phone=f"090-1111-222{i}")
        for i in range(3)
    ]
    first = c.get("/customers?purpose=contract")
    assert first.status_code == 200
    nxt = re.search(r'href="(/customers\?purpose=contract&amp;after=([0-9a-f]{32})#mine)"', first.text)
    assert nxt and nxt.group(2) in ids
    second = c.get(nxt.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and second.text.count('/open"') == 1
    bad = c.get("/customers?purpose=contract&after=not-an-id")
    assert bad.status_code == 422 and "入力内容を確認してください" in bad.text


def test_an_analyst_may_not_list_customers(api):
    c, _ = api.client("analyst")
    r = c.get("/customers?purpose=contract")
    assert r.status_code == 403 and "R-23-2" in r.text
    page_headers(r)


# -- the customer page ----------------------------------------------------------------------------------------------


def test_the_customer_page_asks_why_then_shows_what_the_purpose_covers(api):
    c, csrf = api.client("sato")
    cid = create(c, csrf)
    ask = c.get(f"/customers/{cid}")
    assert ask.status_code == 200 and "この顧客情報を開く目的を選んでください" in ask.text
    assert PERSON["name"] not in ask.text and f'action="/customers/{cid}/open"' in ask.text
    page_headers(ask)
    r = open_for(c, csrf, cid, "contract")
    assert r.status_code == 200, r.text
    page_headers(r)
    no_personal_url(r)
    for shown in (
        PERSON["name"],
        PERSON["kana"],
        PERSON["email"],
        "090-1111-2222",
        "東京都渋谷区神宮前1-2-3",
    ):
        assert shown in r.text
    assert "1990年4月1日（平成2年）" in r.text  # 和暦 birth date
    assert "契約の履行" in r.text and "●●●" not in r.text  # the purpose in the header; contract covers all
    assert "明示" in r.text or "通知" in r.text  # how each purpose was notified
    # the purpose is remembered for this customer only, and changeable
    again = c.get(f"/customers/{cid}")
    assert again.status_code == 200 and PERSON["name"] in again.text and "目的を変更" in again.text


def test_a_refused_purpose_shows_the_reason_and_its_rule_id(api):
    c, csrf = api.client("sato")
    cid = create(c, csrf, purposes=("contract", "marketing-email"))
    not_notified = open_for(c, csrf, cid, "partner-sharing")
    assert not_notified.status_code == 403
    assert "通知・公表されていません" in not_notified.text and "R-21-1" in not_notified.text
    assert PERSON["name"] not in not_notified.text and "Traceback" not in not_notified.text
    assert "別の目的を選ぶ" in not_notified.text  # the choice again
    page_headers(not_notified)
    no_consent = open_for(c, csrf, cid, "marketing-email")
    assert no_consent.status_code == 403 and "同意が必要" in no_consent.text and "R-18-1" in no_consent.text
    assert PERSON["email"] not in no_consent.text


def test_the_remembered_purpose_is_bound_to_the_session_and_a_forged_one_is_ignored(api):
    c, csrf = api.client("sato")
    cid = create(c, csrf)
    assert open_for(c, csrf, cid, "contract").status_code == 200
    [cookie] = [k for k in c.cookies.jar if k.name == customers_web.PURPOSE_COOKIE]
    assert cookie.path == "/customers" and cookie.secure and cookie.value.startswith(f"{cid}.contract.")
    forged = f"{cid}.contract.{'0' * 32}"
    c.cookies.set(customers_web.PURPOSE_COOKIE, forged, domain=cookie.domain, path="/customers")
    r = c.get(f"/customers/{cid}")
    assert (
        r.status_code == 200
        and "この顧客情報を開く目的を選んでください" in r.text
        and PERSON["name"] not in r.text
    )
    other, _ = api.client("sato")  # a new session of the same user: the old declaration does not carry over
    other.cookies.set(customers_web.PURPOSE_COOKIE, cookie.value, domain=cookie.domain, path="/customers")
    assert "この顧客情報を開く目的を選んでください" in other.get(f"/customers/{cid}").text


def test_another_reps_customer_is_the_same_404_as_an_unknown_one_and_audited(api):
    sato, csrf = api.client("sato")
    cid = create(sato, csrf)
    suzuki, csrf2 = api.client("suzuki")
    theirs = open_for(suzuki, csrf2, cid, "contract")
    unknown_id = "f" * 32
    unknown = open_for(suzuki, csrf2, unknown_id, "contract")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.text.replace(cid, "ID") == unknown.text.replace(unknown_id, "ID")
    assert (
        "顧客が見つかりません" in theirs.text
        and PERSON["name"] not in theirs.text
        and "R-23-2" not in theirs.text
    )
    page_headers(theirs)
    malformed = suzuki.get("/customers/not-an-id")
    assert malformed.status_code == 404 and "顧客が見つかりません" in malformed.text
    denial = api.rt.audit.tail(10)
    assert any(e.decision == "deny" and "R-23-2" in e.rule_ids and cid in e.subject_ids for e in denial)
    note = suzuki.post(
        f"/customers/{cid}/notes", data={"csrf": csrf2, "purpose": "contract", "body": "訪問予定"}
    )
    assert note.status_code == 404
    listed = sato.get(f"{API}/customers/{cid}/activities", headers={"Mamori-Purpose": "contract"})
    assert listed.json() == []


def test_an_analyst_may_not_open_a_customer(api):
    sato, csrf = api.client("sato")
    cid = create(sato, csrf)
    c, csrf3 = api.client("analyst")
    r = open_for(c, csrf3, cid, "contract")
    assert r.status_code == 403 and "R-23-2" in r.text and PERSON["name"] not in r.text


def test_opening_needs_csrf_and_a_purpose_from_the_list(api):
    c, csrf = api.client("sato")
    cid = create(c, csrf)
    r = c.post(f"/customers/{cid}/open", data={"purpose": "contract"}, follow_redirects=False)
    assert r.status_code == 403 and "set-cookie" not in r.headers
    assert "この顧客情報を開く目的" in c.get(f"/customers/{cid}").text  # nothing remembered
    bad = c.post(f"/customers/{cid}/open", data={"csrf": csrf, "purpose": "Bad Code"}, follow_redirects=False)
    assert bad.status_code == 422 and "利用目的を選択肢から選んでください" in bad.text
    page_headers(bad)


# -- notes ----------------------------------------------------------------------------------------------------------


def test_a_note_is_logged_through_the_service_with_its_warnings(api):
    c, csrf = api.client("sato")
    cid = create(c, csrf)
    open_for(c, csrf, cid, "contract")
    r = c.post(
        f"/customers/{cid}/notes",
        data={"csrf": csrf, "purpose": "contract", "kind": "call", "body": "配送日の確認"},
    )
    assert (
        r.status_code == 200
        and "記録しました" in r.text
        and "配送日の確認" in r.text
        and "電話対応" in r.text
    )
    page_headers(r)
    no_personal_url(r)
    # a card number never belongs in a note: the service's warning (R-18-1) comes back with the page
    card = c.post(
        f"/customers/{cid}/notes",
        data={
            "csrf": csrf,
            "purpose": "contract",
            "kind": "note",
            "body": "カード番号 4111 1111 1111 1111 で決済",
        },
        headers={"HX-Request": "true"},
    )
    assert card.status_code == 200 and "<html" not in card.text and 'id="notes"' in card.text
    assert "R-18-1" in card.text and "credit_card" in card.text
    activities = c.get(f"{API}/customers/{cid}/activities", headers={"Mamori-Purpose": "contract"}).json()
    assert len(activities) == 2
    entries = api.rt.audit.tail(20)
    assert any(e.action == "activity.write" and cid in e.subject_ids for e in entries)


def test_a_sensitive_note_without_consent_is_refused_with_its_rule(api):
    c, csrf = api.client("sato")
    cid = create(c, csrf)
    r = c.post(
        f"/customers/{cid}/notes", data={"csrf": csrf, "purpose": "contract", "body": "糖尿病の既往歴あり"}
    )
    assert r.status_code == 403 and "R-20-2" in r.text and "要配慮" in r.text
    assert c.get(f"{API}/customers/{cid}/activities", headers={"Mamori-Purpose": "contract"}).json() == []


def test_a_note_without_csrf_is_refused_and_nothing_is_written(api):
    c, csrf = api.client("sato")
    cid = create(c, csrf)
    before = len(api.rt.audit.tail(1000))
    r = c.post(f"/customers/{cid}/notes", data={"purpose": "contract", "body": "配送日の確認"})
    assert r.status_code == 403 and "CSRF" in r.text
    cross = c.post(
        f"/customers/{cid}/notes",
        data={"csrf": csrf, "purpose": "contract", "body": "配送日の確認"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    assert c.get(f"{API}/customers/{cid}/activities", headers={"Mamori-Purpose": "contract"}).json() == []
    assert not any(e.action == "activity.write" for e in api.rt.audit.tail(1000)[before:])


def test_bad_note_input_is_a_japanese_422_page(api):
    c, csrf = api.client("sato")
    cid = create(c, csrf)
    long = c.post(f"/customers/{cid}/notes", data={"csrf": csrf, "purpose": "contract", "body": "あ" * 20001})
    assert (
        long.status_code == 422 and "入力内容を確認してください" in long.text and "あ" * 100 not in long.text
    )
    page_headers(long)
    empty = c.post(f"/customers/{cid}/notes", data={"csrf": csrf, "purpose": "contract", "body": "  "})
    assert empty.status_code == 422 and "内容を入力してください" in empty.text
    kind = c.post(
        f"/customers/{cid}/notes", data={"csrf": csrf, "purpose": "contract", "kind": "x", "body": "a"}
    )
    assert kind.status_code == 422
    purpose = c.post(f"/customers/{cid}/notes", data={"csrf": csrf, "purpose": "NOPE", "body": "a"})
    assert purpose.status_code == 422 and "利用目的を選択肢から選んでください" in purpose.text
    assert c.get(f"{API}/customers/{cid}/activities", headers={"Mamori-Purpose": "contract"}).json() == []


def test_the_note_check_names_the_kind_found_never_the_value(api):
    c, csrf = api.client("sato")
    cid = create(c, csrf)
    open_for(c, csrf, cid, "contract")
    page = c.get(f"/customers/{cid}")
    assert (
        f'hx-post="/customers/{cid}/notes/check"' in page.text
        and 'hx-trigger="keyup changed delay:500ms"' in page.text
    )
    h = {"HX-Request": "true", "X-CSRF-Token": csrf}
    phone = c.post(f"/customers/{cid}/notes/check", data={"body": "折り返しは 090-9999-8888 まで"}, headers=h)
    assert phone.status_code == 200 and "電話番号" in phone.text and "090-9999-8888" not in phone.text
    assert "<html" not in phone.text
    page_headers(phone)
    sensitive = c.post(f"/customers/{cid}/notes/check", data={"body": "糖尿病で通院中"}, headers=h)
    assert (
        "要配慮個人情報" in sensitive.text and "R-20-2" in sensitive.text and "糖尿病" not in sensitive.text
    )
    clean = c.post(f"/customers/{cid}/notes/check", data={"body": "配送日の確認"}, headers=h)
    assert "検出されませんでした" in clean.text
    assert c.post(f"/customers/{cid}/notes/check", data={"body": "x"}).status_code == 403  # no token
    long = c.post(f"/customers/{cid}/notes/check", data={"body": "あ" * 20001}, headers=h)
    assert long.status_code == 422


def test_a_phone_hidden_by_a_do_not_contact_says_why_not_outside_the_purpose(api):
    """Issue 20 (found when re-checking it): a contact point withheld because the person asked not to be called is
    not "outside the purpose" — the page says the person's request (or a missing opt-in) hid it."""
    from mamori.consent import service as consent_service
    from mamori.consent.schemas import ConsentIn
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.kernel.policy import Category
    from mamori.purposes import service as purposes_service
    from mamori.purposes.schemas import PurposeCreate

    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.add(
            ctx,
            PurposeCreate(
                code="calls",
                title_ja="お電話・郵送でのご案内",
                title_en="Calls and letters",
                text_ja="新商品のご案内のため、氏名・住所・電話番号を利用し、お電話と郵送でご連絡します。",
                text_en="Calls and letters about new products.",
                categories=[Category.IDENTIFIER, Category.CONTACT],
                channels=["phone", "post"],
            ),
        )
    c, csrf = api.client("po")
    cid = create(c, csrf, purposes=("contract", "calls"))
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        from mamori.staff import service as staff_service

        po = staff_service.actor_for(ctx, "po")
    with api.rt.transaction(po) as ctx:
        consent_service.do_not_contact(ctx, cid, "phone", ConsentIn(method="oral"))
    page = open_for(c, csrf, cid, "calls")
    assert page.status_code == 200 and PERSON["phone"] not in page.text
    assert "ご本人の連絡停止の申出、または同意・オプトインがないため非表示" in page.text
    assert "東京都渋谷区神宮前1-2-3" in page.text  # post is still allowed: the address is shown
