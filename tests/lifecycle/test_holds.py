"""Holds that stop a disposal (issue 21): the privacy officer's legal hold, the rights slice's open request, and a
provider registered by a later slice (an incidents slice: an open incident) through the kernel registry."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pydantic
import pytest

from mamori.customers import service as customers_service
from mamori.customers.schemas import ActivityIn
from mamori.customers.service import subjects as customer_subjects
from mamori.kernel import registry
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied
from mamori.kernel.registry import Hold
from mamori.lifecycle.service import holds, retention
from tests.lifecycle.retention_support import YEAR, add_rule, end, person, retention_actors


@pytest.fixture
def actors(runtime):
    return retention_actors(runtime)


def test_legal_hold_set_list_release_and_audit(runtime, actors):
    po = actors["po"]
    cid = person(runtime, po, 61)
    with runtime.transaction(po) as ctx:
        made = holds.set(ctx, cid, "regulator", "照会 2026-12")
    with pytest.raises(Conflict) as dup, runtime.transaction(po) as ctx:
        holds.set(ctx, cid, "regulator")
    assert dup.value.code == "hold_exists"
    with runtime.transaction(po) as ctx:
        other = holds.set(ctx, cid, "litigation")  # another reason is another hold
        assert {h.id for h in holds.list_holds(ctx)} == {made.id, other.id}
        released = holds.release(ctx, made.id)
    assert released.released_by == po.label and released.released_at is not None
    with pytest.raises(Conflict), runtime.transaction(po) as ctx:
        holds.release(ctx, made.id)
    with runtime.transaction(po) as ctx:
        assert [h.id for h in holds.list_holds(ctx)] == [other.id]
        assert {h.id for h in holds.list_holds(ctx, include_released=True)} == {made.id, other.id}
    runtime.drain_outbox()
    entries = [e for e in runtime.audit.tail(50) if e.action.startswith("retention.hold")]
    assert sorted(e.action for e in entries) == [
        "retention.hold_list",
        "retention.hold_list",
        "retention.hold_list",
        "retention.hold_release",
        "retention.hold_set",
        "retention.hold_set",
    ]
    assert {tuple(e.subject_ids) for e in entries if e.action != "retention.hold_list"} == {(cid,)}
    for e in entries:
        assert "照会" not in json.dumps(e.details, ensure_ascii=False)  # the note is not in the audit log


def test_hold_bad_input_unknown_or_erased_customer_and_roles(runtime, actors):
    po = actors["po"]
    cid = person(runtime, po, 62)
    with pytest.raises(pydantic.ValidationError), runtime.transaction(po) as ctx:
        holds.set(ctx, cid, "because")
    with pytest.raises(pydantic.ValidationError), runtime.transaction(po) as ctx:
        holds.set(ctx, "not-an-id", "other")
    with pytest.raises(NotFound), runtime.transaction(po) as ctx:
        holds.set(ctx, "0" * 32, "other")
    with runtime.transaction(po) as ctx:
        customer_subjects.erase(ctx, cid)
    with pytest.raises(NotFound), runtime.transaction(po) as ctx:
        holds.set(ctx, cid, "other")
    with pytest.raises(NotFound), runtime.transaction(po) as ctx:
        holds.release(ctx, "0" * 32)
    live = person(runtime, po, 63)
    for name in ("admin", "sato", "support", "analyst"):
        with pytest.raises(PolicyDenied) as denied, runtime.transaction(actors[name]) as ctx:
            holds.set(ctx, live, "other")
        assert denied.value.rule_id == "R-23-2"
    with runtime.transaction(po) as ctx:
        assert holds.list_holds(ctx) == []  # no refused call left a hold behind


def test_a_held_person_keeps_every_category_too(runtime, actors):
    po = actors["po"]
    add_rule(runtime, po, purpose="*", category="behaviour", days=30, basis="last_activity")
    cid = person(runtime, po, 64, purposes=("contract",))
    with runtime.transaction(po, "contract") as ctx:
        customers_service.add_activity(ctx, cid, ActivityIn(kind="purchase", body="購入"))
    with runtime.transaction(po) as ctx:
        holds.set(ctx, cid, "investigation")
    runtime.clock.advance(timedelta(days=40))
    with runtime.transaction(po) as ctx:
        plan = retention.plan(ctx)
        assert plan.category_due == 0 and [(h.code, h.persons) for h in plan.held] == [("legal_hold", 1)]
        record = retention.run(ctx)
    assert record.persons == 0 and record.counts == {} and record.held == {"legal_hold": 1}


class _IncidentHold:
    """What an incidents slice (issue 22) registers: persons affected by an open incident are kept."""

    name = "zz_incidents"

    def __init__(self, affected: set[str]) -> None:
        self.affected = affected

    def held(self, ctx, subject_ids):  # noqa: ANN001, ANN201
        return {sid: Hold("open_incident", "R-26-7") for sid in subject_ids if sid in self.affected}


def test_a_later_slice_plugs_in_a_hold_through_the_registry(runtime, actors):
    po = actors["po"]
    add_rule(runtime, po, purpose="*", category="*", days=YEAR, basis="relationship_end")
    affected = person(runtime, po, 65)
    free = person(runtime, po, 66)
    for cid in (affected, free):
        end(runtime, po, cid, date(2024, 1, 1))
    provider = _IncidentHold({affected})
    registry.register_retention_hold(provider)
    try:
        with runtime.transaction(po) as ctx:
            plan = retention.plan(ctx)
            assert plan.due == 1
            assert [(h.code, h.rule_id, h.persons) for h in plan.held] == [("open_incident", "R-26-7", 1)]
            record = retention.run(ctx)
    finally:
        registry._retention_holds.pop(provider.name, None)
    assert record.held == {"open_incident": 1} and record.persons == 1
    with runtime.transaction(po, readonly=True) as ctx:
        assert customer_subjects.existing(ctx, [affected, free]) == {affected}
