"""The acquisition costs screen in a real browser (issue 24, item 4): the analyst reaches it from the KPI dashboard's
CAC card (「獲得費用を入力」), fills and submits the form, lands back on the list with 「登録しました」 and sees the new
line first; bad input comes back with the error and the values kept; axe-core finds no serious or critical violation,
no CSP violation and no console error; a support agent is refused with the rule id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_shell import serious_violations

pytestmark = pytest.mark.browser

# Recorded in the page before any script of the page runs: the CSP violations the browser reports.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def watched(page) -> Iterator[tuple[Any, dict[str, list[str]]]]:
    """The page, with its console errors, uncaught exceptions and failed requests collected."""
    seen: dict[str, list[str]] = {"console": [], "errors": [], "failed": []}
    page.add_init_script(WATCH_CSP)

    def console(m: Any) -> None:
        # the browser's own request for /favicon.ico (the app has none) is not the page's error
        if m.type == "error" and not str(m.location.get("url", "")).endswith("/favicon.ico"):
            seen["console"].append(f"{m.text} {m.location.get('url', '')}")

    page.on("console", console)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("requestfailed", lambda r: seen["failed"].append(r.url))
    page.on("response", lambda r: seen["failed"].append(f"{r.status} {r.url}") if r.status == 404 else None)
    yield page, seen


def test_the_analyst_enters_a_cost_from_the_dashboard_and_sees_it_listed(watched, live: Live) -> None:
    page, seen = watched
    sign_in(page, live, "ito")  # the analyst
    page.goto(f"{live.url}/analytics")
    page.locator("#kpi-business-cac").get_by_role("link", name="獲得費用を入力").click()
    page.wait_for_url(f"{live.url}/analytics/costs")
    assert page.get_by_role("heading", name="獲得費用", level=1).is_visible()
    assert serious_violations(page) == []
    channel = page.get_by_label("経路必須")
    options = page.locator("#cost-channel option")
    assert options.count() >= 3  # 「選んでください」, at least one channel in use, 「キャンペーン」
    code = options.nth(1).get_attribute("value")
    word = options.nth(1).inner_text()
    channel.select_option(code)
    page.get_by_label("開始日").fill("2026-01-01")
    page.get_by_label("終了日").fill("2026-03-31")
    page.get_by_label("金額（円）").fill("123,457")
    page.get_by_label("メモ（任意）").fill("ブラウザ確認用の広告費（1〜3月）")
    page.get_by_role("button", name="登録する").click()
    page.wait_for_url(f"{live.url}/analytics/costs?added=*")
    notice = page.locator("#cost-added")
    assert notice.is_visible() and "獲得費用を登録しました" in notice.inner_text()
    assert "123,457円" in notice.inner_text()
    first = page.locator("#costs tbody tr").first
    cells = first.locator("td").all_inner_texts()
    assert cells[0] == word and cells[2] == "2026年1月1日〜2026年3月31日" and cells[3] == "123,457円"
    assert cells[4] == "ブラウザ確認用の広告費（1〜3月）" and cells[5] == "自分" and cells[7] == "集計に使う"
    assert serious_violations(page) == []
    shot(page, "analytics-costs")
    assert page.evaluate("window.__csp") == []
    assert seen == {"console": [], "errors": [], "failed": []}


def test_bad_input_comes_back_with_the_error_and_the_values_kept(watched, live: Live) -> None:
    page, seen = watched
    sign_in(page, live, "ito")
    page.goto(f"{live.url}/analytics/costs")
    rows_before = page.locator("#costs tbody tr").count()
    page.locator("#cost-channel").select_option("campaign")  # a campaign cost without its code
    page.get_by_label("開始日").fill("2026-04-01")
    page.get_by_label("終了日").fill("2026-06-30")
    page.get_by_label("金額（円）").fill("50000")
    page.get_by_role("button", name="登録する").click()
    page.wait_for_load_state()
    alert = page.locator("#form-errors")
    assert alert.is_visible() and "campaign_required" in alert.inner_text()
    assert page.locator("#cost-campaign").get_attribute("aria-invalid") == "true"
    assert page.locator("#cost-amount_yen").input_value() == "50000"
    assert page.locator("#cost-period_start").input_value() == "2026-04-01"
    assert page.locator("#cost-channel").input_value() == "campaign"
    assert page.locator("#costs tbody tr").count() == rows_before  # nothing stored
    assert serious_violations(page) == []
    assert page.evaluate("window.__csp") == []
    assert seen["errors"] == []


def test_support_is_refused_with_the_rule_id(watched, live: Live) -> None:
    page, _ = watched
    sign_in(page, live, "takahashi")
    page.goto(f"{live.url}/analytics/costs")
    text = page.inner_text("main")
    assert "R-23-2" in text and "この操作はできません" in text
    assert page.locator("#cost-form, #costs").count() == 0
    assert serious_violations(page) == []
