"""Adding a slice needs no edit in kernel/ (issue 12, ADR 0008); a fake "complaints" slice stands in for it.

The fake slice below declares its actions, role grants and subject data source outside the kernel, registers
them through the kernel's public registration functions — exactly what ``complaints/permissions.py`` and
``complaints/sources.py`` would do from ``composition.register_all`` — and the kernel decides by them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Final

import pytest

from mamori import composition
from mamori.kernel import registry
from mamori.kernel.context import Actor, ActorKind, Context, Role
from mamori.kernel.policy import (
    Action,
    ActionSpec,
    Resource,
    Scope,
    decide,
    grant_table,
    register_actions,
    register_grants,
    row_scope,
)
from mamori.kernel.policy import actions as policy_actions
from mamori.kernel.registry import Correction, Recipient, SubjectRecord

# --- what src/mamori/complaints/permissions.py would hold ----------------------------------------------------

COMPLAINT_READ: Final = Action("complaint.read")
COMPLAINT_MANAGE: Final = Action("complaint.manage")
ACTIONS: Final = (
    ActionSpec("COMPLAINT_READ", COMPLAINT_READ),
    ActionSpec("COMPLAINT_MANAGE", COMPLAINT_MANAGE),
)
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {COMPLAINT_READ: Scope.ALL, COMPLAINT_MANAGE: Scope.ALL},
    Role.SUPPORT: {COMPLAINT_READ: Scope.TEAM},
}


# --- what src/mamori/complaints/sources.py would register ----------------------------------------------------


class ComplaintsSource:
    name = "complaints"

    def summary(self, ctx: Context, subject_id: str) -> Mapping[str, int]:
        return {"complaint": 0}

    def export(self, ctx: Context, subject_id: str) -> Sequence[SubjectRecord]:
        return ()

    def correct(
        self, ctx: Context, subject_id: str, record_id: str, changes: Mapping[str, str | None]
    ) -> Sequence[Correction]:
        return ()

    def erase(self, ctx: Context, subject_id: str) -> int:
        return 0

    def recipients(self, ctx: Context, subject_id: str) -> Sequence[Recipient]:
        return ()


@pytest.fixture
def complaints_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Register the fake slice on copies of the kernel's registries, so no other test ever sees it."""
    composition.register_all()
    monkeypatch.setattr(policy_actions, "_specs", dict(policy_actions._specs))
    monkeypatch.setattr(policy_actions, "_by_constant", dict(policy_actions._by_constant))
    monkeypatch.setattr(policy_actions, "_grants", {r: dict(g) for r, g in policy_actions._grants.items()})
    monkeypatch.setattr(registry, "_sources", dict(registry._sources))
    register_actions(ACTIONS)  # what complaints.permissions.register() does
    register_grants(GRANTS)
    registry.register_source(ComplaintsSource())  # what complaints.sources.register() does
    yield


def ctx(role: Role, team: str | None = None) -> Context:
    actor = Actor(kind=ActorKind.STAFF, id="u1", name="u1", role=role, team=team)
    return Context(actor=actor, session=None, runtime=None, purpose=None)  # type: ignore[arg-type]


def test_the_kernel_decides_by_the_new_slices_grants(complaints_registered: None):
    complaint = Resource(kind="complaint", subject_id="inc1", team="east")
    assert decide(ctx(Role.PRIVACY_OFFICER), COMPLAINT_MANAGE, complaint).allowed
    assert decide(ctx(Role.SUPPORT, team="east"), Action.COMPLAINT_READ, complaint).allowed

    other_team = decide(ctx(Role.SUPPORT, team="west"), COMPLAINT_READ, complaint)
    assert not other_team.allowed and other_team.code == "out_of_scope"
    for role, action in [
        (Role.SUPPORT, COMPLAINT_MANAGE),
        (Role.SALES, COMPLAINT_READ),
        (Role.ADMIN, COMPLAINT_READ),
    ]:
        refused = decide(ctx(role), action, complaint)  # deny by default: nothing granted
        assert (
            not refused.allowed and refused.code == "role_not_permitted" and refused.rule_ids == ("R-23-2",)
        )

    assert row_scope(ctx(Role.SUPPORT), COMPLAINT_READ) == Scope.TEAM
    assert (
        grant_table()[Role.SYSTEM][COMPLAINT_MANAGE] == Scope.ALL
    )  # the system may do every registered action
    assert "complaints" in {source.name for source in registry.sources()}


def test_the_new_slice_cannot_change_an_existing_grant(complaints_registered: None):
    with pytest.raises(ValueError, match="already"):
        register_grants({Role.SALES: {Action.CUSTOMER_READ: Scope.ALL}})  # sales reads only its own customers
    with pytest.raises(ValueError, match="already registered"):
        register_actions([ActionSpec("COMPLAINT_READ", Action("complaint.view"))])
    with pytest.raises(ValueError, match="unregistered"):
        register_grants({Role.SUPPORT: {Action("complaint.delete"): Scope.ALL}})


def test_the_fake_slice_is_gone_after_the_test():
    composition.register_all()
    assert COMPLAINT_READ not in grant_table()[Role.PRIVACY_OFFICER]
    assert "complaints" not in {source.name for source in registry.sources()}
