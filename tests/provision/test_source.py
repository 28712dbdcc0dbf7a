"""Provision and receipt records in the person's disclosure (R-33-3): summary, export, not correctable, kept on
erasure until retention ends (R-29-4), recipients for notification (G-19)."""

from __future__ import annotations

import pytest

from mamori.customers.service import subjects
from mamori.kernel import registry
from mamori.kernel.errors import ValidationFailed
from mamori.provision import service
from mamori.provision.schemas import ReceiveIn
from mamori.provision.service import receiving
from tests.provision.conftest import add_cp, consent, customers, provide_in


def source():
    return next(s for s in registry.sources() if s.name == "provision")


def test_records_are_disclosed_not_corrected_and_kept_on_erasure_R_33_3(runtime, actors):
    po = actors["po"]
    cp = add_cp(runtime, po)
    police = add_cp(runtime, po, name="架空警察署", public_body=True)
    provider = add_cp(runtime, po, name="架空名簿株式会社")
    a, b = customers(runtime, po, 2)
    consent(runtime, po, a, cp)
    exc = {"code": "law", "decided_by": "法務部", "reason": "照会書 第9号"}
    with runtime.transaction(po) as ctx:
        service.provide(ctx, provide_in(cp, [a]))
        service.provide(ctx, provide_in(police, [a], basis="exception", exception=exc))
        receiving.record(
            ctx,
            ReceiveIn(
                counterparty_id=provider,
                variant="non_operator",
                identity_confirmed_by="身分証の確認",
                acquisition="本人から直接",
                acquisition_lawful=True,
            ),
            import_job_id=None,
            items=["name"],
            customer_ids=[a],
        )
    src = source()
    with runtime.transaction(po) as ctx:
        # the exempt (voluntary) record is outside the disclosure right; b has none
        assert src.summary(ctx, a) == {"provision_record": 1, "receipt_record": 1}
        assert src.summary(ctx, b) == {}
        records = src.export(ctx, a)
        assert {r.category for r in records} == {"provision_record", "receipt_record"}
        provided = next(r for r in records if r.category == "provision_record")
        assert provided.data["counterparty_name"] == "架空データ販売株式会社"
        assert provided.data["subject"] == {"name": "試験 0郎"} and provided.correctable == ()
        with pytest.raises(ValidationFailed):
            src.correct(ctx, a, provided.record_id, {"items": "name"})
        assert {r.counterparty_id for r in src.recipients(ctx, a)} == {cp, police}
        assert src.recipients(ctx, b) == []
    with runtime.transaction(po) as ctx:
        subjects.erase(ctx, a)
        assert src.erase(ctx, a) == 0
    with runtime.transaction(po) as ctx:
        assert src.summary(ctx, a) == {"provision_record": 1, "receipt_record": 1}
        assert src.export(ctx, a)[0].data["subject"] is not None
