"""Classification under R-26-1 (and G-33): the four triggers from the scope and the cause, the exemptions.

Subjects are written straight into ``incident_subjects`` / ``incident_scopes`` (the scope helper's tables) so these
tests do not depend on how the scope was drawn."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from mamori.customers.schemas import CustomerCreate, ProvenanceIn
from mamori.customers.service.core import bulk_create
from mamori.incidents.models import IncidentScope, IncidentSubject
from mamori.incidents.service import register as incidents_register
from mamori.incidents.service.classify import classification
from mamori.inventory.models import DataItem
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.db import new_id
from tests.incidents.support import make_customer, new_incident, seed_basics

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def many_customers(runtime, actor, n: int) -> list[str]:
    """``n`` synthetic customers created in one transaction (bulk_create)."""
    prov = ProvenanceIn(method="direct", channel="web_form", notice_version="n-2026")
    people = [CustomerCreate(name=f"試験 太郎{i}", emails=[f"t{i}@example.jp"]) for i in range(n)]
    with runtime.transaction(actor) as ctx:
        return bulk_create(ctx, [(p, prov, ["contract"], None, []) for p in people])


def add_scope(
    runtime,
    incident_id: str,
    customer_ids: list[str],
    *,
    fields: list[str],
    categories: list[str],
    method: str = "ids",
    maximum: int | None = None,
    sensitive: bool = False,
    financial: bool = False,
    origin: str = "JP",
) -> str:
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        scope_id = new_id()
        ctx.session.add(
            IncidentScope(
                id=scope_id,
                incident_id=incident_id,
                method=method,
                params="{}",
                persons=len(customer_ids),
                maximum=maximum,
                items=json.dumps({f: maximum or len(customer_ids) for f in fields}),
                created_at=NOW,
                created_by="test",
            )
        )
        ctx.session.flush()
        ctx.session.add_all(
            IncidentSubject(
                incident_id=incident_id,
                customer_id=cid,
                scope_id=scope_id,
                fields=json.dumps(fields),
                categories=json.dumps(categories),
                sensitive=sensitive,
                financial=financial,
                origin=origin,
            )
            for cid in customer_ids
        )
    return scope_id


def classify(runtime, incident_id: str):
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        return classification(ctx, incidents_register.row_of(ctx, incident_id))


def test_1001_peoples_emails_exposed_by_a_misconfiguration_is_trigger_4_R_26_1(runtime, actors):
    inc = new_incident(
        runtime, actors["po"], cause="misconfiguration", title="設定誤りによるメールアドレスの公開"
    )
    ids = many_customers(runtime, actors["po"], 1001)
    add_scope(runtime, inc.id, ids, fields=["emails"], categories=["contact"])
    cls = classify(runtime, inc.id)
    assert (cls.persons, cls.persons_max) == (1001, 1001)
    assert cls.triggers == ("over_1000",) and cls.reportable and cls.exempt is None
    assert cls.items == {"emails": 1001} and cls.categories == {"contact": 1001}


def test_1000_people_is_not_trigger_4_R_26_1(runtime, actors):
    inc = new_incident(runtime, actors["po"], cause="misconfiguration")
    ids = many_customers(runtime, actors["po"], 1000)
    add_scope(runtime, inc.id, ids, fields=["emails"], categories=["contact"])
    cls = classify(runtime, inc.id)
    assert cls.persons == 1000 and cls.triggers == () and not cls.reportable


def test_an_estimate_of_at_most_1001_with_10_counted_is_trigger_4_R_26_1(runtime, actors):
    inc = new_incident(runtime, actors["po"], cause="misdelivery")
    ids = many_customers(runtime, actors["po"], 10)
    add_scope(runtime, inc.id, ids, fields=["emails"], categories=["contact"])
    add_scope(runtime, inc.id, [], fields=["emails"], categories=[], method="estimate", maximum=1001)
    cls = classify(runtime, inc.id)
    assert (cls.persons, cls.persons_max) == (10, 1001)
    assert cls.triggers == ("over_1000",)


def test_a_removed_estimate_no_longer_counts_R_26_1(runtime, actors):
    inc = new_incident(runtime, actors["po"], cause="misdelivery")
    scope_id = add_scope(
        runtime, inc.id, [], fields=["emails"], categories=[], method="estimate", maximum=5000
    )
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.get(IncidentScope, scope_id).removed_at = NOW  # type: ignore[union-attr]
    assert classify(runtime, inc.id).triggers == ()


def test_a_card_number_of_one_person_is_trigger_2_R_26_1(runtime, actors):
    inc = new_incident(runtime, actors["po"], cause="misdelivery")
    cid = make_customer(runtime, actors["po"])
    add_scope(
        runtime,
        inc.id,
        [cid],
        fields=["attr:card_number"],
        categories=["attribute", "financial"],
        financial=True,
    )
    cls = classify(runtime, inc.id)
    assert cls.persons == 1 and cls.financial == 1
    assert cls.triggers == ("financial",) and cls.reportable


def test_a_financial_category_alone_counts_and_an_estimate_of_a_financial_item_too_R_26_1(runtime, actors):
    inc = new_incident(runtime, actors["po"], cause="loss_theft")
    cid = make_customer(runtime, actors["po"])
    add_scope(runtime, inc.id, [cid], fields=["attr:bank"], categories=["financial"])
    assert classify(runtime, inc.id).triggers == ("financial",)
    other = new_incident(runtime, actors["po"], cause="loss_theft")
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            DataItem(
                key="attr:card_number",
                appi_category="attribute",
                financial=True,
                updated_at=NOW,
                updated_by="t",
            )
        )
    add_scope(runtime, other.id, [], fields=["attr:card_number"], categories=[], method="estimate", maximum=3)
    cls = classify(runtime, other.id)
    assert cls.financial == 3 and cls.triggers == ("financial",)


def test_sensitive_data_of_one_person_is_trigger_1_R_26_1(runtime, actors):
    inc = new_incident(runtime, actors["po"], cause="misdelivery")
    cid = make_customer(runtime, actors["po"])
    add_scope(runtime, inc.id, [cid], fields=["attr:allergy"], categories=["sensitive"], sensitive=True)
    assert classify(runtime, inc.id).triggers == ("sensitive",)


def test_wrongful_purpose_from_the_cause_unless_the_officer_said_otherwise_R_26_1(runtime, actors):
    attack = new_incident(runtime, actors["po"], cause="external_attack")
    assert classify(runtime, attack.id).triggers == ("wrongful",)
    loss = new_incident(runtime, actors["po"], cause="loss_theft")
    assert classify(runtime, loss.id).triggers == ()
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        incidents_register.row_of(ctx, attack.id).wrongful_purpose = False
        incidents_register.row_of(ctx, loss.id).wrongful_purpose = True
    assert classify(runtime, attack.id).triggers == ()
    assert classify(runtime, loss.id).triggers == ("wrongful",)


def test_triggers_keep_their_order_and_the_exemptions_make_it_not_reportable_R_26_1(runtime, actors):
    inc = new_incident(runtime, actors["po"], cause="insider")
    cid = make_customer(runtime, actors["po"])
    add_scope(
        runtime,
        inc.id,
        [cid],
        fields=["attr:card_number", "attr:allergy"],
        categories=["financial", "sensitive"],
        sensitive=True,
        financial=True,
    )
    cls = classify(runtime, inc.id)
    assert cls.triggers == ("sensitive", "financial", "wrongful") and cls.reportable
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        row = incidents_register.row_of(ctx, inc.id)
        row.encryption_exempt, row.encryption_reason = True, "AES-256、鍵は別管理"
    cls = classify(runtime, inc.id)
    assert cls.exempt == "encryption" and not cls.reportable and cls.triggers
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        row = incidents_register.row_of(ctx, inc.id)
        row.encryption_exempt, row.pseudonymised = False, True
    assert classify(runtime, inc.id).exempt == "pseudonymised"


def test_eu_people_make_a_gdpr_incident_unless_assessed_risk_free_G_33(runtime, actors):
    inc = new_incident(runtime, actors["po"], cause="misdelivery")
    jp = make_customer(runtime, actors["po"])
    eu = make_customer(runtime, actors["po"], origin="EU", email="eu@example.jp")
    add_scope(runtime, inc.id, [jp, eu], fields=["emails"], categories=["contact"])
    assert classify(runtime, inc.id).eu == 0 and not classify(runtime, inc.id).gdpr
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.get(IncidentSubject, (inc.id, eu)).origin = "EU"  # type: ignore[union-attr]
    cls = classify(runtime, inc.id)
    assert cls.eu == 1 and cls.gdpr
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        incidents_register.row_of(ctx, inc.id).gdpr_risk = "none"
    assert not classify(runtime, inc.id).gdpr
