"""The monthly governance report in a real browser (issue 25 "Deliver" 4): the privacy officer opens it on the demo
store, sees the sections and the checklist table, picks another month, and downloads the PDF; no serious
accessibility violation (axe-core); a sales rep is refused with the rule id."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_shell import serious_violations

pytestmark = pytest.mark.browser


def test_the_officer_reads_the_report_and_downloads_the_pdf(page, live: Live, tmp_path) -> None:
    sign_in(page, live, "hoshino")
    page.goto(f"{live.url}/monitoring/report")
    title = page.locator("#report-title").inner_text()
    assert title.startswith("個人情報保護 月次ガバナンス報告（") and "年" in title and "月）" in title
    for section in ("activity", "alerts", "requests", "incidents", "access-review", "checklist"):
        assert page.locator(f"#section-{section}").count() == 1, section
    assert page.locator("#checklist-items tbody tr").count() == 10
    assert page.locator("#activity-roles tbody tr").last.inner_text().startswith("合計")
    assert serious_violations(page) == []
    shot(page, "monitoring-report")

    picker = page.get_by_label("対象月")
    options = picker.locator("option")
    assert options.count() == 12
    older = options.nth(1).get_attribute("value")
    picker.select_option(older)
    page.get_by_role("button", name="この月を表示").click()
    page.wait_for_url(f"{live.url}/monitoring/report?month={older}")
    assert page.locator(f'#report-month option[value="{older}"]').get_attribute("selected") is not None

    with page.expect_download() as dl:
        page.locator("#download-pdf").click()
    saved = tmp_path / "report.pdf"
    dl.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    assert dl.value.suggested_filename == f"governance-report-{older}.pdf"

    page.context.clear_cookies()
    sign_in(page, live, "sato")
    response = page.goto(f"{live.url}/monitoring/report")
    assert response is not None and response.status == 403
    assert "R-23-2" in page.inner_text("main")
