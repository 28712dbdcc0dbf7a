"""Adding the incidents slice needs no edit in kernel/ (issue 12, ADR 0008).

The fake slice below declares its actions, role grants and subject data source outside the kernel, registers
them through the kernel's public registration functions — exactly what ``incidents/permissions.py`` and
``incidents/sources.py`` would do from ``composition.register_all`` — and the kernel decides by them.
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

# --- what src/mamori/incidents/permissions.py would hold ----------------------------------------------------

INCIDENT_READ: Final = Action("incident.read")
INCIDENT_MANAGE: Final = Action("incident.manage")
ACTIONS: Final = (ActionSpec("INCIDENT_READ", INCIDENT_READ), ActionSpec("INCIDENT_MANAGE", INCIDENT_MANAGE))
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {INCIDENT_READ: Scope.ALL, INCIDENT_MANAGE: Scope.ALL},
    Role.SUPPORT: {INCIDENT_READ: Scope.TEAM},
}


# --- what src/mamori/incidents/sources.py would register ----------------------------------------------------


class IncidentsSource:
    name = "incidents"

    def summary(self, ctx: Context, subject_id: str) -> Mapping[str, int]:
        return {"incident": 0}

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
def incidents_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Register the fake slice on copies of the kernel's registries, so no other test ever sees it."""
    composition.register_all()
    monkeypatch.setattr(policy_actions, "_specs", dict(policy_actions._specs))
    monkeypatch.setattr(policy_actions, "_by_constant", dict(policy_actions._by_constant))
    monkeypatch.setattr(policy_actions, "_grants", {r: dict(g) for r, g in policy_actions._grants.items()})
    monkeypatch.setattr(registry, "_sources", dict(registry._sources))
    register_actions(ACTIONS)  # what incidents.permissions.register() does
    register_grants(GRANTS)
    registry.register_source(IncidentsSource())  # what incidents.sources.register() does
    yield


def ctx(role: Role, team: str | None = None) -> Context:
    actor = Actor(kind=ActorKind.STAFF, id="u1", name="u1", role=role, team=team)
    return Context(actor=actor, session=None, runtime=None, purpose=None)  # type: ignore[arg-type]


def test_the_kernel_decides_by_the_new_slices_grants(incidents_registered: None):
    incident = Resource(kind="incident", subject_id="inc1", team="east")
    assert decide(ctx(Role.PRIVACY_OFFICER), INCIDENT_MANAGE, incident).allowed
    assert decide(ctx(Role.SUPPORT, team="east"), Action.INCIDENT_READ, incident).allowed

    other_team = decide(ctx(Role.SUPPORT, team="west"), INCIDENT_READ, incident)
    assert not other_team.allowed and other_team.code == "out_of_scope"
    for role, action in [
        (Role.SUPPORT, INCIDENT_MANAGE),
        (Role.SALES, INCIDENT_READ),
        (Role.ADMIN, INCIDENT_READ),
    ]:
        refused = decide(ctx(role), action, incident)  # deny by default: nothing granted
        assert (
            not refused.allowed and refused.code == "role_not_permitted" and refused.rule_ids == ("R-23-2",)
        )

    assert row_scope(ctx(Role.SUPPORT), INCIDENT_READ) == Scope.TEAM
    assert (
        grant_table()[Role.SYSTEM][INCIDENT_MANAGE] == Scope.ALL
    )  # the system may do every registered action
    assert "incidents" in {source.name for source in registry.sources()}


def test_the_new_slice_cannot_change_an_existing_grant(incidents_registered: None):
    with pytest.raises(ValueError, match="already"):
        register_grants({Role.SALES: {Action.CUSTOMER_READ: Scope.ALL}})  # sales reads only its own customers
    with pytest.raises(ValueError, match="already registered"):
        register_actions([ActionSpec("INCIDENT_READ", Action("incident.view"))])
    with pytest.raises(ValueError, match="unregistered"):
        register_grants({Role.SUPPORT: {Action("incident.delete"): Scope.ALL}})


def test_the_fake_slice_is_gone_after_the_test():
    composition.register_all()
    assert INCIDENT_READ not in grant_table()[Role.PRIVACY_OFFICER]
    assert "incidents" not in {source.name for source in registry.sources()}
