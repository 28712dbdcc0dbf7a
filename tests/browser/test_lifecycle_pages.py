"""The issue-21 pages in a real browser (left open by issue 21's review): training and pledges (R-23-3), retention
and disposal (R-22-1), data quality (R-22-1) and the scheduled jobs — each renders from the demo store, shows
what it is for, and has no serious accessibility violation (axe-core). Their behaviour is tested without a
browser (tests/staff, tests/lifecycle, tests/web)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_shell import serious_violations

pytestmark = pytest.mark.browser


def test_the_officer_sees_training_retention_quality_and_jobs(page, live: Live) -> None:
    sign_in(page, live, "hoshino")

    page.get_by_role("link", name="保存期間・廃棄").click()
    page.wait_for_url(f"{live.url}/retention")
    due = page.locator("#plan-due").inner_text()
    assert re.match(r"^\d+", due) and int(re.match(r"^\d+", due).group(0)) >= 1  # the demo has people due
    assert page.locator("#rules tbody tr").count() >= 2  # the demo's two rules
    assert page.locator("#run-form").count() == 1
    assert serious_violations(page) == []
    shot(page, "retention")

    page.get_by_role("link", name="データ品質").click()
    page.wait_for_url(f"{live.url}/quality")
    assert re.search(r"\d", page.locator("#quality-overall").inner_text())
    assert page.locator("#quality-distribution").count() == 1
    assert serious_violations(page) == []
    shot(page, "quality")

    page.goto(f"{live.url}/staff/training")
    assert "nakamura" in page.locator("table.training-overdue").inner_text()  # the untrained new hire
    assert serious_violations(page) == []
    shot(page, "training")

    page.get_by_role("link", name="定期処理").click()
    page.wait_for_url(f"{live.url}/jobs")
    jobs = page.locator("#jobs").inner_text()
    for name in ("lifecycle.retention", "staff.training_expiry", "incidents.remind"):
        assert name in jobs
    assert serious_violations(page) == []


def test_an_untrained_rep_sees_the_pledge_to_sign(page, live: Live) -> None:
    sign_in(page, live, "nakamura")
    page.goto(f"{live.url}/staff/training")
    assert page.get_by_role("button", name="誓約書に署名する").count() == 1
    assert serious_violations(page) == []
