"""Leak incidents in a real browser (issue 22): a sales rep reports a suspected leak from the form every staff role
has (the clock starts when any department knows, R-26-2) and gets its 事案番号; the privacy officer's board lists
it with the demo's incidents, the one whose 速報 target has passed in red (R-26-2); the incident's page loads its
scope, report, notices and containment sections with htmx, and the officer drafts the 速報 from it (R-26-4). Each
page without a serious accessibility violation (axe-core). The demo store has INC-0001 (remote-work screen, 9
people) and INC-0002 (a misconfigured share, at most 1,200 people, known six days ago)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_shell import serious_violations

pytestmark = pytest.mark.browser


def test_a_rep_reports_and_the_officer_works_the_incident(page, live: Live) -> None:
    sign_in(page, live, "sato")
    page.get_by_role("link", name="漏えい等の報告").click()
    page.wait_for_url(f"{live.url}/incidents/new")
    assert serious_violations(page) == []
    page.get_by_label("件名（何が起きたか）").fill("顧客一覧を印刷した紙を電車内に置き忘れた")
    page.get_by_label("知った日時（日本時間）").fill("2026-12-06T09:30")
    page.get_by_label("最初に知った部署").fill("営業部")
    page.get_by_label("発見者（役割・組織）").fill("営業部の従業者（本人の申告）")
    page.get_by_label("原因の区分").select_option("loss_theft")
    page.get_by_role("button", name="登録する").click()
    ref = page.locator("#made-ref").inner_text()
    assert re.fullmatch(r"INC-\d{4}", ref)
    shot(page, "incident-registered")
    page.goto(f"{live.url}/incidents")  # the board is the privacy officer's and the administrator's
    assert page.locator("#incident-board").count() == 0

    page.context.clear_cookies()
    sign_in(page, live, "hoshino")
    page.get_by_role("link", name="漏えい等事案").click()
    page.wait_for_url(f"{live.url}/incidents")
    board = page.locator("#incident-board")
    assert ref in board.inner_text() and "INC-0001" in board.inner_text()
    late = page.locator("#row-INC-0002 td.overdue")  # the 速報 target (day 3–5) has passed
    assert late.count() >= 1
    assert "1,000人" in page.locator("#row-INC-0002").inner_text()  # trigger (4) from the maximum
    assert serious_violations(page) == []
    shot(page, "incident-board")

    page.locator("#row-INC-0001 a").first.click()
    page.wait_for_url(re.compile(rf"{re.escape(live.url)}/incidents/[0-9a-f]{{32}}"))
    page.locator("#scope-persons").wait_for()  # loaded by htmx into the page
    assert "9" in page.locator("#scope-persons").inner_text()
    page.locator("#report-part").wait_for()
    page.locator("#notice-plan").wait_for()
    assert "9" in page.locator("#plan-persons").inner_text()
    page.locator("#containment-part").wait_for()
    assert serious_violations(page) == []
    page.locator("#draft-prelim").click()
    page.locator("#report-items").wait_for()
    assert "本人の数" in page.locator("#report-items").inner_text()
    assert serious_violations(page) == []
    shot(page, "incident-page")
