"""What the staff slice lets each role do: manage staff accounts.

Registered by ``mamori.composition.register_all`` (ADR 0008); call sites spell these ``Action.<CONSTANT>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

STAFF_MANAGE: Final = Action("staff.manage")

ACTIONS: Final[tuple[ActionSpec, ...]] = (ActionSpec("STAFF_MANAGE", STAFF_MANAGE),)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.ADMIN: {
        STAFF_MANAGE: Scope.ALL,
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
