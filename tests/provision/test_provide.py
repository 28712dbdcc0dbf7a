"""Providing data: consent (R-27-1), 27(1) exceptions, stop requests (R-35-1), foreign recipients (R-28-1/3),
records (R-29-1, R-29-2, R-29-3) and their retention (R-29-4)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from mamori.consent import service as consent_service
from mamori.customers.service import subjects
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.provision import service
from mamori.provision.models import ProvisionRecord
from mamori.provision.schemas import ProvideIn
from mamori.provision.service import ProvisionRefused
from mamori.provision.service.records import add_years
from tests.factories import make_customer
from tests.provision.conftest import NOW, add_cp, add_sheet, consent, customers, days, provide_in


def test_consent_is_required_per_person_all_or_nothing_R_27_1(runtime, actors):
    po = actors["po"]
    cp = add_cp(runtime, po)
    a, b, c = customers(runtime, po, 3)
    consent(runtime, po, a, cp)
    consent(runtime, po, c, cp)
    with pytest.raises(ProvisionRefused) as e, runtime.transaction(po) as ctx:
        service.provide(ctx, provide_in(cp, [a, b, c]))
    assert [(r.customer_id, r.rule_id) for r in e.value.refusals] == [(b, "R-27-1")]
    assert e.value.rule_id == "R-27-1"
    with runtime.sessions() as s:  # nothing was provided, nothing recorded
        assert s.scalar(select(func.count()).select_from(ProvisionRecord)) == 0
    with runtime.transaction(po) as ctx:
        res = service.provide(ctx, provide_in(cp, [a, b, c], skip_refused=True))
    assert res.provided == 2 and [r.customer_id for r in res.refused] == [b]
    # the export holds only the named fields (and the id), never the others
    assert {tuple(sorted(row)) for row in res.rows} == {("customer_id", "email", "name")}
    assert {row["email"] for row in res.rows} == {"user0@example.jp", "user2@example.jp"}


def test_withdrawn_consent_no_longer_covers_R_27_1(runtime, actors):
    po = actors["po"]
    cp = add_cp(runtime, po)
    (a,) = customers(runtime, po, 1)
    consent_id = consent(runtime, po, a, cp)
    with runtime.transaction(po) as ctx:
        service.withdraw_consent(ctx, consent_id)
        assert service.list_consents(ctx, customer_id=a)[0].withdrawn_at is not None
    with pytest.raises(ProvisionRefused), runtime.transaction(po) as ctx:
        service.provide(ctx, provide_in(cp, [a]))


def test_stop_request_refuses_provision_R_35_1(runtime, actors):
    po = actors["po"]
    cp = add_cp(runtime, po)
    a, b = customers(runtime, po, 2)
    consent(runtime, po, a, cp)
    consent(runtime, po, b, cp)
    with runtime.transaction(po) as ctx:
        consent_service.suppress(ctx, a, "provision", None, "req-1")
    with pytest.raises(ProvisionRefused) as e, runtime.transaction(po) as ctx:
        service.provide(ctx, provide_in(cp, [a, b]))
    assert [(r.customer_id, r.rule_id) for r in e.value.refusals] == [(a, "R-35-1")]


def test_recorded_exception_needs_no_consent_and_is_exempt_R_29_3(runtime, actors):
    po = actors["po"]
    cp = add_cp(runtime, po, name="架空警察署", public_body=True)
    (a,) = customers(runtime, po, 1)
    exc = {"code": "law", "decided_by": "法務部 架空", "reason": "捜査関係事項照会 第123号"}
    with pytest.raises(ValidationFailed), runtime.transaction(po) as ctx:
        service.provide(ctx, provide_in(cp, [a], basis="exception"))  # no exception recorded
    with runtime.transaction(po) as ctx:
        res = service.provide(ctx, provide_in(cp, [a], basis="exception", exception=exc))
        rec = service.show_record(ctx, res.record_ids[0])
    assert rec.exempt_code == "27-1-law" and rec.kind == "exempt"
    with pytest.raises(ValidationError):
        provide_in(cp, [a], basis="exception", exception={**exc, "code": "convenient"})
    other = add_cp(runtime, po, name="架空市役所", public_body=True)
    consent(runtime, po, a, other)
    with runtime.transaction(po) as ctx:
        res = service.provide(ctx, provide_in(other, [a]))
        assert service.show_record(ctx, res.record_ids[0]).exempt_code == "16-2"


def test_record_fields_and_erasure_survival_R_29_2_R_29_4(runtime, actors, clock):
    po = actors["po"]
    cp = add_cp(runtime, po)
    a = make_customer(runtime, po, name="記録 花子", email="hanako@example.jp")
    consent(runtime, po, a, cp)
    with runtime.transaction(po) as ctx:
        res = service.provide(ctx, provide_in(cp, [a]))
    with runtime.transaction(po) as ctx:
        rec = service.show_record(ctx, res.record_ids[0])
    assert rec.kind == "consent" and rec.consent_fact and rec.consent_fact.startswith("consent:")
    assert (rec.counterparty_name, rec.counterparty_address, rec.counterparty_representative) == (
        "架空データ販売株式会社",
        "東京都港区架空1-2-3",
        "代表取締役 架空一郎",
    )
    assert rec.items == ["email", "name"] and rec.subject == {"name": "記録 花子"}
    assert rec.retention_until == add_years(NOW, 3)  # 3 years from creation
    with runtime.sessions() as s:  # the identifying information is ciphertext, not plaintext
        blob = s.get(ProvisionRecord, rec.id).subject_enc
        assert blob and "記録".encode() not in blob
    with runtime.transaction(po) as ctx:
        subjects.erase(ctx, a)
    with runtime.transaction(po) as ctx:  # sealed under a system key: readable after the person's key is gone
        assert service.show_record(ctx, rec.id).subject == {"name": "記録 花子"}
        assert service.purge_expired(ctx, apply=True).purged == 0
    clock.advance(days(3 * 365 + 1))
    with runtime.transaction(po) as ctx:
        dry = service.purge_expired(ctx)
        assert (dry.dry_run, dry.expired, dry.purged) == (True, 1, 0)
    with runtime.transaction(po) as ctx:
        assert service.show_record(ctx, rec.id).id == rec.id
        assert service.purge_expired(ctx, apply=True).purged == 1
    with pytest.raises(NotFound), runtime.transaction(po) as ctx:
        service.show_record(ctx, rec.id)


def test_bulk_record_for_continuous_provision_and_contract_medium_R_29_1_R_29_4(runtime, actors, clock):
    po = actors["po"]
    cp = add_cp(runtime, po)
    (a,) = customers(runtime, po, 1)
    consent(runtime, po, a, cp)
    with runtime.transaction(po) as ctx:
        first = service.provide(ctx, provide_in(cp, [a], continuous=True))
    clock.advance(days(30))
    with runtime.transaction(po) as ctx:
        second = service.provide(ctx, provide_in(cp, [a], continuous=True))
        assert second.record_ids == first.record_ids  # one bulk record, first/last dates
        rec = service.show_record(ctx, first.record_ids[0])
    assert rec.bulk and rec.first_at == NOW and rec.last_at == NOW + days(30)
    assert rec.retention_until == add_years(NOW + days(30), 3)
    with runtime.transaction(po) as ctx:
        res = service.provide(ctx, provide_in(cp, [a], medium="contract"))
        rec = service.show_record(ctx, res.record_ids[0])
    assert rec.medium == "contract" and rec.retention_until == add_years(NOW + days(30), 1)


def test_foreign_recipient_needs_foreign_consent_R_28_1(runtime, actors):
    po = actors["po"]
    us = add_cp(runtime, po, country="US", name="Fictional Analytics Inc.")
    de = add_cp(runtime, po, country="DE", name="Fiktive GmbH")
    a, b = customers(runtime, po, 2)
    consent(runtime, po, a, de)
    with runtime.transaction(po) as ctx:  # EU: ordinary consent suffices
        assert service.provide(ctx, provide_in(de, [a])).provided == 1
    v = add_sheet(runtime, po, us)
    consent(runtime, po, a, us, sheet=v)
    with pytest.raises(ProvisionRefused) as e, runtime.transaction(po) as ctx:
        service.provide(ctx, provide_in(us, [a, b]))
    assert [(r.customer_id, r.rule_id) for r in e.value.refusals] == [(b, "R-27-1")]
    # succession abroad is not a third party (27(5)) but still needs foreign consent (R-28-1)
    heir = add_cp(runtime, po, country="US", name="Fictional Holdings", kind="succession")
    with pytest.raises(ProvisionRefused) as e, runtime.transaction(po) as ctx:
        service.provide(ctx, provide_in(heir, [a, b], basis="succession"))
    assert [(r.customer_id, r.rule_id) for r in e.value.refusals] == [(a, "R-28-1"), (b, "R-28-1")]


def test_overdue_system_review_refuses_provision_R_28_3(runtime, actors, clock):
    po = actors["po"]
    sg = add_cp(runtime, po, country="SG", name="Fictional Pte Ltd", system_kind="contract")
    (a,) = customers(runtime, po, 1)
    heir = add_cp(
        runtime, po, country="SG", name="Fictional Group", kind="succession", system_kind="contract"
    )
    with runtime.transaction(po) as ctx:  # a valid 基準適合体制 covers the foreign transfer
        res = service.provide(ctx, provide_in(heir, [a], basis="succession"))
        # abroad, succession is no exemption from the record duty (R-29-3: only 27(1) exceptions are)
        rec = service.show_record(ctx, res.record_ids[0])
        assert res.provided == 1 and rec.exempt_code is None and rec.kind == "succession"
    clock.advance(days(366))
    with pytest.raises(ProvisionRefused) as e, runtime.transaction(po) as ctx:
        service.provide(ctx, provide_in(heir, [a], basis="succession"))
    assert [(r.customer_id, r.rule_id) for r in e.value.refusals] == [(a, "R-28-3")]
    exc = {"code": "life", "decided_by": "架空", "reason": "災害時の安否確認"}
    with runtime.transaction(po) as ctx:  # 27(1) exceptions still apply abroad (R-28-1 (c))
        assert service.provide(ctx, provide_in(sg, [a], basis="exception", exception=exc)).provided == 1


def test_bad_input_and_roles(runtime, actors):
    po = actors["po"]
    cp = add_cp(runtime, po)
    (a,) = customers(runtime, po, 1)
    consent(runtime, po, a, cp)
    for bad in (
        {"fields": []},
        {"customer_ids": ["not-an-id"]},
        {"purpose": "Bad Purpose"},
        {"counterparty_id": "x"},
        {"basis": "whim"},
        {"out_format": "xml"},
    ):
        with pytest.raises(ValidationError):
            ProvideIn.model_validate({**provide_in(cp, [a]).model_dump(), **bad})
    with runtime.transaction(po) as ctx:
        with pytest.raises(ValidationFailed):
            service.provide(ctx, provide_in(cp, [a], fields=["password"]))
        with pytest.raises(ValidationFailed):  # both ids and a query
            service.provide(ctx, provide_in(cp, [a], notified_purpose="contract"))
        with pytest.raises(NotFound):
            service.provide(ctx, provide_in(cp, ["f" * 32]))
        with pytest.raises(NotFound):
            service.provide(ctx, provide_in(cp, [a], purpose="no-such"))
        with pytest.raises(PolicyDenied):  # succession basis to a third party
            service.provide(ctx, provide_in(cp, [a], basis="succession"))
    for who in ("sato", "analyst", "support"):
        with pytest.raises(PolicyDenied), runtime.transaction(actors[who]) as ctx:
            service.provide(ctx, provide_in(cp, [a]))


def test_query_selects_customers_notified_of_a_purpose(runtime, actors):
    po = actors["po"]
    cp = add_cp(runtime, po)
    a = make_customer(runtime, po, email="a@example.jp", purposes=("contract",))
    make_customer(runtime, po, email="b@example.jp", purposes=("marketing-email",))
    consent(runtime, po, a, cp)
    with runtime.transaction(po) as ctx:
        res = service.provide(ctx, provide_in(cp, None, notified_purpose="contract", customer_ids=None))
    assert [r["customer_id"] for r in res.rows] == [a]


def test_a_widened_purpose_provides_new_fields_only_after_the_new_notice_R_17_2_R_18_1(runtime, actors):
    """P4 on the provision path: `provide` hands on only the categories the purpose covers (R-18-1), and a revision
    adding a category does not let it hand that category on for a person told only the earlier version; once they
    are notified of the new version it does (R-17-2)."""
    from mamori.customers.schemas import NoticeIn
    from mamori.customers.service import notices
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.kernel.policy import Category
    from mamori.purposes import service as purposes_service
    from tests.factories import PURPOSES

    po = actors["po"]
    cp = add_cp(runtime, po)
    a, b = (
        make_customer(runtime, po, email=f"p{i}@example.jp", phone=None, purposes=("partner-sharing",))
        for i in range(2)
    )
    for cid in (a, b):
        consent(runtime, po, cid, cp, purpose="partner-sharing")
    wanted = {"purpose": "partner-sharing", "fields": ["name", "birth_date"]}
    with pytest.raises(ProvisionRefused) as before, runtime.transaction(po) as ctx:
        service.provide(ctx, provide_in(cp, [a, b], **wanted))  # v1 does not cover birth dates at all
    assert [(r.rule_id, r.reason) for r in before.value.refusals] == [("R-18-1", "field_outside_purpose")] * 2
    wider = PURPOSES["partner-sharing"].model_copy(
        update={"categories": [Category.IDENTIFIER, Category.CONTACT, Category.ATTRIBUTE]}
    )
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.revise(ctx, wider)
    with pytest.raises(ProvisionRefused) as e, runtime.transaction(po) as ctx:
        service.provide(ctx, provide_in(cp, [a, b], **wanted))
    assert [(r.customer_id, r.rule_id, r.reason) for r in e.value.refusals] == [
        (a, "R-17-2", "purpose_version_not_notified"),
        (b, "R-17-2", "purpose_version_not_notified"),
    ]
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProvisionRecord)) == 0
    with runtime.transaction(po) as ctx:
        notices.notify(ctx, NoticeIn(purpose="partner-sharing", method="notified", customer_ids=[a]))
    with pytest.raises(ProvisionRefused) as e2, runtime.transaction(po) as ctx:
        service.provide(ctx, provide_in(cp, [a, b], **wanted))
    assert [(r.customer_id, r.rule_id) for r in e2.value.refusals] == [(b, "R-17-2")]
    with runtime.transaction(po) as ctx:
        res = service.provide(ctx, provide_in(cp, [a, b], skip_refused=True, **wanted))
    assert res.provided == 1 and [row["customer_id"] for row in res.rows] == [a]
    assert res.rows[0]["birth_date"] is not None
    # fields the person was told of still go without the new notice
    with runtime.transaction(po) as ctx:
        res = service.provide(ctx, provide_in(cp, [b], purpose="partner-sharing", fields=["name", "email"]))
    assert res.provided == 1
