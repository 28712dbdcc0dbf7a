"""The analysis pages in a real browser (issue 24, items 1–3), on the demo store: the analyst runs RFM from the form
(htmx posts it with a busy indicator and swaps the result in), the segments bar chart is drawn by Chart.js under the
CSP, a segment is saved and listed; axe-core finds no serious or critical violation on the form, the result and the
segments page. A support agent is refused with the rule id, and a bad number is answered in words. CLV is not run
here (it takes tens of seconds; its page is tested without a browser)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_analytics_dashboard import WATCH_CSP, _needs_chart_js
from tests.browser.test_shell import serious_violations

pytestmark = pytest.mark.browser


def test_the_analyst_runs_rfm_sees_the_chart_and_saves_a_segment(page, live: Live) -> None:
    _needs_chart_js()
    errors: list[str] = []
    page.add_init_script(WATCH_CSP)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live, "ito")  # the demo's analyst
    page.goto(f"{live.url}/analytics/runs/new")
    assert page.get_by_role("heading", name="分析を実行する", level=1).is_visible()
    assert page.get_by_label("RFM 分析（最新購入日・購入回数・購入金額）").is_checked()
    # the demo's purpose that states profiling is chosen first
    assert page.get_by_label("利用目的").input_value() == "analytics"
    assert not page.locator("#run-progress").is_visible()  # the busy indicator shows only while a run goes
    assert serious_violations(page) == []
    shot(page, "analytics-run-form")

    page.get_by_role("button", name="分析を実行する").click()
    page.wait_for_url(re.compile(r".*/analytics/runs/[0-9a-f]{32}$"))  # htmx puts the run's address there
    assert page.get_by_role("heading", name="RFM 分析", level=1).is_visible()
    assert page.locator("#run-segments-table").get_by_text("優良顧客").is_visible()
    assert page.locator("#run-thresholds tbody tr").count() == 5  # one row per score
    assert page.locator("#chart-run-segments table").is_visible()  # the chart's figures, drawn or not
    lines = page.locator("#run-lines-table tbody tr")
    assert lines.count() >= 1
    assert re.fullmatch(r"P-[0-9a-f]{16}", lines.first.locator("th").inner_text())
    assert serious_violations(page) == []
    shot(page, "analytics-run-rfm")
    # the chart is drawn in the swapped-in result (its data travels in a <template>, which htmx keeps)
    page.wait_for_selector('[data-chart="run-segments"].chart-drawn')
    kind = page.evaluate("Chart.getChart(document.getElementById('chart-run-segments-canvas')).config.type")
    assert kind == "bar" and page.locator("#chart-run-segments-canvas").bounding_box()["height"] > 50
    assert serious_violations(page) == []

    # save the largest group as a segment (the analysis runs again with the same parameters)
    counts = page.locator("#save-take label").all_inner_texts()
    biggest = max(range(len(counts)), key=lambda i: int(re.search(r"（(\d+)人）", counts[i]).group(1)))
    page.get_by_label("セグメント名").fill("browser-top")
    page.locator("#save-take input[type=checkbox]").nth(biggest).check()
    page.get_by_role("button", name="セグメントとして保存").click()
    page.wait_for_url(f"{live.url}/analytics/segments/browser-top")
    assert "第1版として保存しました" in page.locator("#segment-saved").inner_text()
    assert "@browser-top" in page.locator("#segment-saved").inner_text()
    page.get_by_role("link", name="セグメント", exact=True).click()
    page.wait_for_url(f"{live.url}/analytics/segments")
    assert page.locator("#segments").get_by_role("link", name="browser-top").is_visible()
    assert serious_violations(page) == []
    shot(page, "analytics-segments")
    assert page.evaluate("window.__csp") == [] and errors == []


def test_support_is_refused_and_a_bad_number_is_answered_in_words(page, live: Live) -> None:
    sign_in(page, live, "takahashi")
    page.goto(f"{live.url}/analytics/runs/new")
    text = page.inner_text("main")
    assert "R-23-2" in text and page.locator("#run-form").count() == 0
    page.context.clear_cookies()

    sign_in(page, live, "ito")
    page.goto(f"{live.url}/analytics/runs/new")
    page.get_by_label("RFM の段階数（RFM のみ）").fill("11")
    page.get_by_role("button", name="分析を実行する").click()
    page.wait_for_selector("#run-bins-error")
    assert "2〜10 の整数で入力してください。" in page.locator("#run-bins-error").inner_text()
    assert page.get_by_label("RFM の段階数（RFM のみ）").get_attribute("aria-invalid") == "true"
    assert page.url == f"{live.url}/analytics/runs/new"
    assert serious_violations(page) == []
