"""What the customers slice lets each role do with customers, their activities and 要配慮 data.

Registered by ``mamori.composition.register_all`` (ADR 0008); call sites spell these ``Action.<CONSTANT>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

CUSTOMER_READ: Final = Action("customer.read")
CUSTOMER_CREATE: Final = Action("customer.create")
CUSTOMER_UPDATE: Final = Action("customer.update")
CUSTOMER_IMPORT: Final = Action("customer.import")
# Decide a row an import held back for the privacy officer (issue 19, seed 001 case 3): open it, approve it (it is
# written as a customer) or reject it (its data key is destroyed).
CUSTOMER_IMPORT_APPROVE: Final = Action("customer.import_approve")
ACTIVITY_WRITE: Final = Action("activity.write")
SENSITIVE_WRITE: Final = Action("customer.write_sensitive")
# Change a customer's owner (issue 21, seed 001 case 1: a departing rep's handover). No personal value is read or
# written (ids only); a rep may give away only their own customers, the privacy officer and an admin any.
CUSTOMER_REASSIGN: Final = Action("customer.reassign")

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("CUSTOMER_READ", CUSTOMER_READ, personal_data=True),
    ActionSpec("CUSTOMER_CREATE", CUSTOMER_CREATE),
    ActionSpec("CUSTOMER_UPDATE", CUSTOMER_UPDATE, personal_data=True, writes=True),
    ActionSpec("CUSTOMER_IMPORT", CUSTOMER_IMPORT),
    ActionSpec("CUSTOMER_IMPORT_APPROVE", CUSTOMER_IMPORT_APPROVE),
    ActionSpec("ACTIVITY_WRITE", ACTIVITY_WRITE, personal_data=True, writes=True),
    ActionSpec("SENSITIVE_WRITE", SENSITIVE_WRITE, personal_data=True, writes=True, sensitive=True),
    ActionSpec("CUSTOMER_REASSIGN", CUSTOMER_REASSIGN),
)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {
        CUSTOMER_READ: Scope.ALL,
        CUSTOMER_UPDATE: Scope.ALL,
        CUSTOMER_CREATE: Scope.ALL,
        CUSTOMER_IMPORT: Scope.ALL,
        CUSTOMER_IMPORT_APPROVE: Scope.ALL,
        ACTIVITY_WRITE: Scope.ALL,
        SENSITIVE_WRITE: Scope.ALL,
        CUSTOMER_REASSIGN: Scope.ALL,
    },
    Role.ADMIN: {
        CUSTOMER_REASSIGN: Scope.ALL,  # issue 21: the departing rep's handover
    },
    Role.SALES: {
        CUSTOMER_READ: Scope.OWN,
        CUSTOMER_UPDATE: Scope.OWN,
        CUSTOMER_CREATE: Scope.OWN,
        # issue 19: a rep imports their own business cards into their own book (the importer makes the rep the
        # owner of every row); rows whose notified purposes fall short wait for the privacy officer.
        CUSTOMER_IMPORT: Scope.OWN,
        ACTIVITY_WRITE: Scope.OWN,
        SENSITIVE_WRITE: Scope.OWN,
        CUSTOMER_REASSIGN: Scope.OWN,  # issue 21: a rep gives away only their own customers
    },
    Role.SUPPORT: {
        CUSTOMER_READ: Scope.ALL,
        CUSTOMER_UPDATE: Scope.ALL,
        CUSTOMER_CREATE: Scope.ALL,
        ACTIVITY_WRITE: Scope.ALL,
        SENSITIVE_WRITE: Scope.ALL,
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
