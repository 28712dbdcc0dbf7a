"""What the rights slice lets each role do with requests from the person.

Registered by ``mamori.composition.register_all`` (ADR 0008); call sites spell these ``Action.<CONSTANT>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

RIGHTS_INTAKE: Final = Action("rights.intake")  # record a request from the person (phone, letter, counter)
RIGHTS_MANAGE: Final = Action("rights.manage")  # verify, show, fulfil, refuse, extend

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("RIGHTS_INTAKE", RIGHTS_INTAKE),
    ActionSpec("RIGHTS_MANAGE", RIGHTS_MANAGE),
)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {
        RIGHTS_INTAKE: Scope.ALL,
        RIGHTS_MANAGE: Scope.ALL,
    },
    Role.SALES: {
        RIGHTS_INTAKE: Scope.ALL,
    },
    Role.SUPPORT: {
        RIGHTS_INTAKE: Scope.ALL,
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
