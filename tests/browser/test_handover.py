"""The handover wizard in a real browser (issue 21, seed 001 case 1): the privacy officer hands a departing rep's
customers to a trained successor — step 1 対象 (the count and the ids, no name), step 2 引継ぎ先, step 3 確認,
step 4 完了 — and the customers change owner; each page without a serious accessibility violation (axe-core).

Staff of its own (a departing rep, a successor) so that the demo's reps keep their customers for the other tests.
The refusal of an untrained successor (R-23-3) is tested without a browser (tests/lifecycle/test_handover.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mamori.customers.models import Customer
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service
from mamori.staff.schemas import CompletionCreate, PledgeSign, StaffCreate
from mamori.staff.service import training
from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_shell import serious_violations
from tests.factories import make_customer

pytestmark = pytest.mark.browser


def _staff(live: Live) -> tuple[str, str, str]:
    """A departing rep with three customers and a successor, both current on whatever training the demo requires."""
    rt = live.runtime
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        for username, name in (("taikan", "退官 一郎"), ("koukei", "後継 花子")):
            staff_service.add(
                ctx, StaffCreate(username=username, display_name=name, role="sales", team="east")
            )
        officer = staff_service.actor_for(ctx, "hoshino")
    with rt.transaction(officer) as ctx:
        required = [c for c in training.list_courses(ctx) if c.required]
        for username in ("taikan", "koukei"):
            for course in required:
                training.record_completion(ctx, CompletionCreate(username=username, course=course.code))
            if training.latest_pledge(ctx) is not None:
                training.sign_pledge(ctx, PledgeSign(username=username))
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        departing = staff_service.actor_for(ctx, "taikan")
        successor = staff_service.actor_for(ctx, "koukei")
    for n in range(3):
        make_customer(
            rt,
            departing,
            name=f"引継 顧客{n}",
            email=f"hikitsugi{n}@example.jp",
            phone=None,
            purposes=("contract",),
        )
    return departing.id, successor.id, officer.id


def test_the_officer_hands_a_departing_reps_customers_over(page, live: Live) -> None:
    departing, successor, _ = _staff(live)
    sign_in(page, live, "hoshino")
    page.goto(f"{live.url}/handovers/new?from={departing}")
    assert "3 件の顧客を担当しています" in page.locator("#customer-count").inner_text()
    assert "引継 顧客" not in page.content()  # ids and a link to each customer, never a name here
    assert serious_violations(page) == []
    shot(page, "handover-1")
    page.get_by_role("link", name="次へ: 引継ぎ先を選ぶ").click()
    page.get_by_label("引継ぎ先の担当者").select_option(successor)
    assert serious_violations(page) == []
    page.get_by_role("button", name="次へ: 確認").click()
    assert page.locator("#confirm-count").inner_text() == "3"
    assert serious_violations(page) == []
    page.get_by_role("button", name="引継ぎを実行").click()
    page.wait_for_url(f"{live.url}/handovers/*")
    summary = page.locator("#done-summary").inner_text()
    assert "taikan" in summary and "3 件" in summary and "koukei" in summary
    assert page.locator("#greeting").count() == 1  # step 4: the successor's greeting (optional)
    assert serious_violations(page) == []
    shot(page, "handover-4")
    with live.runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        owners = set(
            ctx.session.execute(
                select(Customer.owner_id).where(Customer.owner_id.in_([departing, successor]))
            ).scalars()
        )
    assert owners == {successor}
    page.goto(f"{live.url}/handovers")
    assert "taikan" in page.content() and "koukei" in page.content()
