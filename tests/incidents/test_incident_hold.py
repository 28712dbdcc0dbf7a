"""A person in scope of an open incident is held from retention disposal (Hold "open_incident", R-26-7); once
the incident is closed they are not (issue 22 "Deliver" 8)."""

from __future__ import annotations

from datetime import date

import pytest

from mamori.customers.service import subjects as customer_subjects
from mamori.incidents.models import Incident
from mamori.incidents.service import register as incidents_register
from mamori.incidents.sources import IncidentsHold
from mamori.kernel import registry
from mamori.lifecycle.service import retention
from tests.incidents.notice_support import put_in_scope
from tests.incidents.support import new_incident
from tests.lifecycle.retention_support import YEAR, add_rule, end, person, retention_actors


@pytest.fixture
def actors(runtime):
    return retention_actors(runtime)


def _close(runtime, actor, incident_id: str) -> None:
    """Closed by the register's own service (the incident is not reportable: nothing is owed)."""
    with runtime.transaction(actor) as ctx:
        assert incidents_register.close(ctx, incident_id).status == "closed"
    with runtime.transaction(readonly=True) as ctx:
        row = ctx.session.get(Incident, incident_id)
        assert row is not None and row.status == "closed"


def test_a_person_in_scope_of_an_open_incident_is_held_until_it_is_closed_R_26_7(runtime, actors):
    po = actors["po"]
    assert any(isinstance(p, IncidentsHold) for p in registry.retention_holds())  # registered by composition
    add_rule(runtime, po, purpose="*", category="*", days=YEAR, basis="relationship_end")
    affected = person(runtime, po, 71)
    free = person(runtime, po, 72)
    for cid in (affected, free):
        end(runtime, po, cid, date(2024, 1, 1))
    inc = new_incident(runtime, actors["sato"])
    put_in_scope(runtime, inc.id, {affected: {}})

    with runtime.transaction(po) as ctx:
        plan = retention.plan(ctx)
    assert plan.due == 1
    assert [(h.code, h.rule_id, h.persons) for h in plan.held] == [("open_incident", "R-26-7", 1)]

    _close(runtime, po, inc.id)
    with runtime.transaction(po) as ctx:
        plan = retention.plan(ctx)
        assert plan.due == 2 and plan.held == []
        record = retention.run(ctx)
    assert record.persons == 2
    with runtime.transaction(po, readonly=True) as ctx:
        assert customer_subjects.existing(ctx, [affected, free]) == set()


def test_the_run_leaves_the_held_person_whole(runtime, actors):
    po = actors["po"]
    add_rule(runtime, po, purpose="*", category="*", days=YEAR, basis="relationship_end")
    affected = person(runtime, po, 73)
    end(runtime, po, affected, date(2024, 1, 1))
    inc = new_incident(runtime, actors["sato"])
    put_in_scope(runtime, inc.id, {affected: {}})
    with runtime.transaction(po) as ctx:
        record = retention.run(ctx)
    assert record.persons == 0 and record.held == {"open_incident": 1}
    with runtime.transaction(po, readonly=True) as ctx:
        assert customer_subjects.existing(ctx, [affected]) == {affected}
