"""The published notice (R-32-1) in a real browser: the demo's version 1 at /privacy/notice, Japanese and English,
axe-core with no serious or critical violation, no cookie; the privacy officer's publishing page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_shell import serious_violations

pytestmark = pytest.mark.browser


def test_R_32_1_the_person_reads_the_notice_without_login_and_axe_finds_nothing_serious(page, live: Live):
    broken: dict[str, list[str]] = {}
    for path in ("/privacy", "/privacy/notice", "/privacy/notice?lang=en", "/privacy/notice/1"):
        response = page.goto(live.url + path)
        assert response is not None and response.status == 200, path
        found = serious_violations(page)
        if found:
            broken[path] = found
    assert broken == {}
    page.goto(live.url + "/privacy/notice")
    assert page.locator("h1").inner_text() == "個人情報の取扱いについて"
    assert "第1版" in page.locator(".notice-version").inner_text()
    page.get_by_role("navigation", name="目次").get_by_role("link", name="共同利用").click()
    assert page.url.endswith("#joint_use")
    shot(page, "privacy-notice")
    assert page.context.cookies() == []  # no cookie before a request is started (UI.md)


def test_the_privacy_officers_notice_page_passes_axe(page, live: Live):
    sign_in(page, live, "hoshino")
    response = page.goto(live.url + "/notice")
    assert response is not None and response.status == 200
    assert page.locator("h1").count() == 1
    assert serious_violations(page) == []
    assert "第1版" in page.get_by_role("table").last.inner_text()


def test_the_mail_queue_page_for_the_privacy_officer_and_refused_to_sales(page, live: Live):
    """/mail (issue 18): the privacy officer sees the queue (counts, no address) and axe finds nothing serious; a
    sales rep is refused with the 403 page (bad input and CSRF are covered in tests/kernel/test_mail_page.py)."""
    sign_in(page, live, "hoshino")
    response = page.goto(live.url + "/mail")
    assert response is not None and response.status == 200
    assert page.locator("h1").inner_text() == "メール送信キュー"
    assert "@" not in page.inner_text("main")  # ids, topics, counts and codes only
    assert serious_violations(page) == []
    page.context.clear_cookies()
    sign_in(page, live, "sato")
    refused = page.goto(live.url + "/mail")
    assert refused is not None and refused.status == 403
