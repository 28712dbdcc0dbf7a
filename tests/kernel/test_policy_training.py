"""The human-measures gate of the policy engine (R-23-3, issue 21): an actor the training policy does not clear
may not handle personal data at all, whatever the role's grants; actions without personal data stay open."""

from __future__ import annotations

import pytest

from mamori.kernel.context import Actor, ActorKind, Context, Role
from mamori.kernel.policy import Action, Category, PurposeFacts, Resource, decide


@pytest.fixture(autouse=True, scope="module")
def _slices_registered():
    from mamori import composition

    composition.register_all()


def _ctx(*, cleared: bool, role: Role = Role.SALES) -> Context:
    actor = Actor(kind=ActorKind.STAFF, id="u1", name="u1", role=role, cleared=cleared)
    return Context(actor=actor, session=None, runtime=None, purpose="contract")  # type: ignore[arg-type]


def _res() -> Resource:
    return Resource(
        kind="customer",
        subject_id="c1",
        owner_id="u1",
        purpose=PurposeFacts(code="contract", categories=frozenset(Category) - {Category.SENSITIVE}),
        notified_purposes=frozenset({"contract"}),
        fields={"name": Category.IDENTIFIER},
    )


def test_an_actor_without_current_training_may_not_read_personal_data_R_23_3():
    d = decide(_ctx(cleared=False), Action.CUSTOMER_READ, _res())
    assert not d.allowed and d.code == "training_required" and d.rule_ids == ("R-23-3",)
    assert "研修" in d.reason_ja


def test_the_same_actor_cleared_reads_it():
    assert decide(_ctx(cleared=True), Action.CUSTOMER_READ, _res()).allowed


def test_the_gate_comes_after_the_role_check_and_leaves_non_personal_actions_open():
    # a role with no grant is still refused for its role (R-23-2), not for training
    d = decide(_ctx(cleared=False, role=Role.ANALYST), Action.CUSTOMER_READ, _res())
    assert d.code == "role_not_permitted"
    # purposes.read holds no personal data: an untrained rep may still read the purpose register
    assert decide(_ctx(cleared=False), Action("purpose.read"), Resource(kind="purpose")).allowed
