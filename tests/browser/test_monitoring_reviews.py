"""An access review in a real browser (issue 25 "Deliver" 3): the privacy officer starts the review of the period now
due from the reviews page, confirms every line but her own (no form there: R-23-2); the administrator confirms
hers and closes the review, which then shows 封印済み with its SHA-256 digest and a check that passes. Each page
without a serious accessibility violation (axe-core). Only confirmations: the shared demo store keeps its
accounts."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_shell import serious_violations

pytestmark = pytest.mark.browser


def test_start_decide_close_and_the_review_is_sealed(page, live: Live) -> None:
    sign_in(page, live, "hoshino")
    page.goto(f"{live.url}/monitoring/reviews")
    assert page.get_by_role("heading", name="アクセス権の定期見直し").is_visible()
    assert serious_violations(page) == []
    page.get_by_role("button", name="見直しを開始").click()
    page.wait_for_url(re.compile(rf"{re.escape(live.url)}/monitoring/reviews/[0-9a-f]{{32}}"))
    review_url = page.url.split("#", 1)[0]
    ref = page.locator("#review-ref").inner_text()
    assert re.fullmatch(r"AR-\d{4}-Q[1-4](?:-\d+)?", ref)
    assert page.locator("#own-line").count() == 1  # her own line has no form
    assert page.locator("#decide-hoshino").count() == 0
    assert serious_violations(page) == []
    shot(page, "access-review")

    usernames = page.locator("form.line-form").evaluate_all(
        "forms => forms.map(f => f.id.replace('decide-', ''))"
    )
    assert "sato" in usernames and "admin" in usernames
    for username in usernames:
        page.locator(f"#decide-{username}").get_by_role("button", name="承認").click()
        page.wait_for_load_state()
        row = page.locator(f"tr[data-username='{username}'] td.decision")
        assert "承認（現状のまま）" in row.inner_text() and "hoshino" in row.inner_text()
    assert re.search(r"判断していない行が\s*1\s*件", page.locator("#undecided").inner_text())

    page.context.clear_cookies()
    sign_in(page, live, "admin")
    page.goto(review_url)
    page.locator("#decide-hoshino").get_by_role("button", name="承認").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="見直しを完了して封印").click()
    page.wait_for_url(re.compile(rf"{re.escape(review_url)}#seal"))
    assert page.locator("#sealed").inner_text() == "封印済み"
    assert re.fullmatch(r"[0-9a-f]{64}", page.locator("#digest").inner_text())
    assert "記録は封印のとおりです" in page.locator("#verify-result").inner_text()
    assert page.locator("form.line-form").count() == 0
    assert serious_violations(page) == []
    shot(page, "access-review-sealed")
    page.goto(f"{live.url}/monitoring/reviews")
    assert "封印済み" in page.locator(f"#review-{ref}").inner_text()
