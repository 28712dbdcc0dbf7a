"""Fixtures of the notice tests: a store with the operator's settings, the test purposes, one staff user per role,
a joint use and a storage location abroad (the registries the notice is generated from)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mamori.inventory import service as inventory_service
from mamori.inventory.schemas import LocationIn
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.provision import service as provision_service
from mamori.provision.schemas import CounterpartyIn, JointUseIn
from mamori.provision.service import joint_use

OPERATOR = {
    "operator_name": "架空商事株式会社",
    "operator_address": "東京都千代田区架空町1-2-3",
    "operator_representative": "代表取締役 架空太郎",
    "privacy_contact": "お客様相談室 privacy@example.co.jp",
    "request_fee_yen": 1000,
    "fee_payment": "郵便為替または銀行振込",
    "accredited_body": "一般財団法人 架空個人情報保護協会",
}
FOREIGN_NOTE = "連邦レベルの包括的な個人情報保護法はなく、州法と分野別の法律がある（架空の説明）。"


@pytest.fixture
def make_runtime(settings_factory, clock):
    from mamori import composition
    from mamori.kernel.runtime import Runtime

    composition.register_all()
    opened = []

    def make(**overrides):
        rt = Runtime(settings_factory(**overrides), clock=clock)
        rt.init()
        opened.append(rt)
        return rt

    yield make
    for rt in opened:
        rt.close()


def seed_registries(rt) -> dict[str, str]:
    """A joint use (R-27-2) with one joint user, and a storage location in the US (R-23-7)."""
    now = rt.clock.now()
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        member = provision_service.add_counterparty(
            ctx,
            CounterpartyIn(
                kind="joint_user",
                name="架空グループ販売株式会社",
                address="大阪府大阪市架空区1-1",
                representative="代表取締役 架空次郎",
            ),
        )
        joint_use.declare(
            ctx,
            JointUseIn(
                code="group-sales",
                items=["name", "email", "phone"],
                member_ids=[member.id],
                users_scope="当社グループの販売会社",
                purposes=["contract"],
                responsible_name="架空商事株式会社",
                responsible_address="東京都千代田区架空町1-2-3",
                responsible_representative="代表取締役 架空太郎",
                notified_at=now - timedelta(days=30),
                effective_from=now - timedelta(days=1),
            ),
        )
        inventory_service.add_location(
            ctx,
            LocationIn(
                code="us-backup",
                name="バックアップ",
                kind="backup",
                operator="Example Cloud Inc.",
                country="US",
                foreign_note=FOREIGN_NOTE,
            ),
        )
    return {"member": member.id}
