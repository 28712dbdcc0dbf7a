"""The analytics pages in a real browser (issue 24, items 4 and 5): the KPI dashboard draws its charts with Chart.js
(served by the app from web-vendor/, ADR 0024) under the CSP — a Chart.js instance on each canvas, no console error,
no CSP violation — keeps each chart's table visible, honours reduced motion, filters by period; the checklist and
the data map render; axe-core finds no serious or critical violation on any of them; a support agent is refused
with the rule id and a bad date is answered with what is wrong."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from mamori.analytics.web import chart_js_dir
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


def _needs_chart_js() -> None:
    if chart_js_dir() is None:
        if shutil.which("npm"):
            pytest.fail("Chart.js is not installed: run `make install` (npm ci in web-vendor/)")
        pytest.skip("no npm on this machine: Chart.js cannot be installed (the pages show tables only)")


def _drawn(page) -> list[str]:
    """The ids of the canvases that carry a Chart.js chart."""
    return page.evaluate(
        "Array.from(document.querySelectorAll('[data-chart] canvas'))"
        ".filter(function (c) { return window.Chart && Chart.getChart(c) !== undefined; })"
        ".map(function (c) { return c.id; })"
    )


def test_the_dashboard_draws_its_charts_under_the_csp_and_passes_axe(watched, live: Live) -> None:
    _needs_chart_js()
    page, seen = watched
    sign_in(page, live, "hoshino")
    page.get_by_role("link", name="分析・KPI").click()
    page.wait_for_url(f"{live.url}/analytics")
    assert page.get_by_role("heading", name="KPI ダッシュボード", level=1).is_visible()
    assert page.get_by_role("heading", name="事業 KPI").is_visible()
    assert page.get_by_role("heading", name="プライバシー KPI").is_visible()
    page.wait_for_selector("[data-chart].chart-drawn")
    drawn = _drawn(page)
    assert "chart-purchases_per_month-canvas" in drawn
    expected = page.evaluate(
        "Array.from(document.querySelectorAll('[data-chart] canvas')).map(function (c) { return c.id; })"
    )
    assert drawn == expected  # every chart with data is drawn
    chart = page.evaluate(
        "(function () { var c = Chart.getChart(document.getElementById('chart-purchases_per_month-canvas'));"
        " return {type: c.config.type, labels: c.data.labels.length, locale: c.options.locale,"
        " animated: c.options.animation !== false}; })()"
    )
    assert chart == {
        "type": "bar",
        "labels": 24,
        "locale": "ja-JP",
        "animated": True,
    }  # no reduced motion asked
    canvas = page.locator("#chart-purchases_per_month-canvas")
    assert canvas.is_visible() and canvas.bounding_box()["height"] > 50
    assert page.locator("#chart-purchases_per_month table").is_visible()  # the table stays beside the chart
    assert canvas.get_attribute("aria-label").startswith("月別の購入件数")
    assert serious_violations(page) == []
    shot(page, "analytics-kpi")
    assert page.evaluate("window.__csp") == []
    assert seen == {"console": [], "errors": [], "failed": []}


def test_the_period_filter_and_a_bad_date(watched, live: Live) -> None:
    page, seen = watched
    sign_in(page, live, "ito")  # the analyst
    page.goto(f"{live.url}/analytics")
    page.get_by_label("開始日").fill("2026-01-01")
    page.get_by_label("終了日").fill("2026-03-31")
    page.get_by_role("button", name="この期間で表示").click()
    page.wait_for_url(f"{live.url}/analytics?start=2026-01-01&end=2026-03-31")
    assert "2026年1月1日〜2026年3月31日" in page.locator("#period-shown").inner_text()
    assert page.get_by_role("link", name="実務チェックリスト").count() == 0  # not the analyst's page
    page.goto(f"{live.url}/analytics?start=2026-13-01")
    assert "開始日: 日付を 2026-01-31 の形で入力してください" in page.inner_text("main")
    assert serious_violations(page) == []
    page.goto(f"{live.url}/analytics/checklist")
    assert "R-23-2" in page.inner_text("main")
    assert page.evaluate("window.__csp") == []
    assert seen["errors"] == []


def test_the_checklist_and_the_data_map_pass_axe(watched, live: Live) -> None:
    page, seen = watched
    sign_in(page, live, "admin")  # the system's own measures are the administrator's to show too
    page.goto(f"{live.url}/analytics")
    page.get_by_role("link", name="実務チェックリスト").click()
    page.wait_for_url(f"{live.url}/analytics/checklist")
    items = page.locator("ol.checklist > li")
    assert items.count() >= 8
    statuses = set(page.locator("ol.checklist [data-status]").all_inner_texts())
    assert statuses <= {"対応済み", "要確認", "未対応", "人による確認"} and statuses
    assert serious_violations(page) == []
    shot(page, "analytics-checklist")
    page.get_by_role("link", name="データマップ").click()
    page.wait_for_url(f"{live.url}/analytics/datamap")
    svg = page.locator("svg.datamap-svg")
    assert svg.is_visible() and svg.get_attribute("role") == "img"
    assert page.locator("svg.datamap-svg g.datamap-node").count() >= 3
    assert (
        page.locator("svg.datamap-svg path[marker-end]").count()
        == page.locator("#datamap-flows tbody tr[id^=flow-]").count()
    )
    assert serious_violations(page) == []
    shot(page, "analytics-datamap")
    assert page.evaluate("window.__csp") == []
    assert seen == {"console": [], "errors": [], "failed": []}


def test_support_is_refused_with_the_rule_id(watched, live: Live) -> None:
    page, _ = watched
    sign_in(page, live, "takahashi")
    assert page.get_by_role("link", name="分析・KPI").count() == 0
    for path in ("/analytics", "/analytics/datamap"):
        page.goto(f"{live.url}{path}")
        text = page.inner_text("main")
        assert "R-23-2" in text and "この操作はできません" in text
        assert page.locator("[data-chart], svg.datamap-svg").count() == 0
    assert serious_violations(page) == []


def test_reduced_motion_turns_the_animation_off(browser, live: Live) -> None:
    _needs_chart_js()
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live, "hoshino")
        page.goto(f"{live.url}/analytics")
        page.wait_for_selector("[data-chart].chart-drawn")
        animation = page.evaluate(
            "Chart.getChart(document.getElementById('chart-purchases_per_month-canvas')).options.animation"
        )
        assert animation is False
    finally:
        context.close()
