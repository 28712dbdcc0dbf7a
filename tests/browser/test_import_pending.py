"""The privacy officer approves an imported row held for approval, in a real browser (issue 19, seed 001 case 3):
the queue without a value, the row opened for a purpose, the R-21-1 statement ticked, the customer added — each
page without a serious accessibility violation (axe-core)."""

from __future__ import annotations

import pytest
from faker import Faker

from mamori.customers.models import ImportJob, ImportPending
from mamori.customers.schemas import CustomerCreate, ProvenanceIn
from mamori.customers.service import import_pending
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.db import new_id
from mamori.staff import service as staff_service
from tests.browser.conftest import Live, shot, sign_in
from tests.browser.test_shell import serious_violations

pytestmark = pytest.mark.browser


def _held_row(live: Live, name: str, email: str) -> str:
    rt = live.runtime
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        officer = staff_service.actor_for(ctx, "hoshino")
    job_id = new_id()
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            ImportJob(
                id=job_id,
                file_sha256="1" * 64,
                source="営業部の名刺リスト",
                purposes="contract",
                status="done",
                rows_total=1,
                lines_done=1,
                options="{}",
                created_at=ctx.clock.now(),
                created_by=officer.label,
            )
        )
    with rt.transaction(officer) as ctx:
        return import_pending.hold(
            ctx,
            job_id=job_id,
            line=12,
            data=CustomerCreate(
                name=name, kana="カクウ ジロウ", emails=[email], address="東京都港区芝公園4-2-8"
            ),
            extra={"registered_on": "2020-02-02"},
            owner_id=None,
            purposes=["contract"],
            notified=[],
            provenance=ProvenanceIn(method="direct", channel="event", source="営業部の名刺リスト"),
        )


def test_the_privacy_officer_approves_a_held_row(page, live: Live):
    fake = Faker("ja_JP")
    name, email = fake.name(), f"held.{fake.random_int(1000, 9999)}@example.jp"
    pid = _held_row(live, name, email)
    sign_in(page, live, "hoshino")
    page.goto(live.url + "/imports/pending")
    assert page.get_by_role("heading", name="承認待ちの取り込み行").is_visible()
    body = page.inner_text("body")
    assert "通知済みの利用目的が不足" in body and name not in body and email not in body
    assert serious_violations(page) == []
    page.get_by_role("link", name="12行目を開く").click()
    page.wait_for_url(f"**/imports/pending/{pid}")
    assert serious_violations(page) == []
    page.locator("#pending-purpose").select_option("contract")
    page.get_by_role("button", name="開く").click()
    page.wait_for_url(f"**/imports/pending/{pid}?purpose=contract")
    assert name in page.inner_text("#pending-values") and email in page.inner_text("#pending-values")
    assert serious_violations(page) == []
    shot(page, "import-pending")
    page.get_by_label("取り込みの利用目的を本人に通知した（または公表している）ことを確認しました").check()
    page.get_by_role("button", name="承認して登録する").click()
    page.wait_for_url("**/imports/pending?done=approved")
    assert "承認しました" in page.inner_text("body") and name not in page.url
    assert serious_violations(page) == []
    with live.runtime.sessions() as s:
        row = s.get(ImportPending, pid)
        assert row is not None and row.status == "approved" and row.row_enc is None and row.customer_id
    assert live.runtime.keystore.is_destroyed(pid)
