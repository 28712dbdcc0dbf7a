"""Retention and disposal (issue 21, R-22-1, R-29-4): who is due, who is held and why, what the run disposes of,
the disposal record (counts, no values), the provision records kept for their own retention, and a copy of the
database taken before the run that no longer decrypts the disposed person."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from mamori.customers import service as customers_service
from mamori.customers.schemas import ActivityIn, AttributeIn
from mamori.customers.service import relationship
from mamori.customers.service import subjects as customer_subjects
from mamori.kernel import registry
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.lifecycle.models import DisposalRecord
from mamori.lifecycle.retention_schemas import RuleCreate
from mamori.lifecycle.service import holds, retention
from mamori.provision.models import ProvisionRecord
from tests.lifecycle.retention_support import YEAR, add_rule, end, person, retention_actors
from tests.rights.helpers import open_and_verify


@pytest.fixture
def actors(runtime):
    return retention_actors(runtime)


def test_past_period_disposed_held_by_request_and_legal_hold_R_22_1(runtime, actors):
    po = actors["po"]
    rule = add_rule(runtime, po, purpose="*", category="*", days=5 * YEAR, basis="relationship_end")
    due = person(runtime, po, 1)
    requested = person(runtime, po, 2)
    legal = person(runtime, po, 3)
    recent = person(runtime, po, 4)
    ongoing = person(runtime, po, 5)
    long_ago = date(2020, 1, 10)
    for cid in (due, requested, legal):
        end(runtime, po, cid, long_ago)
    end(runtime, po, recent, date(2025, 6, 1))
    open_and_verify(runtime, actors["support"], "disclosure", "keep2@example.jp")
    with runtime.transaction(po) as ctx:
        hold = holds.set(ctx, legal, "litigation", "事件番号 2026-7")

    with runtime.transaction(po) as ctx:
        plan = retention.plan(ctx, detail=True)
    assert plan.persons_checked == 5 and plan.due == 1 and plan.uncovered == 0
    assert [r.due for r in plan.rules if r.rule_id == rule] == [1]
    assert {(h.code, h.rule_id, h.persons) for h in plan.held} == {
        ("open_request", "R-33-1", 1),
        ("legal_hold", "R-22-1", 1),
    }
    assert plan.detail is not None and [d.customer_id for d in plan.detail.due] == [due]
    assert {h.customer_id for h in plan.detail.held} == {requested, legal}

    with runtime.transaction(po) as ctx:
        record = retention.run(ctx)
    assert record.persons == 1 and record.method == "crypto_shred" and record.trigger == "manual"
    assert record.counts["customers"] >= 3  # profile + contact points + blind-index tokens
    assert record.held == {"legal_hold": 1, "open_request": 1}
    assert record.rules == {rule: 1} and record.plan_sha256 == plan.sha256
    with runtime.transaction(po, readonly=True) as ctx:
        assert customer_subjects.existing(ctx, [due, requested, legal, recent, ongoing]) == {
            requested,
            legal,
            recent,
            ongoing,
        }
    # a second run finds nothing more; the legal hold released, the held person goes next time
    with runtime.transaction(po) as ctx:
        holds.release(ctx, hold.id)
        assert retention.plan(ctx).due == 1
    with runtime.transaction(po) as ctx:
        assert retention.run(ctx).persons == 1
        records = retention.disposals(ctx)
    assert [r.persons for r in records] == [1, 1]


def test_disposal_record_has_counts_and_no_values_R_23_4(runtime, actors):
    po = actors["po"]
    add_rule(runtime, po, purpose="*", category="*", days=30, basis="relationship_end")
    cid = person(runtime, po, 7, address="東京都架空区記録町9-9-9")
    end(runtime, po, cid, date(2026, 1, 1))
    with runtime.transaction(po) as ctx:
        record = retention.run(ctx)
    with runtime.sessions() as s:
        row = s.execute(select(DisposalRecord).where(DisposalRecord.id == record.id)).scalar_one()
    stored = " ".join(str(getattr(row, c.key)) for c in DisposalRecord.__table__.columns)
    for value in ("保存 太郎7", "keep7@example.jp", "090-2222-3307", "記録町", cid):
        assert value not in stored
    assert json.loads(row.counts)["customers"] >= 3 and row.persons == 1
    assert row.ran_by == po.label and row.method == "crypto_shred" and len(row.plan_sha256) == 64


def test_last_activity_basis_and_uncovered_purposes(runtime, actors):
    po = actors["po"]
    # only "contract" has a rule: persons also notified of marketing-email (no rule, no "*") are never disposed of
    add_rule(runtime, po, purpose="contract", category="*", days=YEAR, basis="last_activity")
    only_contract = person(runtime, po, 11, purposes=("contract",))
    both = person(runtime, po, 12)
    active = person(runtime, po, 13, purposes=("contract",))
    runtime.clock.advance(timedelta(days=YEAR + 10))
    with runtime.transaction(po, "contract") as ctx:
        customers_service.add_activity(ctx, active, ActivityIn(kind="inquiry", body="問い合わせ"))
    with runtime.transaction(po) as ctx:
        plan = retention.plan(ctx, detail=True)
    assert plan.uncovered == 1 and plan.due == 1
    assert plan.detail is not None and [d.customer_id for d in plan.detail.due] == [only_contract]
    assert both not in {d.customer_id for d in plan.detail.due}


def test_category_rule_deletes_only_that_category_of_a_kept_person(runtime, actors):
    po = actors["po"]
    add_rule(runtime, po, purpose="*", category="*", days=10 * YEAR, basis="relationship_end")
    cat_rule = add_rule(runtime, po, purpose="*", category="behaviour", days=YEAR, basis="last_activity")
    cid = person(runtime, po, 21, purposes=("contract",))
    with runtime.transaction(po, "contract") as ctx:
        customers_service.add_activity(ctx, cid, ActivityIn(kind="purchase", body="購入"))
        customers_service.add_attribute(
            ctx, cid, AttributeIn(key="hobby", value="釣り", category="attribute")
        )
    runtime.clock.advance(timedelta(days=YEAR + 1))
    with runtime.transaction(po) as ctx:
        plan = retention.plan(ctx)
    assert plan.due == 0 and plan.category_due == 1
    assert [r.due for r in plan.rules if r.rule_id == cat_rule] == [1]
    with runtime.transaction(po) as ctx:
        record = retention.run(ctx)
    assert record.method == "category_delete" and record.persons == 0
    assert record.counts == {"category:behaviour": 1}
    with runtime.transaction(po) as ctx:
        exported = {r.category for s in registry.sources() for r in s.export(ctx, cid)}
    assert "activity" not in exported and "attribute" in exported and "profile" in exported


def test_provision_records_kept_with_their_end_date_after_disposal_R_29_4(runtime, actors):
    po = actors["po"]
    add_rule(runtime, po, purpose="*", category="*", days=30, basis="relationship_end")
    cid = person(runtime, po, 31)
    until = datetime(2029, 11, 23, 1, 0, tzinfo=UTC)
    with runtime.transaction(po) as ctx:  # a provision record as the provision slice writes it (3 years)
        ctx.session.add(
            ProvisionRecord(
                id="b" * 32,
                direction="provided",
                kind="consent",
                customer_id=cid,
                counterparty_name="架空提携株式会社",
                counterparty_address="東京都",
                counterparty_representative="代表",
                counterparty_country="JP",
                purpose="partner-sharing",
                items="name",
                first_at=runtime.clock.now(),
                last_at=runtime.clock.now(),
                created_at=runtime.clock.now(),
                retention_until=until,
            )
        )
    end(runtime, po, cid, date(2026, 1, 1))
    with runtime.transaction(po) as ctx:
        plan = retention.plan(ctx, detail=True)
    assert plan.provision_kept.persons == 1 and plan.provision_kept.records == 1
    assert plan.provision_kept.latest_until == until
    assert plan.detail is not None and plan.detail.provision[0].until == until
    with runtime.transaction(po) as ctx:
        record = retention.run(ctx)
    assert record.counts["provision_records_kept"] == 1
    with runtime.sessions() as s:  # still there, with its end date, after the person is gone
        kept = s.execute(select(ProvisionRecord).where(ProvisionRecord.customer_id == cid)).scalar_one()
    assert kept.retention_until.replace(tzinfo=UTC) == until


def test_rules_bad_input_and_roles(runtime, actors):
    po = actors["po"]
    with pytest.raises(ValueError):
        RuleCreate.model_validate({"purpose": "*", "days": 0, "basis": "relationship_end"})
    with pytest.raises(ValueError):
        RuleCreate.model_validate({"purpose": "*", "days": 10, "basis": "sometime"})
    with pytest.raises(ValidationFailed) as unknown, runtime.transaction(po) as ctx:
        retention.add_rule(ctx, RuleCreate(purpose="no-such", days=10, basis="last_activity"))
    assert unknown.value.code == "purpose_unknown"
    rid = add_rule(runtime, po, purpose="*", category="*", days=10, basis="last_activity")
    with pytest.raises(Conflict), runtime.transaction(po) as ctx:
        retention.add_rule(ctx, RuleCreate(purpose="*", days=20, basis="last_activity"))
    with runtime.transaction(po) as ctx:
        assert retention.retire_rule(ctx, rid).retired_at is not None
        assert retention.list_rules(ctx) == []
    with pytest.raises(NotFound), runtime.transaction(po) as ctx:
        retention.retire_rule(ctx, "0" * 32)
    for name in ("admin", "sato", "support", "analyst"):
        for call in (
            lambda c: retention.plan(c),
            lambda c: retention.run(c),
            lambda c: retention.list_rules(c),
            lambda c: holds.list_holds(c),
        ):
            with pytest.raises(PolicyDenied) as denied, runtime.transaction(actors[name]) as ctx:
                call(ctx)
            assert denied.value.rule_id == "R-23-2"
    with runtime.transaction(po) as ctx:
        assert retention.disposals(ctx) == []  # nothing ran


def test_end_relationship_future_refused_and_unknown_customer(runtime, actors):
    po = actors["po"]
    cid = person(runtime, po, 41)
    with pytest.raises(ValidationFailed) as future, runtime.transaction(po, "contract") as ctx:
        relationship.end_relationship(ctx, cid, on=date(2030, 1, 1))
    assert future.value.code == "relationship_end_in_future"
    with pytest.raises(NotFound), runtime.transaction(po, "contract") as ctx:
        relationship.end_relationship(ctx, "0" * 32)
    with runtime.transaction(po, "contract") as ctx:
        done = relationship.end_relationship(ctx, cid, on=date(2026, 1, 2))
    assert done.relationship_ended_at == datetime(2026, 1, 1, 15, 0, tzinfo=UTC)  # 0:00 JST


def test_scheduled_run_as_the_system_actor(runtime, actors):
    po = actors["po"]
    add_rule(runtime, po, purpose="*", category="*", days=30, basis="relationship_end")
    cid = person(runtime, po, 81)
    end(runtime, po, cid, date(2026, 1, 1))
    result = retention.scheduled_run(runtime, job_run_id="a" * 32)
    assert result["persons"] == 1 and result["held"] == 0
    with runtime.transaction(po) as ctx:
        (record,) = retention.disposals(ctx)
    assert (
        record.trigger == "scheduled" and record.job_run_id == "a" * 32 and record.ran_by == "system:system"
    )
    assert record.id == result["disposal_id"]


def test_disposal_forgets_what_a_closed_request_holds_under_the_persons_identifiers(runtime, actors):
    """A person who once made a request (now closed) is disposed of like an erasure: the keyed digests of their
    identifiers in that request are blanked (a digest would confirm a guessed address later)."""
    from mamori.rights import service as rights_service
    from mamori.rights.models import RightsIdentifier

    po = actors["po"]
    add_rule(runtime, po, purpose="*", category="*", days=30, basis="relationship_end")
    cid = person(runtime, po, 91)
    rid = open_and_verify(runtime, actors["support"], "disclosure", "keep91@example.jp")
    with runtime.transaction(po) as ctx:
        rights_service.refuse(ctx, rid, "harm_to_person", "同居のご家族の連絡先が明らかになるため")
    end(runtime, po, cid, date(2026, 1, 1))
    with runtime.transaction(po) as ctx:
        plan = retention.plan(ctx)
        assert plan.due == 1 and plan.held == []  # the closed request holds nobody
        record = retention.run(ctx)
    assert record.persons == 1 and record.counts["rights_identifiers_scrubbed"] >= 1
    with runtime.sessions() as s:
        idents = list(s.execute(select(RightsIdentifier).where(RightsIdentifier.request_id == rid)).scalars())
    assert idents and all(i.value_enc is None for i in idents)
    assert all(i.digest == b"" for i in idents if i.kind in ("email", "phone"))


def test_a_purpose_covering_the_category_without_a_rule_keeps_it(runtime, actors):
    """health-service's behaviour data goes after a year; a person also notified of contract (which covers
    behaviour and has no behaviour rule) keeps it as long as contract keeps them (the whole-person rule)."""
    po = actors["po"]
    add_rule(runtime, po, purpose="*", category="*", days=10 * YEAR, basis="relationship_end")
    rule = add_rule(
        runtime, po, purpose="health-service", category="behaviour", days=YEAR, basis="last_activity"
    )
    only = person(runtime, po, 101, purposes=("health-service",))
    both = person(runtime, po, 102, purposes=("health-service", "contract"))
    runtime.clock.advance(timedelta(days=YEAR + 1))
    with runtime.transaction(po) as ctx:
        plan = retention.plan(ctx, detail=True)
    assert plan.detail is not None
    assert [(c.customer_id, c.category, c.rule_id) for c in plan.detail.categories] == [
        (only, "behaviour", rule)
    ]
    assert both not in {c.customer_id for c in plan.detail.categories} and plan.due == 0
