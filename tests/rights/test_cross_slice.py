"""Requests from the person across slices: provision records in the disclosure (R-33-3), recipients and
outsourcees listed for notification after erasure (G-19), and provision records kept after erasure (R-29-4)."""

from __future__ import annotations

import pytest

from mamori.processors import service as processors_service
from mamori.processors.schemas import CustomersIn, HandoverIn
from mamori.provision import service as provision_service
from mamori.rights import service
from tests.factories import make_customer, seed_basics
from tests.processors.conftest import add_counterparty, running_contract
from tests.provision.conftest import add_cp, consent, provide_in
from tests.rights.helpers import open_and_verify

EMAIL = "cross.slice@example.jp"


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def test_disclosure_and_erasure_reach_provision_and_processors_R_33_3_G_19_R_29_4(runtime, actors):
    po = actors["po"]
    me = make_customer(runtime, po, name="横断 太郎", email=EMAIL)
    other = make_customer(runtime, po, name="別人 花子", email="other.person@example.jp")
    partner = add_cp(runtime, po)
    for cid in (me, other):
        consent(runtime, po, cid, partner)
    with runtime.transaction(po) as ctx:
        provision_service.provide(ctx, provide_in(partner, [me, other]))
    outsourcee = add_counterparty(runtime, po)
    contract_id = running_contract(runtime, po, outsourcee)
    with runtime.transaction(po) as ctx:
        processors_service.assign_customers(ctx, contract_id, CustomersIn(customer_ids=[me]))
    with runtime.transaction(po) as ctx:
        processors_service.handover(ctx, contract_id, HandoverIn())

    # disclosure: the provision record about me (with the recipient) is in the package, nobody else's
    rid = open_and_verify(runtime, actors["support"], "disclosure", EMAIL)
    with runtime.transaction(po) as ctx:
        _, package = service.fulfil(ctx, rid)
    assert package is not None
    by_source = {(r.source, r.category) for r in package.records}
    assert ("provision", "provision_record") in by_source
    assert ("processors", "entrustment") in by_source
    dumped = package.model_dump_json()
    assert "架空データ販売株式会社" in dumped and "横断 太郎" in dumped
    assert "別人 花子" not in dumped and "other.person@example.jp" not in dumped

    # erasure: the recipient and the outsourcee are listed for notification (G-19); the record is kept
    rid = open_and_verify(runtime, actors["support"], "erasure", EMAIL, ground="no_longer_needed")
    with runtime.transaction(po) as ctx:
        outcome, _ = service.fulfil(ctx, rid)
    kinds = {r["kind"] for r in outcome.recipients_to_notify}
    assert {"third_party", "outsourcee"} <= kinds
    with runtime.transaction(po) as ctx:
        records = provision_service.list_records(ctx, customer_id=me)
    assert records, "R-29-4: the provision record outlives the person's erased data"


def test_gdpr_access_names_the_recipients_of_the_persons_data_G_15(runtime, actors):
    """GDPR 15(1)(c): the answer to an access request names the recipients the data went to."""
    po = actors["po"]
    me = make_customer(runtime, po, name="Anna Schmidt", kana=None, email=EMAIL, phone=None, origin="DE")
    partner = add_cp(runtime, po)
    consent(runtime, po, me, partner)
    with runtime.transaction(po) as ctx:
        provision_service.provide(ctx, provide_in(partner, [me]))

    rid = open_and_verify(runtime, actors["support"], "disclosure", EMAIL)
    with runtime.transaction(po) as ctx:
        outcome, package = service.fulfil(ctx, rid)
    assert package is not None and "G-15" in outcome.rule_ids
    assert [(r["kind"], r["counterparty_id"]) for r in package.recipients] == [("third_party", partner)]
