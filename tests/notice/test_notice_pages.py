"""The privacy center's notice pages (public: no login, no cookie) and the privacy officer's publishing page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.http.templating import PAGE_HEADERS
from mamori.notice import service
from mamori.purposes import service as purposes_service
from tests.api.conftest import Api
from tests.factories import PURPOSES
from tests.kernel.test_sensitive_refusal_sweep import denials_since, last_seq
from tests.notice.conftest import FOREIGN_NOTE, OPERATOR, seed_registries

PUBLIC = (
    "/privacy",
    "/privacy/notice",
    "/privacy/notice/1",
    "/privacy/notice?lang=en",
    "/privacy/notice/1?lang=en",
)


@pytest.fixture
def api(make_runtime):
    rt = make_runtime(**OPERATOR)
    a = Api(rt)
    seed_registries(rt)
    return a


def publish(api, who="po"):
    actor = _actor(api, who)
    with api.rt.transaction(actor) as ctx:
        return service.publish(ctx)


def _actor(api, who):
    from mamori.staff import service as staff_service

    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, who)


def public_page(r) -> None:
    """The page headers of every page, and no cookie set (UI.md: no cookie before a request is started)."""
    for name, value in PAGE_HEADERS.items():
        assert r.headers[name.lower()] == value, name
    assert "set-cookie" not in r.headers
    assert "<script>" not in r.text and 'style="' not in r.text


def body(html: str) -> str:
    """The notice's sections as the page shows them (from the first section to the revision history)."""
    return html[html.index('<section id="operator"') : html.index('<section id="history"')]


def test_R_32_1_public_pages_need_no_login_set_no_cookie_and_carry_the_security_headers(api):
    publish(api)
    anon, _ = api.client()
    for path in PUBLIC:
        r = anon.get(path)
        assert r.status_code == 200, path
        public_page(r)
    assert len(anon.cookies.jar) == 0


def test_R_32_1_the_notice_page_in_japanese_with_contents_version_date_every_section_and_history(api):
    publish(api)
    anon, _ = api.client()
    r = anon.get("/privacy/notice")
    html = r.text
    assert '<html lang="ja">' in html
    assert "第1版" in html and "2026年11月23日施行" in html  # the test clock: 2026-11-23 10:00 JST
    toc = re.search(r'<nav aria-label="目次".*?</nav>', html, re.S).group(0)
    for sid in (
        "operator",
        "purposes",
        "joint_use",
        "requests",
        "fees",
        "security",
        "foreign",
        "contact",
        "history",
    ):
        assert f'href="#{sid}"' in toc and f'id="{sid}"' in html
    for words in (
        OPERATOR["operator_name"],
        OPERATOR["operator_address"],
        OPERATOR["operator_representative"],
        OPERATOR["privacy_contact"],
        PURPOSES["contract"].text_ja,
        "架空グループ販売株式会社",
        "1,000円",
        "アメリカ合衆国",
        FOREIGN_NOTE,
        "改定履歴",
    ):
        assert words in html, words
    assert 'href="/privacy/notice/1"' in html


def test_the_notice_page_in_english(api):
    publish(api)
    anon, _ = api.client()
    r = anon.get("/privacy/notice?lang=en")
    assert '<html lang="en">' in r.text
    assert "Version 1" in r.text and "in effect from 23 Nov 2026" in r.text
    assert PURPOSES["contract"].text_en in r.text and "United States" in r.text
    assert 'href="/privacy/notice/1?lang=en"' in r.text and "Revision history" in r.text
    public_page(r)


def test_R_32_1_a_changed_purpose_makes_version_2_and_version_1_is_still_shown_unchanged(api):
    publish(api)
    anon, _ = api.client()
    v1_before = body(anon.get("/privacy/notice/1").text)
    new_text = "ご注文の商品をお届けするため、氏名・住所・電話番号を利用します（改定後の文）。"
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.revise(ctx, PURPOSES["contract"].model_copy(update={"text_ja": new_text}))
    api.rt.clock.advance(timedelta(days=13))
    assert publish(api).version == 2
    current = anon.get("/privacy/notice").text
    assert "第2版" in current and "2026年12月6日施行" in current and new_text in current
    v1 = anon.get("/privacy/notice/1")
    assert v1.status_code == 200 and body(v1.text) == v1_before  # every section kept exactly as published
    assert new_text not in v1.text and "2026年11月23日施行" in v1.text and "これは過去の版です" in v1.text
    history = re.search(r'<section id="history".*?</section>', current, re.S).group(0)
    assert "第1版</a> 2026年11月23日施行" in history and "第2版</a> 2026年12月6日施行" in history


@pytest.mark.parametrize(
    "path", ["/privacy/notice/2", "/privacy/notice/0", "/privacy/notice/abc", "/privacy/notice/99999999999"]
)
def test_an_unknown_version_is_the_404_page(api, path):
    publish(api)
    anon, _ = api.client()
    r = anon.get(path)
    assert r.status_code == 404 and "お探しの版はありません" in r.text
    public_page(r)


def test_nothing_published_yet_is_a_plain_page_with_the_contact_point(api):
    anon, _ = api.client()
    r = anon.get("/privacy/notice")
    assert r.status_code == 200 and "準備中" in r.text and OPERATOR["privacy_contact"] in r.text
    public_page(r)
    assert anon.get("/privacy/notice/1").status_code == 404


def test_the_front_page_links_to_the_notice_and_to_making_a_request(api):
    anon, _ = api.client()
    r = anon.get("/privacy")
    assert 'href="/privacy/notice"' in r.text and 'href="/privacy/requests/new"' in r.text
    assert "請求の状況を確かめる" in r.text and OPERATOR["operator_name"] in r.text
    r = anon.get("/privacy?lang=en")
    assert 'href="/privacy/notice?lang=en"' in r.text and "Make a request" in r.text
    public_page(r)


# -- the staff page ---------------------------------------------------------------------------------------------


def test_the_staff_page_needs_a_session(api):
    anon, _ = api.client()
    assert anon.get("/notice", follow_redirects=False).headers["location"] == "/sign-in"
    assert anon.post("/notice/publish", data={}, follow_redirects=False).headers["location"] == "/sign-in"


def test_R_32_1_the_privacy_officer_reviews_the_draft_and_publishes_it(api):
    c, csrf = api.client("po")
    r = c.get("/notice")
    assert r.status_code == 200 and "まだ公表していません" in r.text and "公表する" in r.text
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', r.text).group(1)
    page_csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    r = c.post("/notice/publish", data={"csrf": page_csrf, "sha256": sha})
    assert r.status_code == 200 and "第1版を公表しました" in r.text
    assert "公表中の第1版と同じです" in r.text and 'action="/notice/publish"' not in r.text
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert [v.sha256 for v in service.history(ctx)] == [sha]
    # a change shows section by section against the published version
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.retire(ctx, "gdpr-newsletter")
    r = c.get("/notice")
    assert "公表中: 第1版" in r.text and "変更" in r.text
    assert re.search(
        r'<del class="diff-del">-[^<]*' + re.escape(PURPOSES["gdpr-newsletter"].title_ja), r.text
    )


def test_the_staff_page_warns_about_settings_not_set(make_runtime):
    api = Api(make_runtime())
    c, _ = api.client("po")
    r = c.get("/notice")
    assert (
        "未設定の項目" in r.text and "MAMORI_OPERATOR_NAME" in r.text and "MAMORI_PRIVACY_CONTACT" in r.text
    )


def test_a_publish_without_the_csrf_token_or_with_a_stale_draft_changes_nothing(api):
    c, _ = api.client("po")
    page = c.get("/notice").text
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', page).group(1)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert c.post("/notice/publish", data={"sha256": sha}).status_code == 403
    assert c.post("/notice/publish", data={"csrf": token, "sha256": "0" * 64}).status_code == 409
    assert c.post("/notice/publish", data={"csrf": token, "sha256": "bad"}).status_code == 409
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert service.history(ctx) == []


@pytest.mark.parametrize("who", ["sato", "support", "analyst"])
def test_R_32_1_sales_support_and_analysts_are_refused_the_page_and_publishing_audited(api, who):
    c, csrf = api.client(who)
    before = last_seq(api.rt)
    r = c.get("/notice")
    assert r.status_code == 403
    r = c.post("/notice/publish", data={"csrf": csrf, "sha256": "0" * 64})
    assert r.status_code == 403
    denied = denials_since(api.rt, before)
    assert [e.action for e in denied] == ["notice.publish", "notice.publish"]
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert service.history(ctx) == []
