"""What the purposes slice lets each role do: read and keep the purpose registry and the notice.

Registered by ``mamori.composition.register_all`` (ADR 0008); call sites spell these ``Action.<CONSTANT>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

PURPOSE_MANAGE: Final = Action("purpose.manage")
PURPOSE_READ: Final = Action("purpose.read")
# Record that persons were notified of a purpose's current version, record a notice exception (R-21-3) and list
# who still needs the notice (R-17-2, R-21-1): customer ids and purpose versions only, never a personal value.
PURPOSE_NOTICE: Final = Action("purpose.notice")

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("PURPOSE_MANAGE", PURPOSE_MANAGE),
    ActionSpec("PURPOSE_READ", PURPOSE_READ),
    ActionSpec("PURPOSE_NOTICE", PURPOSE_NOTICE),
)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.ADMIN: {
        PURPOSE_READ: Scope.ALL,
    },
    Role.PRIVACY_OFFICER: {
        PURPOSE_MANAGE: Scope.ALL,
        PURPOSE_READ: Scope.ALL,
        PURPOSE_NOTICE: Scope.ALL,
    },
    Role.SALES: {
        PURPOSE_READ: Scope.ALL,
    },
    Role.SUPPORT: {
        PURPOSE_READ: Scope.ALL,
    },
    # Analysts see customers only through pseudonymised / anonymised datasets (deid), never row by row.
    Role.ANALYST: {
        PURPOSE_READ: Scope.ALL,
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
