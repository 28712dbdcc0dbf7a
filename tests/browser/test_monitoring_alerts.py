"""Monitoring alerts in a real browser (issue 25 "Deliver" 2): the privacy officer opens 「監視アラート」 from the
menu, finds a new high-severity alert about a sales rep in the queue, opens it (what was seen against the
threshold and the person's usual, the audit entries behind it — how many people, never whom) and dismisses it as a
false positive with a note; the alert is then 対応不要 and its forms are gone. Each page without a serious
accessibility violation (axe-core). The alert is written into the demo store by the test (the evaluation that
raises alerts has its own tests), naming audit entries appended for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mamori.kernel.audit import AuditEntry
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service
from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_shell import serious_violations
from tests.monitoring.alert_support import alert_row, insert_alert

pytestmark = pytest.mark.browser


def _alert(live: Live) -> str:
    rt = live.runtime
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        sato = staff_service.actor_for(ctx, "sato")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    seqs = rt.audit.append(
        [
            AuditEntry(
                actor=sato.label,
                actor_role="sales",
                action="customer.read",
                purpose="contract",
                subject_ids=(f"{i + 1:032x}",),
                fields=("name", "phones"),
                decision="allow",
                rule_ids=(),
                reason=None,
                details={},
                at=start + timedelta(minutes=i),
            )
            for i in range(3)
        ]
    )
    return insert_alert(
        rt, sato.label, seqs=seqs, first_at=start, last_at=start + timedelta(minutes=2), observed=180
    )


def test_the_officer_dismisses_an_alert_from_the_queue(page, live: Live) -> None:
    alert_id = _alert(live)
    ref = f"ALT-{alert_row(live.runtime, alert_id).number:04d}"
    sign_in(page, live, "hoshino")
    page.get_by_role("link", name="監視アラート").first.click()
    page.wait_for_url(f"{live.url}/monitoring")
    row = page.locator(f"#row-{ref}")
    assert "高" in row.inner_text() and "sato" in row.inner_text() and "新規" in row.inner_text()
    assert serious_violations(page) == []
    shot(page, "monitoring-queue")

    row.get_by_role("link", name=ref).click()
    page.wait_for_url(f"{live.url}/monitoring/alerts/{alert_id}")
    assert "180" in page.locator("#alert-observed").inner_text()
    assert "本人の通常" in page.locator("#alert-baseline").inner_text()
    assert page.locator("#alert-entries tbody tr").count() == 3
    assert f"{1:032x}" not in page.content()  # whom: never shown
    assert serious_violations(page) == []
    shot(page, "monitoring-alert")

    form = page.locator("#dismiss-form")
    form.get_by_label("理由").select_option("false_positive")
    form.get_by_label("メモ", exact=False).fill("定例の棚卸し作業によるもの")
    form.get_by_role("button", name="対応不要にする").click()
    page.wait_for_url(f"{live.url}/monitoring/alerts/{alert_id}")
    assert page.locator("#alert-status").inner_text().startswith("対応不要")
    assert "誤検知" in page.locator("#alert-reason").inner_text()
    assert page.locator("#dismiss-form").count() == 0
    assert "対応不要にした" in page.locator("#alert-history").inner_text()
    assert serious_violations(page) == []
    assert alert_row(live.runtime, alert_id).status == "dismissed"
