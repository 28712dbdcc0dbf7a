"""What the consent slice lets each role do with the consent ledger.

Registered by ``mamori.composition.register_all`` (ADR 0008); call sites spell these ``Action.<CONSTANT>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

CONSENT_RECORD: Final = Action("consent.record")
CONSENT_READ: Final = Action(
    "consent.read"
)  # the ledger holds ids, purpose codes and methods, no personal values: no purpose needed

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("CONSENT_RECORD", CONSENT_RECORD),
    ActionSpec("CONSENT_READ", CONSENT_READ),
)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {
        CONSENT_RECORD: Scope.ALL,
        CONSENT_READ: Scope.ALL,
    },
    Role.SALES: {
        CONSENT_RECORD: Scope.OWN,
        CONSENT_READ: Scope.OWN,
    },
    Role.SUPPORT: {
        CONSENT_RECORD: Scope.ALL,
        CONSENT_READ: Scope.ALL,
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
