"""Opt-out provision (R-27-4, R-27-5, R-27-6), joint use (R-27-2, R-27-3), receiving data (R-30-1, R-30-2,
R-20-1), personally referable information (R-31-1, R-31-2, R-31-3) and relay instead of disclosure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from mamori.customers import service as customers_service
from mamori.customers.schemas import AttributeIn
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Category
from mamori.provision import service
from mamori.provision.jobs import receive_file
from mamori.provision.schemas import (
    JointUseChangeIn,
    JointUseIn,
    OptOutChangeIn,
    OptOutIn,
    ReceiveIn,
    ReferableConfirmIn,
    ReferableProvideIn,
    RelayConsentIn,
    RelayOpenIn,
)
from mamori.provision.service import ProvisionRefused, joint_use, opt_out, receiving, referable, relay
from tests.factories import make_customer
from tests.provision.conftest import NOW, add_cp, add_sheet, customers, days, provide_in


def filing(cp: str | None, **extra: object) -> OptOutIn:
    data = {
        "counterparty_id": cp,
        "purpose": "partner-sharing",
        "items": ["name", "email"],
        "acquisition": "自社ウェブフォーム",
        "provision_method": "CSV の電子メール送付（暗号化）",
        "request_method": "ウェブフォームと電話で受付",
        "filed_at": NOW - days(60),
        "ppc_published_at": NOW - days(50),
        "notified_at": NOW - days(45),
        "objection_days": 30,
        "start_at": NOW - days(10),
        **extra,
    }
    return OptOutIn.model_validate(data)


def test_opt_out_needs_a_purpose_that_includes_third_party_provision_R_27_4(runtime, actors):
    cp = add_cp(runtime, actors["po"])
    with pytest.raises(PolicyDenied) as e, runtime.transaction(actors["po"]) as ctx:
        opt_out.file(ctx, filing(cp, purpose="contract"))  # the contract purpose does not provide to others
    assert e.value.rule_id == "R-27-4" and e.value.code == "purpose_not_third_party"


def test_opt_out_needs_a_filing_and_the_objection_period_R_27_4(runtime, actors, clock):
    po = actors["po"]
    cp = add_cp(runtime, po)
    (a,) = customers(runtime, po, 1)
    with pytest.raises(PolicyDenied) as e, runtime.transaction(po) as ctx:
        service.provide(ctx, provide_in(cp, [a], basis="opt_out", purpose="partner-sharing"))
    assert e.value.rule_id == "R-27-4"
    with pytest.raises(PolicyDenied) as e, runtime.transaction(po) as ctx:  # start before notice + 30 days
        opt_out.file(ctx, filing(cp, start_at=NOW - days(40)))
    assert e.value.rule_id == "R-27-4"
    with runtime.transaction(po) as ctx:
        unpublished = opt_out.file(ctx, filing(cp, ppc_published_at=None))
        assert not unpublished.usable
        good = opt_out.file(ctx, filing(cp))
        assert good.usable
    with pytest.raises(PolicyDenied), runtime.transaction(po) as ctx:
        service.provide(
            ctx,
            provide_in(cp, [a], basis="opt_out", purpose="partner-sharing", opt_out_filing_id=unpublished.id),
        )
    with pytest.raises(PolicyDenied), runtime.transaction(po) as ctx:  # a field outside the filing
        service.provide(
            ctx,
            provide_in(
                cp,
                [a],
                basis="opt_out",
                purpose="partner-sharing",
                opt_out_filing_id=good.id,
                fields=["name", "address"],
            ),
        )
    with pytest.raises(ValidationFailed) as e, runtime.transaction(po) as ctx:  # never a bulk record (R-29-1)
        service.provide(
            ctx,
            provide_in(
                cp,
                [a],
                basis="opt_out",
                purpose="partner-sharing",
                opt_out_filing_id=good.id,
                continuous=True,
            ),
        )
    assert e.value.rule_id == "R-29-1"
    with runtime.transaction(po) as ctx:
        res = service.provide(
            ctx, provide_in(cp, [a], basis="opt_out", purpose="partner-sharing", opt_out_filing_id=good.id)
        )
        rec = service.show_record(ctx, res.record_ids[0])
    assert rec.kind == "opt_out" and not rec.bulk and rec.first_at == NOW


def test_opt_out_never_for_sensitive_received_or_improper_data_R_27_5(runtime, actors, tmp_path):
    po = actors["po"]
    cp = add_cp(runtime, po)
    provider = add_cp(runtime, po, name="架空名簿株式会社")
    a, b, c = customers(runtime, po, 3)
    sens = make_customer(runtime, po, email="s@example.jp", purposes=("contract", "health-service"))
    with runtime.transaction(po, purpose="health-service") as ctx:
        customers_service.add_attribute(
            ctx,
            sens,
            AttributeIn(key="allergy", value="そば", category=Category.SENSITIVE),
            sensitive_exception="life",
        )
    with runtime.transaction(po) as ctx:
        good = opt_out.file(ctx, filing(cp))
        service.mark_improper(ctx, b, "内部調査 2026-11")
        receipt = ReceiveIn(
            counterparty_id=provider,
            variant="opt_out",
            identity_confirmed_by="登記事項証明書",
            acquisition="提供元のオプトアウト届出に基づく",
            acquisition_lawful=True,
            ppc_publication_confirmed=True,
        )
        receiving.record(ctx, receipt, import_job_id=None, items=["name", "email"], customer_ids=[c])
    with pytest.raises(ProvisionRefused) as e, runtime.transaction(po) as ctx:
        service.provide(
            ctx,
            provide_in(
                cp, [a, b, c, sens], basis="opt_out", purpose="partner-sharing", opt_out_filing_id=good.id
            ),
        )
    assert [(r.customer_id, r.rule_id) for r in e.value.refusals] == [
        (b, "R-27-5"),
        (c, "R-27-5"),
        (sens, "R-27-5"),
    ]
    with runtime.transaction(po) as ctx:
        res = service.provide(
            ctx,
            provide_in(
                cp,
                [a, b, c, sens],
                basis="opt_out",
                purpose="partner-sharing",
                opt_out_filing_id=good.id,
                skip_refused=True,
            ),
        )
    assert [r["customer_id"] for r in res.rows] == [a]


def test_opt_out_changes_in_advance_or_without_delay_R_27_6(runtime, actors):
    po = actors["po"]
    cp = add_cp(runtime, po)
    (a,) = customers(runtime, po, 1)
    with runtime.transaction(po) as ctx:
        f = opt_out.file(ctx, filing(cp))
    late = OptOutChangeIn(
        item="items", new_value="name,email,address", notified_at=NOW, filed_at=NOW, effective_at=NOW
    )
    with pytest.raises(PolicyDenied) as e, runtime.transaction(po) as ctx:
        opt_out.change(ctx, f.id, late)
    assert e.value.rule_id == "R-27-6"
    ahead = late.model_copy(update={"effective_at": NOW + days(14)})
    with runtime.transaction(po) as ctx:
        assert opt_out.change(ctx, f.id, ahead).version == 2
    with pytest.raises(PolicyDenied), runtime.transaction(po) as ctx:  # the pending change blocks provision
        service.provide(
            ctx, provide_in(cp, [a], basis="opt_out", purpose="partner-sharing", opt_out_filing_id=f.id)
        )
    stop = OptOutChangeIn(item="stop", new_value="提供停止", notified_at=NOW, filed_at=NOW, effective_at=NOW)
    with runtime.transaction(po) as ctx:
        assert opt_out.change(ctx, f.id, stop).stopped_at == NOW
        assert not opt_out.show(ctx, f.id).usable
    with pytest.raises(ValidationError):
        OptOutChangeIn(item="colour", new_value="x", notified_at=NOW, filed_at=NOW, effective_at=NOW)


def declaration(members: list[str], **extra: object) -> JointUseIn:
    data = {
        "code": "group-crm",
        "items": ["name", "email", "phone"],
        "member_ids": members,
        "users_scope": "架空ホールディングスの連結子会社",
        "purposes": ["contract"],
        "responsible_name": "架空ホールディングス株式会社",
        "responsible_address": "東京都千代田区架空2-2-2",
        "responsible_representative": "代表取締役 架空二郎",
        "notified_at": NOW - days(7),
        "effective_from": NOW - days(1),
        **extra,
    }
    return JointUseIn.model_validate(data)


def test_joint_use_needs_no_consent_within_the_declaration_R_27_2(runtime, actors):
    po = actors["po"]
    member = add_cp(runtime, po, kind="joint_user", name="架空子会社A")
    outsider = add_cp(runtime, po, kind="joint_user", name="架空子会社B")
    third = add_cp(runtime, po)
    (a,) = customers(runtime, po, 1)
    with pytest.raises(ValidationFailed), runtime.transaction(po) as ctx:  # members must be joint users
        joint_use.declare(ctx, declaration([third]))
    with pytest.raises(PolicyDenied) as e, runtime.transaction(po) as ctx:  # joint use before the notice
        joint_use.declare(ctx, declaration([member], effective_from=NOW - days(10)))
    assert e.value.rule_id == "R-27-2"
    with runtime.transaction(po) as ctx:
        d = joint_use.declare(ctx, declaration([member]))
    with runtime.transaction(po) as ctx:
        res = service.provide(ctx, provide_in(member, [a], basis="joint_use", joint_use_id=d.id))
        assert res.provided == 1
        assert service.show_record(ctx, res.record_ids[0]).exempt_code == "27-5-3"
    for bad in (
        provide_in(outsider, [a], basis="joint_use", joint_use_id=d.id),
        provide_in(member, [a], basis="joint_use", joint_use_id=d.id, fields=["name", "address"]),
        provide_in(member, [a], basis="joint_use", joint_use_id=d.id, purpose="marketing-email"),
        provide_in(member, [a], basis="joint_use"),
        provide_in(third, [a], basis="joint_use", joint_use_id=d.id),
    ):
        with pytest.raises(PolicyDenied) as e, runtime.transaction(po) as ctx:
            service.provide(ctx, bad)
        assert e.value.rule_id == "R-27-2"


def test_joint_use_changes_respect_their_timing_R_27_3(runtime, actors):
    po = actors["po"]
    member = add_cp(runtime, po, kind="joint_user", name="架空子会社A")
    with runtime.transaction(po) as ctx:
        d = joint_use.declare(ctx, declaration([member]))

    def change(**kw: object) -> JointUseChangeIn:
        return JointUseChangeIn.model_validate({"notified_at": NOW, "effective_at": NOW, **kw})

    with pytest.raises(PolicyDenied) as e, runtime.transaction(po) as ctx:  # purposes: in advance
        joint_use.change(ctx, d.id, change(item="purposes", new_value="contract,marketing-email"))
    assert e.value.rule_id == "R-27-3"
    with pytest.raises(PolicyDenied) as e, runtime.transaction(po) as ctx:  # items: only with consent
        joint_use.change(
            ctx, d.id, change(item="items", new_value="name,email,address", effective_at=NOW + days(30))
        )
    assert e.value.rule_id == "R-27-3"
    with runtime.transaction(po) as ctx:  # the responsible party's address: notified after, without delay
        got = joint_use.change(
            ctx,
            d.id,
            change(item="responsible_address", new_value="大阪府大阪市架空3-3", effective_at=NOW - days(1)),
        )
        assert got.responsible_address == "大阪府大阪市架空3-3" and got.version == 2
        got = joint_use.change(
            ctx,
            d.id,
            change(
                item="purposes", new_value="contract,marketing-email", effective_at=NOW + timedelta(days=14)
            ),
        )
        assert got.purposes == ["contract", "marketing-email"] and len(got.changes) == 2
        got = joint_use.change(
            ctx,
            d.id,
            change(item="items", new_value="name,email", consent_reference="同意取得キャンペーン 2026-11"),
        )
        assert got.items == ["name", "email"]


def receive_in(provider: str, **extra: object) -> ReceiveIn:
    data = {
        "counterparty_id": provider,
        "variant": "consent",
        "identity_confirmed_by": "提供元の申告書",
        "acquisition": "提供元の会員登録時に第三者提供の同意を取得",
        "acquisition_lawful": True,
        "consent_confirmed": True,
        **extra,
    }
    return ReceiveIn.model_validate(data)


def test_receiving_requires_the_confirmation_and_writes_records_R_30_1_R_30_2(runtime, actors, tmp_path):
    po = actors["po"]
    provider = add_cp(runtime, po, name="架空名簿株式会社")
    f = tmp_path / "in.csv"
    f.write_text("name,email\n受領 一郎,ichiro@example.jp\n受領 二郎,jiro@example.jp\n", encoding="utf-8")
    with pytest.raises(NotFound):  # the provider must be a registered counterparty (R-30-1)
        receive_file(runtime, po, f, receive_in("0" * 32), purposes=["contract"])
    with pytest.raises(PolicyDenied) as e:  # lawful acquisition cannot be stated (R-20-1)
        receive_file(runtime, po, f, receive_in(provider, acquisition_lawful=False), purposes=["contract"])
    assert e.value.rule_id == "R-20-1"
    with pytest.raises(PolicyDenied) as e:  # opt-out data: the PPC publication must be confirmed (R-30-2)
        receive_file(runtime, po, f, receive_in(provider, variant="opt_out"), purposes=["contract"])
    assert e.value.rule_id == "R-30-2"
    with pytest.raises(PolicyDenied):
        receive_file(runtime, po, f, receive_in(provider, consent_confirmed=False), purposes=["contract"])
    with pytest.raises(PolicyDenied):
        receive_file(runtime, actors["sato"], f, receive_in(provider), purposes=["contract"])
    report, receipt = receive_file(
        runtime,
        po,
        f,
        receive_in(provider, variant="opt_out", ppc_publication_confirmed=True),
        purposes=["contract"],
    )
    assert report.created == 2 and receipt is not None and receipt.person_count == 2
    with runtime.transaction(po) as ctx:
        recs = service.list_records(ctx, direction="received")
        assert len(recs) == 2 and {r.kind for r in recs} == {"opt_out"}
        assert recs[0].consent_fact == "PPC publication confirmed" and recs[0].items == ["email", "name"]
        assert {service.show_record(ctx, r.id).subject["name"] for r in recs} == {"受領 一郎", "受領 二郎"}
        ids = [r.customer_id for r in recs]
        assert receiving.opt_out_received(ctx, [i for i in ids if i]) == set(ids)
    with pytest.raises(ValidationError):
        receive_in(provider, variant="gift")


def test_referable_information_needs_a_consent_confirmation_R_31_1_R_31_2_R_31_3(runtime, actors):
    po = actors["po"]
    dmp = add_cp(runtime, po, name="架空DMP株式会社")
    us = add_cp(runtime, po, country="US", name="Fictional Ads Inc.")
    feed = {"counterparty_id": dmp, "items": ["cookie_id", "browsing_history"], "count": 1200}
    with runtime.transaction(po) as ctx:  # no linkage expected: no confirmation, no record
        assert referable.provide(ctx, ReferableProvideIn(**feed, linkage_expected=False)).record_id is None
    with pytest.raises(PolicyDenied) as e, runtime.transaction(po) as ctx:
        referable.provide(ctx, ReferableProvideIn(**feed, linkage_expected=True))
    assert e.value.rule_id == "R-31-1"
    conf_in = {
        "counterparty_id": dmp,
        "items": ["cookie_id", "browsing_history"],
        "evidence": "誓約書 2026-11-01",
    }
    with pytest.raises(ValidationFailed) as e, runtime.transaction(po) as ctx:
        referable.confirm(ctx, ReferableConfirmIn(**{**conf_in, "items": ["all"]}, method="declaration"))
    assert e.value.rule_id == "R-31-3"
    with pytest.raises(ValidationError):
        ReferableConfirmIn(**conf_in, method="assumed")
    with runtime.transaction(po) as ctx:
        conf = referable.confirm(ctx, ReferableConfirmIn(**conf_in, method="declaration"))
        res = referable.provide(ctx, ReferableProvideIn(**feed, linkage_expected=True, confirmation_id=conf))
        rec = service.show_record(ctx, res.record_id or "")
    assert rec.kind == "referable" and rec.items == ["browsing_history", "cookie_id"]
    assert (
        rec.consent_fact and "declaration" in rec.consent_fact and rec.counterparty_name == "架空DMP株式会社"
    )
    with pytest.raises(PolicyDenied), runtime.transaction(po) as ctx:  # items beyond the confirmation
        referable.provide(
            ctx,
            ReferableProvideIn(
                **{**feed, "items": ["device_id"]}, linkage_expected=True, confirmation_id=conf
            ),
        )
    with (
        pytest.raises(PolicyDenied) as e,
        runtime.transaction(po) as ctx,
    ):  # abroad: R-28-2 info confirmed too
        referable.confirm(
            ctx, ReferableConfirmIn(**{**conf_in, "counterparty_id": us}, method="evidence_check")
        )
    assert e.value.rule_id == "R-28-2"
    v = add_sheet(runtime, po, us)
    with runtime.transaction(po) as ctx:
        conf = referable.confirm(
            ctx,
            ReferableConfirmIn(
                **{**conf_in, "counterparty_id": us},
                method="evidence_check",
                foreign_info_confirmed=True,
                sheet_version=v,
            ),
        )
        res = referable.provide(
            ctx,
            ReferableProvideIn(
                **{**feed, "counterparty_id": us}, linkage_expected=True, confirmation_id=conf
            ),
        )
        assert res.record_id is not None


def test_relay_instead_of_disclosure(runtime, actors):
    po = actors["po"]
    asker = make_customer(runtime, po, name="依頼 太郎", email="asker@example.jp")
    other = make_customer(runtime, po, name="相手 花子", email="other@example.jp", phone="080-1111-2222")
    with runtime.transaction(po) as ctx:
        r = relay.open_relay(
            ctx, RelayOpenIn(requester_id=asker, target_id=other, message="先日はありがとうございました")
        )
    assert r.disclosure_refused_rule == "R-27-1" and r.status == "open" and r.message is None
    with runtime.transaction(po) as ctx:
        r2 = relay.consent(
            ctx, r.id, RelayConsentIn(method="oral", evidence="通話 2026-11-23", share_contact=True)
        )
        assert r2.status == "consented"
        with pytest.raises(Conflict):
            relay.consent(ctx, r.id, RelayConsentIn(method="oral"))
    with runtime.transaction(po) as ctx:
        done = relay.deliver(ctx, r.id)
    assert done.message == "先日はありがとうございました"
    assert done.contact == {"email": "other@example.jp", "phone": "+818011112222"}
    with runtime.transaction(po) as ctx:
        recs = service.list_records(ctx, customer_id=other)
        assert len(recs) == 1 and recs[0].recipient_label == f"customer:{asker}"
        with pytest.raises(Conflict):
            relay.deliver(ctx, r.id)
    with runtime.transaction(po) as ctx:  # without the other's consent to share: the message only
        r = relay.open_relay(ctx, RelayOpenIn(requester_id=asker, target_id=other, message="再度の連絡です"))
        got = relay.deliver(ctx, r.id)
        assert got.contact is None and got.message == "再度の連絡です"
    with pytest.raises(ValidationFailed), runtime.transaction(po) as ctx:
        relay.open_relay(ctx, RelayOpenIn(requester_id=asker, target_id=asker, message="x"))
    with pytest.raises(ValidationError):
        RelayOpenIn(requester_id=asker, target_id=other, message="")
    with pytest.raises(PolicyDenied), runtime.transaction(actors["analyst"]) as ctx:
        relay.open_relay(ctx, RelayOpenIn(requester_id=asker, target_id=other, message="x"))
    with pytest.raises(PolicyDenied), runtime.transaction(actors["sato"]) as ctx:
        relay.open_relay(ctx, RelayOpenIn(requester_id=asker, target_id=other, message="x"))
    with runtime.transaction(actors["support"]) as ctx:  # the call center runs relays
        assert relay.open_relay(ctx, RelayOpenIn(requester_id=asker, target_id=other, message="x")).id
