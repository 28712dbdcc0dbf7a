"""What the processors slice lets each role do: outsourcee contracts, audits, operator accounts, and what an
outsourcee operator may do with the customers its running contract covers (R-25-1).

Registered by ``mamori.composition.register_all`` (ADR 0008); call sites spell these ``Action.<CONSTANT>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.customers.permissions import ACTIVITY_WRITE, CUSTOMER_READ
from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

PROCESSOR_READ: Final = Action("processor.read")
PROCESSOR_MANAGE: Final = Action("processor.manage")  # outsourcee contracts, audits, operator accounts

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("PROCESSOR_READ", PROCESSOR_READ),
    ActionSpec("PROCESSOR_MANAGE", PROCESSOR_MANAGE),
)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {
        PROCESSOR_READ: Scope.ALL,
        PROCESSOR_MANAGE: Scope.ALL,
    },
    # Outsourcee operators see only the customers, fields and purposes of their running contract (R-25-1).
    Role.OUTSOURCEE: {
        CUSTOMER_READ: Scope.GRANT,
        ACTIVITY_WRITE: Scope.GRANT,
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
