"""委託先の監督 (R-25-1): contract gates, scoped operator access, audits, sub-outsourcing, handover, the
subject data source, and the foreign-outsourcee rule (R-28-1). 委託 is not a third party (R-27-2)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.customers import service as customers_service
from mamori.customers.schemas import ActivityIn
from mamori.kernel import registry
from mamori.kernel.context import SYSTEM_ACTOR, ActorKind, Role
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.processors import service
from mamori.processors.models import ProcessorContract, ProcessorHandover, ProcessorHandoverSubject
from mamori.processors.schemas import (
    CLAUSES,
    EVALUATION_ITEMS,
    AuditResultIn,
    AuditScheduleIn,
    ContractCreate,
    CustomersIn,
    DecisionIn,
    EndIn,
    EvaluationIn,
    HandoverIn,
    OperatorCreate,
    RemedyIn,
    SubcontractIn,
)
from mamori.provision.models import ProvisionRecord
from mamori.staff import service as staff_service
from mamori.staff.schemas import StaffCreate
from tests.factories import make_customer
from tests.processors.conftest import (
    add_counterparty,
    add_operator,
    all_meet,
    contract_data,
    running_contract,
)


def _read(world, customer_id: str, purpose: str = "contract"):
    with world.rt.transaction(world.operator, purpose) as ctx:
        return customers_service.get(ctx, customer_id)


def _denied_rule(world, customer_id: str, purpose: str = "contract") -> str | None:
    with pytest.raises(PolicyDenied) as exc, world.rt.transaction(world.operator, purpose) as ctx:
        customers_service.get(ctx, customer_id)
    return exc.value.rule_id


# -- contract gates -----------------------------------------------------------------------------------------------


def test_contract_without_every_clause_cannot_be_activated_R_25_1(runtime, actors):
    # given a contract missing the audit-right and breach-notice clauses, evaluated and passed
    po = actors["po"]
    cp = add_counterparty(runtime, po)
    clauses = [c for c in CLAUSES if c not in ("audit_right", "breach_notice")]
    with runtime.transaction(po) as ctx:
        c = service.add_contract(ctx, contract_data(cp, clauses=clauses))
        service.evaluate(ctx, c.id, all_meet())
    assert c.missing_clauses == ["breach_notice", "audit_right"]
    # when it is activated / then R-25-1 refuses it and it stays a draft
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(po) as ctx:
        service.activate(ctx, c.id)
    assert exc.value.rule_id == "R-25-1" and exc.value.code == "contract_clauses_missing"
    with runtime.transaction(po) as ctx:
        assert service.show_contract(ctx, c.id).status == "draft"


def test_activation_needs_a_passed_selection_evaluation_R_25_1(runtime, actors):
    po = actors["po"]
    cp = add_counterparty(runtime, po)
    with runtime.transaction(po) as ctx:
        c = service.add_contract(ctx, contract_data(cp))
    # no evaluation yet
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(po) as ctx:
        service.activate(ctx, c.id)
    assert exc.value.rule_id == "R-25-1" and exc.value.code == "evaluation_not_passed"
    # a failed evaluation (technical measures below ours)
    items = {i: "meets" for i in EVALUATION_ITEMS} | {"technical": "falls_short"}
    with runtime.transaction(po) as ctx:
        ev = service.evaluate(ctx, c.id, EvaluationIn(items=items))
    assert ev.result == "failed"
    with pytest.raises(PolicyDenied), runtime.transaction(po) as ctx:
        service.activate(ctx, c.id)
    # then a passed one
    with runtime.transaction(po) as ctx:
        assert service.evaluate(ctx, c.id, all_meet()).result == "passed"
        assert service.activate(ctx, c.id).status == "active"
    with pytest.raises(Conflict), runtime.transaction(po) as ctx:
        service.activate(ctx, c.id)


def test_evaluation_must_cover_every_gl_t_10_item():
    with pytest.raises(ValidationError):
        EvaluationIn(items={"basic_policy": "meets"})
    with pytest.raises(ValidationError):
        EvaluationIn(items={i: "meets" for i in EVALUATION_ITEMS} | {"astrology": "meets"})
    with pytest.raises(ValidationError):
        EvaluationIn(items={i: "perhaps" for i in EVALUATION_ITEMS})  # type: ignore[misc]


def test_contract_counterparty_must_be_an_outsourcee_R_27_2(runtime, actors):
    po = actors["po"]
    third = add_counterparty(runtime, po, kind="third_party")
    with pytest.raises(ValidationFailed) as exc, runtime.transaction(po) as ctx:
        service.add_contract(ctx, contract_data(third))
    assert exc.value.rule_id == "R-27-2"
    with pytest.raises(NotFound), runtime.transaction(po) as ctx:
        service.add_contract(ctx, contract_data("0" * 32))


def test_contract_bad_input_is_refused(runtime, actors):
    po = actors["po"]
    cp = add_counterparty(runtime, po)
    for bad in (
        {"fields": ["name", "salary"]},
        {"fields": []},
        {"purposes": ["Not A Code"]},
        {"clauses": ["no_such_clause"]},
        {"ends_on": date(2026, 10, 1)},
        {"ends_on": date(9999, 12, 31)},
        {"work": ""},
        {"work": "業務\x00"},
    ):
        with pytest.raises(ValidationError):
            contract_data(cp, **bad)
    with pytest.raises(ValidationError):
        contract_data("x")
    with pytest.raises(ValidationFailed) as exc, runtime.transaction(po) as ctx:
        service.add_contract(ctx, contract_data(cp, purposes=["no-such-purpose"]))
    assert exc.value.rule_id == "R-17-1"
    with pytest.raises(ValidationFailed), runtime.transaction(po) as ctx:
        service.add_contract(ctx, contract_data(cp, activity_write=True))  # needs the activities field


@pytest.mark.parametrize("who", ["admin", "sato", "support", "analyst"])
def test_only_the_privacy_officer_manages_outsourcees(runtime, actors, who):
    po = actors["po"]
    cp = add_counterparty(runtime, po)
    contract_id = running_contract(runtime, po, cp)
    with pytest.raises(PolicyDenied), runtime.transaction(actors[who]) as ctx:
        service.add_contract(ctx, contract_data(cp))
    with pytest.raises(PolicyDenied), runtime.transaction(actors[who]) as ctx:
        service.list_contracts(ctx)
    with pytest.raises(PolicyDenied), runtime.transaction(actors[who]) as ctx:
        service.handover(ctx, contract_id, HandoverIn())
    with pytest.raises(PolicyDenied), runtime.transaction(actors[who]) as ctx:
        service.end(ctx, contract_id, EndIn(disposal="deleted", evidence="cert-1"))
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProcessorContract)) == 1
        assert s.scalar(select(func.count()).select_from(ProcessorHandover)) == 0


# -- the operator's scoped access (grant provider) ----------------------------------------------------------------


def test_operator_reads_a_covered_customer_with_fields_outside_the_contract_masked_R_25_1(world):
    view = _read(world, world.covered)
    assert view.name == "架空 花子" and view.phones == ["+819012345678"]
    assert view.address is None and view.emails == [] and view.birth_date is None
    assert {"address", "emails", "birth_date", "activities"} <= set(view.masked)
    assert world.operator.kind == ActorKind.OUTSOURCEE


def test_operator_is_refused_an_uncovered_customer_R_25_1(world):
    assert _denied_rule(world, world.uncovered) == "R-25-1"


def test_operator_is_refused_for_a_purpose_outside_the_contract_R_25_1(world):
    assert _denied_rule(world, world.covered, "marketing-email") == "R-25-1"


def test_operator_is_refused_after_the_end_date_R_25_1(world):
    world.rt.clock.advance(timedelta(days=200))  # past 2027-03-31 JST
    assert _denied_rule(world, world.covered) == "R-25-1"


def test_failed_audit_suspends_access_until_remedied_R_25_1(world):
    with world.rt.transaction(world.po) as ctx:
        a = service.schedule_audit(ctx, world.contract_id, AuditScheduleIn(due_on=date(2026, 11, 20)))
        service.record_audit(
            ctx, a.id, AuditResultIn(result="failed", performed_on=date(2026, 11, 22), findings="ログ未取得")
        )
        assert service.show_contract(ctx, world.contract_id).status == "suspended"
    assert _denied_rule(world, world.covered) == "R-25-1"
    with world.rt.transaction(world.po) as ctx:
        with pytest.raises(PolicyDenied):
            service.handover(ctx, world.contract_id, HandoverIn())
    with world.rt.transaction(world.po) as ctx:
        service.remedy_audit(ctx, a.id, RemedyIn(remedy="アクセスログの取得を開始"))
        assert service.show_contract(ctx, world.contract_id).status == "active"
    assert _read(world, world.covered).name == "架空 花子"


def test_a_suspension_for_an_incident_outlives_a_remedied_audit_R_25_1(world):
    """Issue 22: an incident's suspension is lifted only by an explicit resume, not by remedying an audit."""
    with world.rt.transaction(world.po) as ctx:
        a = service.schedule_audit(ctx, world.contract_id, AuditScheduleIn(due_on=date(2026, 11, 20)))
        service.record_audit(
            ctx, a.id, AuditResultIn(result="failed", performed_on=date(2026, 11, 22), findings="ログ未取得")
        )
        service.suspend(ctx, world.contract_id, "incident")  # already suspended: now for the incident too
    with world.rt.transaction(world.po) as ctx:
        service.remedy_audit(ctx, a.id, RemedyIn(remedy="アクセスログの取得を開始"))
        assert service.show_contract(ctx, world.contract_id).status == "suspended"
    assert _denied_rule(world, world.covered) == "R-25-1"
    with world.rt.transaction(world.po) as ctx:
        assert service.resume(ctx, world.contract_id).status == "active"
    assert _read(world, world.covered).name == "架空 花子"


def test_ending_the_contract_ends_access_at_once_and_records_disposal_R_25_1(world):
    with world.rt.transaction(world.po) as ctx:
        ended = service.end(ctx, world.contract_id, EndIn(disposal="deleted", evidence="削除証明書 D-1"))
    assert ended.status == "ended" and ended.end_disposal == "deleted"
    assert _denied_rule(world, world.covered) == "R-25-1"
    with pytest.raises(Conflict), world.rt.transaction(world.po) as ctx:
        service.assign_customers(ctx, world.contract_id, CustomersIn(customer_ids=[world.uncovered]))


def test_grant_is_none_for_staff_and_for_an_unlinked_outsourcee(world):
    with world.rt.transaction(world.actors["support"]) as ctx:
        assert service.running_grant(ctx) is None
    with world.rt.transaction(world.po) as ctx:
        staff_service.add(
            ctx,
            StaffCreate(username="loose-op", display_name="x", role=Role.OUTSOURCEE),
        )
    with world.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        loose = staff_service.actor_for(s, "loose-op")
    with world.rt.transaction(loose) as ctx:
        assert registry.access_grant(ctx) is None
    with pytest.raises(PolicyDenied) as exc, world.rt.transaction(loose, "contract") as ctx:
        customers_service.get(ctx, world.covered)
    assert exc.value.rule_id == "R-25-1"
    with world.rt.transaction(world.operator) as ctx:
        grant = registry.access_grant(ctx)
    assert grant is not None and grant.customer_ids == frozenset({world.covered})
    assert grant.fields == frozenset({"name", "kana", "phones"}) and grant.purposes == frozenset({"contract"})


def test_operator_accounts_need_mfa_and_cannot_manage_contracts(world):
    assert staff_service.mfa_required(Role.OUTSOURCEE)
    with world.rt.transaction(world.po) as ctx:
        ops = service.list_operators(ctx, world.contract_id)
    assert [o.username for o in ops] == ["cc-op1"] and not ops[0].mfa_enrolled
    with pytest.raises(PolicyDenied), world.rt.transaction(world.operator) as ctx:
        service.list_contracts(ctx)
    with pytest.raises(Conflict), world.rt.transaction(world.po) as ctx:
        service.add_operator(ctx, world.contract_id, OperatorCreate(username="cc-op1", display_name="dup"))
    with pytest.raises(ValidationError):
        OperatorCreate(username="Bad Name", display_name="x")


# -- covered customers ------------------------------------------------------------------------------------------


def test_customers_by_purpose_query_and_unknown_ids(runtime, actors):
    po = actors["po"]
    cp = add_counterparty(runtime, po)
    a = make_customer(runtime, actors["sato"], email="a@example.jp")
    b = make_customer(runtime, actors["suzuki"], email="b@example.jp", purposes=("marketing-email",))
    contract_id = running_contract(runtime, po, cp)
    with runtime.transaction(po) as ctx:
        cov = service.assign_customers(ctx, contract_id, CustomersIn(purpose="contract"))
        assert cov.added == 1 and cov.total == 1
        again = service.assign_customers(ctx, contract_id, CustomersIn(customer_ids=[a, "f" * 32]))
        assert again.added == 0 and again.unknown == 1
        assert service.covered_customers(ctx, contract_id) == [a]
        with pytest.raises(ValidationFailed) as exc:
            service.assign_customers(ctx, contract_id, CustomersIn(purpose="marketing-email"))
        assert exc.value.rule_id == "R-25-1"
        removed = service.remove_customers(ctx, contract_id, [a])
        assert removed.total == 0
    with runtime.transaction(po) as ctx:
        assert b not in service.covered_customers(ctx, contract_id)
    with pytest.raises(ValidationError):
        CustomersIn(customer_ids=[a], purpose="contract")
    with pytest.raises(ValidationError):
        CustomersIn()
    with pytest.raises(ValidationError):
        CustomersIn(customer_ids=["not-an-id"])


# -- audits and sub-outsourcing ---------------------------------------------------------------------------------


def test_overdue_audits_are_obvious_in_list(world):
    with world.rt.transaction(world.po) as ctx:
        late = service.schedule_audit(ctx, world.contract_id, AuditScheduleIn(due_on=date(2026, 11, 1)))
        service.schedule_audit(
            ctx, world.contract_id, AuditScheduleIn(due_on=date(2027, 2, 1), method="on_site")
        )
    with world.rt.transaction(world.po) as ctx:
        [row] = service.list_contracts(ctx)
        assert row.overdue_audits == 1 and row.next_audit_due == date(2026, 11, 1)
        overdue = service.list_audits(ctx, overdue_only=True)
        assert [a.id for a in overdue] == [late.id]
        done = service.record_audit(
            ctx, late.id, AuditResultIn(result="passed", performed_on=date(2026, 11, 2))
        )
        assert not done.overdue
        with pytest.raises(Conflict):
            service.record_audit(ctx, late.id, AuditResultIn(result="passed", performed_on=date(2026, 11, 2)))
        with pytest.raises(Conflict):
            service.remedy_audit(ctx, late.id, RemedyIn(remedy="x"))
        with pytest.raises(ValidationFailed):
            service.record_audit(
                ctx,
                service.list_audits(ctx, world.contract_id)[-1].id,
                AuditResultIn(result="passed", performed_on=date(2030, 1, 1)),
            )
        with pytest.raises(NotFound):
            service.record_audit(
                ctx, "0" * 32, AuditResultIn(result="passed", performed_on=date(2026, 11, 2))
            )
        assert service.list_contracts(ctx)[0].overdue_audits == 0
    with pytest.raises(ValidationError):
        AuditScheduleIn(due_on=date(2027, 1, 1), method="tea")  # type: ignore[arg-type]


def test_sub_outsourcing_is_decided_by_the_privacy_officer_R_25_1(world):
    with world.rt.transaction(world.po) as ctx:
        req = service.request_subcontract(
            ctx,
            world.contract_id,
            SubcontractIn(
                subcontractor="架空印刷株式会社", work="DM の印刷", methods="閉域網で受け渡し、印刷後に削除"
            ),
        )
        assert req.status == "requested"
        ok = service.approve_subcontract(ctx, req.id, DecisionIn(note="安全管理措置を確認"))
        assert ok.status == "approved" and ok.decided_by == world.po.label
        with pytest.raises(Conflict):
            service.refuse_subcontract(ctx, req.id, DecisionIn())
        req2 = service.request_subcontract(
            ctx,
            world.contract_id,
            SubcontractIn(subcontractor="海外社", country="US", work="保守", methods="VPN"),
        )
        assert service.refuse_subcontract(ctx, req2.id, DecisionIn(note="不可")).status == "refused"
        detail = service.show_contract(ctx, world.contract_id)
    assert {s.id: s.status for s in detail.subcontracts} == {req.id: "approved", req2.id: "refused"}
    with pytest.raises(PolicyDenied), world.rt.transaction(world.actors["support"]) as ctx:
        service.approve_subcontract(ctx, req2.id, DecisionIn())
    with pytest.raises(ValidationError):
        SubcontractIn(subcontractor="", work="x", methods="y")
    with pytest.raises(ValidationError):
        SubcontractIn(subcontractor="x", work="x", methods="y", country="Japan")


# -- handover -----------------------------------------------------------------------------------------------------


def test_handover_exports_only_the_contract_fields_and_logs_no_values_R_25_1(world):
    with world.rt.transaction(world.po) as ctx:
        result = service.handover(ctx, world.contract_id, HandoverIn())
    assert result.record.fields == ["kana", "name", "phones"]
    assert result.rows == [
        {
            "customer_id": world.covered,
            "kana": "ヤマダ タロウ",
            "name": "架空 花子",
            "phones": "+819012345678",
        }
    ]
    with world.rt.sessions() as s:
        h = s.execute(select(ProcessorHandover)).scalar_one()
        subjects = list(s.execute(select(ProcessorHandoverSubject.customer_id)).scalars())
    assert h.customer_count == 1 and h.fields == ["kana", "name", "phones"] and subjects == [world.covered]
    world.rt.drain_outbox()
    entry = next(e for e in world.rt.audit.tail(20) if e.action == "processors.handover")
    assert set(entry.rule_ids) >= {"R-25-1", "R-27-2"} and entry.subject_ids == (world.covered,)
    assert "架空" not in repr(entry)
    with world.rt.transaction(world.po) as ctx:
        [logged] = service.list_handovers(ctx, world.contract_id)
    assert logged.customer_count == 1


def test_handover_refuses_a_field_the_work_does_not_need_R_25_1(world):
    with pytest.raises(PolicyDenied) as exc, world.rt.transaction(world.po) as ctx:
        service.handover(ctx, world.contract_id, HandoverIn(fields=["name", "address"]))
    assert exc.value.rule_id == "R-25-1" and exc.value.code == "field_not_needed"
    assert "address" in exc.value.message_en
    with world.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProcessorHandover)) == 0
    with pytest.raises(ValidationError):
        HandoverIn(fields=["salary"])


def test_handover_stops_after_a_failed_re_evaluation_R_25_1(world):
    items = {i: "meets" for i in EVALUATION_ITEMS}
    items["technical"] = "falls_short"
    with world.rt.transaction(world.po) as ctx:
        assert service.evaluate(ctx, world.contract_id, EvaluationIn(items=items)).result == "failed"
    with pytest.raises(PolicyDenied) as exc, world.rt.transaction(world.po) as ctx:
        service.handover(ctx, world.contract_id, HandoverIn(fields=["name"]))
    assert exc.value.rule_id == "R-25-1" and exc.value.code == "evaluation_not_passed"
    with world.rt.transaction(world.po) as ctx:  # a new passed evaluation lets handovers resume
        service.evaluate(ctx, world.contract_id, EvaluationIn(items={i: "meets" for i in EVALUATION_ITEMS}))
        assert (
            service.handover(ctx, world.contract_id, HandoverIn(fields=["name"])).record.customer_count == 1
        )


def test_handover_withholds_customers_who_stopped_the_use_or_were_not_notified(world):
    # given a covered customer who withdrew consent to a consent-based contract purpose
    rt, po = world.rt, world.po
    cid = make_customer(rt, world.actors["sato"], email="mk@example.jp")
    contract_id = running_contract(
        rt, po, world.counterparty_id, purposes=["marketing-email"], fields=["name"]
    )
    with rt.transaction(po) as ctx:
        service.assign_customers(ctx, contract_id, CustomersIn(customer_ids=[cid, world.covered]))
    with rt.transaction(po) as ctx:
        result = service.handover(ctx, contract_id, HandoverIn())
    # then nobody's data goes out: no consent to marketing-email (R-CNS-1)
    assert result.rows == [] and result.record.withheld_rules == {"R-CNS-1": 2}
    with rt.transaction(world.actors["sato"]) as ctx:
        consent_service.grant(ctx, cid, "marketing-email", ConsentIn(method="checkbox"))
    with rt.transaction(po) as ctx:
        result = service.handover(ctx, contract_id, HandoverIn())
    assert [r["customer_id"] for r in result.rows] == [cid]


def test_a_gdpr_only_consent_purpose_needs_consent_only_from_gdpr_subjects_G_6(world):
    from mamori.purposes import service as purposes_service
    from mamori.purposes.schemas import PurposeCreate

    rt, po = world.rt, world.po
    with rt.transaction(po) as ctx:
        purposes_service.add(
            ctx,
            PurposeCreate(
                code="survey",
                title_ja="満足度調査",
                title_en="Satisfaction survey",
                text_ja="ご購入後の満足度調査のご連絡のため、氏名と電話番号を利用します。",
                text_en="Calling about a satisfaction survey after a purchase.",
                categories=["identifier", "contact"],
                consent_gdpr=True,
            ),
        )
    jp = make_customer(rt, world.actors["sato"], email="jp@example.jp", purposes=("contract", "survey"))
    eu = make_customer(
        rt, world.actors["sato"], email="eu@example.jp", purposes=("contract", "survey"), origin="DE"
    )
    contract_id = running_contract(rt, po, world.counterparty_id, purposes=["survey"], fields=["name"])
    with rt.transaction(po) as ctx:
        service.assign_customers(ctx, contract_id, CustomersIn(customer_ids=[jp, eu]))
    with rt.transaction(po) as ctx:
        result = service.handover(ctx, contract_id, HandoverIn())
    # the APPI needs no consent here; the GDPR does, for the EU customer only (G-6 / G-45)
    assert [r["customer_id"] for r in result.rows] == [jp]
    assert result.record.withheld_rules == {"R-CNS-1": 1}


def test_foreign_outsourcee_needs_the_foreign_transfer_basis_R_28_1(runtime, actors):
    po = actors["po"]
    cp = add_counterparty(runtime, po, country="US")
    cid = make_customer(runtime, actors["sato"], email="us@example.jp")
    contract_id = running_contract(runtime, po, cp)
    with runtime.transaction(po) as ctx:
        service.assign_customers(ctx, contract_id, CustomersIn(customer_ids=[cid]))
        result = service.handover(ctx, contract_id, HandoverIn())
    assert result.rows == [] and result.record.withheld_rules == {"R-28-1": 1}
    operator = add_operator(runtime, po, contract_id, "us-op")
    with runtime.transaction(operator) as ctx:
        grant = registry.access_grant(ctx)
    assert grant is not None and grant.customer_ids == frozenset()
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(operator, "contract") as ctx:
        customers_service.get(ctx, cid)
    assert exc.value.rule_id == "R-25-1"
    # a foreign outsourcee with an equivalent-measures system (基準適合体制) may receive the data
    cp2 = add_counterparty(runtime, po, country="US", system_kind="contract", system_reference="DPA-1")
    contract2 = running_contract(runtime, po, cp2)
    with runtime.transaction(po) as ctx:
        service.assign_customers(ctx, contract2, CustomersIn(customer_ids=[cid]))
        assert [r["customer_id"] for r in service.handover(ctx, contract2, HandoverIn()).rows] == [cid]
    # abroad (outside the EU/UK) the outsourcee is a third party: a provision record per person (R-29-1)
    with runtime.sessions() as s:
        kinds = s.execute(
            select(ProvisionRecord.customer_id, ProvisionRecord.kind).where(
                ProvisionRecord.counterparty_id == cp2
            )
        ).all()
    assert [tuple(k) for k in kinds] == [(cid, "entrustment")]


def test_handover_to_an_eu_outsourcee_writes_no_provision_record_R_29_1(runtime, actors):
    po = actors["po"]
    cp = add_counterparty(runtime, po, country="FR")
    cid = make_customer(runtime, actors["sato"], email="fr@example.jp")
    contract_id = running_contract(runtime, po, cp)
    with runtime.transaction(po) as ctx:
        service.assign_customers(ctx, contract_id, CustomersIn(customer_ids=[cid]))
        assert service.handover(ctx, contract_id, HandoverIn()).record.customer_count == 1
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProvisionRecord)) == 0


# -- subject data source ------------------------------------------------------------------------------------------


def test_subject_source_lists_handovers_and_keeps_them_on_erasure(world):
    with world.rt.transaction(world.po) as ctx:
        service.handover(ctx, world.contract_id, HandoverIn(fields=["name"]))
    source = next(s for s in registry.sources() if s.name == "processors")
    with world.rt.transaction(world.po) as ctx:
        assert source.summary(ctx, world.covered) == {"entrustment": 1}
        assert source.summary(ctx, world.uncovered) == {}
        [rec] = source.export(ctx, world.covered)
        assert rec.category == "entrustment" and rec.data["fields"] == ["name"]
        assert rec.data["outsourcee"] == "架空コールセンター株式会社" and rec.data["work"]
        [recipient] = source.recipients(ctx, world.covered)
        assert recipient.kind == "outsourcee" and recipient.counterparty_id == world.counterparty_id
        assert source.recipients(ctx, world.uncovered) == []
        with pytest.raises(ValidationFailed):
            source.correct(ctx, world.covered, rec.record_id, {"name": "x"})
        assert source.erase(ctx, world.covered) == 0
    with world.rt.transaction(world.po) as ctx:
        assert source.summary(ctx, world.covered) == {"entrustment": 1}


def test_contract_create_schema_rejects_extra_long_reference():
    with pytest.raises(ValidationError):
        ContractCreate.model_validate(
            {
                "counterparty_id": "a" * 32,
                "work": "x",
                "purposes": ["contract"],
                "fields": ["name"],
                "starts_on": "2026-01-01",
                "ends_on": "2026-02-01",
                "reference": "r" * 201,
            }
        )


def test_operator_logs_activities_only_when_the_contract_entrusts_it_R_25_1(world):
    # given the world's contract (no activity_write): logging a call is refused
    with pytest.raises(PolicyDenied) as exc, world.rt.transaction(world.operator, "contract") as ctx:
        customers_service.add_activity(ctx, world.covered, ActivityIn(kind="call", body="折り返し連絡"))
    assert exc.value.rule_id == "R-25-1"
    # and a call-center contract that entrusts it lets its own operator log a call for a covered customer
    rt, po = world.rt, world.po
    contract_id = running_contract(
        rt, po, world.counterparty_id, fields=["name", "phones", "activities"], activity_write=True
    )
    with rt.transaction(po) as ctx:
        service.assign_customers(ctx, contract_id, CustomersIn(customer_ids=[world.uncovered]))
    caller = add_operator(rt, po, contract_id, "cc-caller")
    with rt.transaction(caller, "contract") as ctx:
        customers_service.add_activity(ctx, world.uncovered, ActivityIn(kind="call", body="配送日の確認"))
    with pytest.raises(PolicyDenied), rt.transaction(caller, "contract") as ctx:
        customers_service.add_activity(ctx, world.covered, ActivityIn(kind="call", body="x"))


def test_handover_withholds_a_customer_who_stopped_the_use_R_35_1(world):
    # given a covered customer whose use for every purpose was stopped at their request
    rt, po = world.rt, world.po
    with rt.transaction(po) as ctx:
        service.assign_customers(ctx, world.contract_id, CustomersIn(customer_ids=[world.uncovered]))
        consent_service.suppress(ctx, world.uncovered, "all", None, "REQ-1")
    # when the contract's data is handed over / then that person is left out and counted under R-35-1
    with rt.transaction(po) as ctx:
        result = service.handover(ctx, world.contract_id, HandoverIn(fields=["name"]))
    assert [r["customer_id"] for r in result.rows] == [world.covered]
    assert result.record.withheld_rules == {"R-35-1": 1}


def test_handover_holds_back_a_category_the_person_was_not_yet_notified_of_R_17_2(runtime, actors):
    """P4 on the handover path: after a revision widens a contract purpose, data of the new category goes to the
    outsourcee only for persons notified of the new version (R-17-2 / R-21-1)."""
    from mamori.customers.schemas import NoticeIn
    from mamori.customers.service import notices
    from mamori.kernel.policy import Category
    from mamori.purposes import service as purposes_service
    from tests.factories import PURPOSES

    po = actors["po"]
    cp = add_counterparty(runtime, po)
    a, b = (
        make_customer(runtime, actors["sato"], email=f"h{i}@example.jp", purposes=("marketing-email",))
        for i in range(2)
    )
    for cid in (a, b):
        with runtime.transaction(po) as ctx:
            consent_service.grant(ctx, cid, "marketing-email", ConsentIn(method="checkbox", evidence="f-1"))
    contract_id = running_contract(
        runtime, po, cp, purposes=["marketing-email"], fields=["name", "emails", "birth_date"]
    )
    with runtime.transaction(po) as ctx:
        service.assign_customers(ctx, contract_id, CustomersIn(customer_ids=[a, b]))
        before = service.handover(ctx, contract_id, HandoverIn(fields=["name", "birth_date"]))
    assert before.record.customer_count == 0  # v1 covers no birth dates: R-18-1
    assert before.record.withheld_rules == {"R-18-1": 2}
    wider = PURPOSES["marketing-email"].model_copy(
        update={"categories": [Category.IDENTIFIER, Category.CONTACT, Category.ATTRIBUTE]}
    )
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.revise(ctx, wider)
    with runtime.transaction(po) as ctx:
        notices.notify(ctx, NoticeIn(purpose="marketing-email", method="notified", customer_ids=[a]))
    with runtime.transaction(po) as ctx:
        after = service.handover(ctx, contract_id, HandoverIn(fields=["name", "birth_date"]))
    assert after.record.customer_count == 1 and after.record.withheld_rules == {"R-17-2": 1}
    assert [r["customer_id"] for r in after.rows] == [a]
    with runtime.transaction(po) as ctx:  # what b was told still goes
        assert service.handover(ctx, contract_id, HandoverIn(fields=["name"])).record.customer_count == 2
