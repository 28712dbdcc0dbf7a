"""What the staff slice lets each role do: manage staff accounts; manage training, pledges and the training policy;
contain an incident (disable an account, revoke its sessions and tokens: ``staff.contain``, issue 22).

Registered by ``mamori.composition.register_all`` (ADR 0008); call sites spell these ``Action.<CONSTANT>``.
Every staff member views their own training status and signs the pledge themselves without a grant (the service
checks that the actor is that person).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

STAFF_MANAGE: Final = Action("staff.manage")
# Courses, completions, pledge versions, signatures recorded from paper and the policy (R-23-3; no personal data).
STAFF_TRAINING: Final = Action("staff.training")
# Containment from a leak incident (issue 22, R-26-7): disable an account, revoke its sessions and API tokens.
# The administrator and the privacy officer (who runs the incident) hold it; it does not open the rest of staff.manage.
STAFF_CONTAIN: Final = Action("staff.contain")

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("STAFF_MANAGE", STAFF_MANAGE),
    ActionSpec("STAFF_TRAINING", STAFF_TRAINING),
    ActionSpec("STAFF_CONTAIN", STAFF_CONTAIN),
)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.ADMIN: {
        STAFF_MANAGE: Scope.ALL,
        STAFF_TRAINING: Scope.ALL,
        STAFF_CONTAIN: Scope.ALL,
    },
    Role.PRIVACY_OFFICER: {
        STAFF_TRAINING: Scope.ALL,
        STAFF_CONTAIN: Scope.ALL,
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
