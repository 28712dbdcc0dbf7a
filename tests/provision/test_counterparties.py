"""Counterparty registry (R-27-1, R-27-2), foreign information sheets (R-28-2), 基準適合体制 and its yearly review
(R-28-1, R-28-3)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.provision import service
from mamori.provision.schemas import CounterpartyIn, InfoSheetIn, ReviewIn
from mamori.provision.service import counterparties
from tests.factories import make_customer
from tests.provision.conftest import NOW, add_cp, add_sheet, consent, days


def test_registry_is_typed_and_lists_by_kind_R_27_1_R_27_2(runtime, actors):
    po = actors["po"]
    tp = add_cp(runtime, po)
    jo = add_cp(runtime, po, kind="joint_user", name="架空グループ株式会社")
    add_cp(runtime, po, kind="outsourcee", name="架空配送株式会社")
    add_cp(runtime, po, kind="succession", name="架空承継株式会社")
    with runtime.transaction(po) as ctx:
        assert {c.kind for c in service.list_counterparties(ctx)} == {
            "third_party",
            "joint_user",
            "outsourcee",
            "succession",
        }
        joint = service.list_counterparties(ctx, "joint_user")
        assert [c.id for c in joint] == [jo]
        got = service.get_counterparty(ctx, tp)
        assert got.representative == "代表取締役 架空一郎" and got.country == "JP" and not got.foreign
        with pytest.raises(ValidationFailed):
            service.list_counterparties(ctx, "friend")
        with pytest.raises(NotFound):
            service.get_counterparty(ctx, "0" * 32)


def test_bad_input_is_refused():
    for bad in (
        {"kind": "friend"},
        {"country": "JPN"},
        {"country": "1A"},
        {"name": ""},
        {"name": "架空\x00商事"},
    ):
        data = {"kind": "third_party", "name": "架空", "address": "東京", "representative": "架空", **bad}
        with pytest.raises(ValidationError):
            CounterpartyIn.model_validate(data)


def test_roles_without_provision_rights_are_denied(runtime, actors):
    add_cp(runtime, actors["po"])
    for who in ("sato", "analyst", "support", "admin"):
        with pytest.raises(PolicyDenied), runtime.transaction(actors[who]) as ctx:
            service.list_counterparties(ctx)
        with pytest.raises(PolicyDenied):
            add_cp(runtime, actors[who])


def test_sheets_are_versioned_and_consent_needs_the_current_one_R_28_2(runtime, actors):
    po = actors["po"]
    us = add_cp(runtime, po, country="us", name="Fictional Analytics Inc.")
    cid = make_customer(runtime, po)
    with pytest.raises(ValidationFailed) as e:  # no sheet yet → cannot ask for foreign consent
        consent(runtime, po, cid, us)
    assert e.value.rule_id == "R-28-2"
    with runtime.transaction(po) as ctx:
        assert any("R-28-2" in a for a in service.get_counterparty(ctx, us).alerts)
    assert add_sheet(runtime, po, us) == 1
    assert add_sheet(runtime, po, us) == 2
    with pytest.raises(ValidationFailed) as e:
        consent(runtime, po, cid, us, sheet=1)  # an outdated sheet was shown
    assert e.value.rule_id == "R-28-2"
    consent(runtime, po, cid, us, sheet=2)
    with runtime.transaction(po) as ctx:
        assert counterparties.foreign_transfer_refusals(ctx, us, [cid]) == {}
        assert [s.version for s in service.sheets(ctx, us)] == [1, 2]
    add_sheet(runtime, po, us)  # the information changed: the consent no longer covers foreign provision
    with runtime.transaction(po) as ctx:
        assert counterparties.foreign_transfer_refusals(ctx, us, [cid]) == {cid: "R-28-2"}
    jp = add_cp(runtime, po)
    with pytest.raises(ValidationFailed), runtime.transaction(po) as ctx:
        counterparties.add_sheet(ctx, jp, InfoSheetIn(protection_system="x", recipient_measures="y"))


def test_foreign_transfer_refusals_R_28_1(runtime, actors):
    po = actors["po"]
    us = add_cp(runtime, po, country="US", name="Fictional Analytics Inc.")
    de = add_cp(runtime, po, country="DE", name="Fiktive GmbH")
    uk = add_cp(runtime, po, country="GB", name="Fictional Ltd")
    jp = add_cp(runtime, po)
    a = make_customer(runtime, po, email="a@example.jp")
    b = make_customer(runtime, po, email="b@example.jp")
    with runtime.transaction(po) as ctx:
        assert service.foreign_transfer_refusals(ctx, us, [a, b]) == {a: "R-28-1", b: "R-28-1"}
        assert service.foreign_transfer_refusals(ctx, de, [a, b]) == {}  # EU: equivalent (R-28-1 (a))
        assert service.foreign_transfer_refusals(ctx, uk, [a, b]) == {}
        assert service.foreign_transfer_refusals(ctx, jp, [a, b]) == {}
        assert service.get_counterparty(ctx, de).equivalent_country
    v = add_sheet(runtime, po, us)
    consent(runtime, po, a, us, sheet=v)
    with runtime.transaction(po) as ctx:
        assert service.foreign_transfer_refusals(ctx, us, [a, b]) == {b: "R-28-1"}
    with pytest.raises(PolicyDenied), runtime.transaction(actors["sato"]) as ctx:
        service.foreign_transfer_refusals(ctx, us, [a])


def test_system_review_overdue_refuses_and_alerts_R_28_3(runtime, actors, clock):
    po = actors["po"]
    sg = add_cp(
        runtime, po, country="SG", name="Fictional Pte Ltd", system_kind="cbpr", system_reference="CBPR-0001"
    )
    cid = make_customer(runtime, po)
    with runtime.transaction(po) as ctx:
        cp = service.get_counterparty(ctx, sg)
        assert cp.system_review_due == NOW + days(365) and cp.alerts == []
        assert service.foreign_transfer_refusals(ctx, sg, [cid]) == {}
    clock.advance(days(366))
    with runtime.transaction(po) as ctx:
        assert service.foreign_transfer_refusals(ctx, sg, [cid]) == {cid: "R-28-3"}
        listed = {c.id: c for c in service.list_counterparties(ctx)}
        assert any(a.startswith("R-28-3") for a in listed[sg].alerts)
        with pytest.raises(ValidationFailed):  # the next review must fall within a year
            service.review(ctx, sg, ReviewIn(next_due=clock.now() + days(400)))
        service.review(ctx, sg, ReviewIn())
    with runtime.transaction(po) as ctx:
        assert service.foreign_transfer_refusals(ctx, sg, [cid]) == {}
        service.review(ctx, sg, ReviewIn(ok=False))  # compliance became difficult → stop
    with runtime.transaction(po) as ctx:
        assert service.foreign_transfer_refusals(ctx, sg, [cid]) == {cid: "R-28-3"}
        jp = service.add_counterparty(
            ctx,
            CounterpartyIn(kind="third_party", name="架空", address="東京", representative="架空"),
        )
        with pytest.raises(ValidationFailed):
            service.review(ctx, jp.id, ReviewIn())
        with pytest.raises(ValidationFailed):  # a system only for a recipient abroad
            service.add_counterparty(
                ctx,
                CounterpartyIn(
                    kind="third_party",
                    name="架空",
                    address="東京",
                    representative="架空",
                    system_kind="contract",
                ),
            )
