"""What the provision slice lets each role do: counterparties, provision and receipt records, relays.

Registered by ``mamori.composition.register_all`` (ADR 0008); call sites spell these ``Action.<CONSTANT>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

PROVISION_READ: Final = Action("provision.read")
PROVISION_MANAGE: Final = Action("provision.manage")  # counterparties, provide, receive, joint use
RELAY: Final = Action(
    "provision.relay"
)  # pass a customer's message to another customer instead of disclosing (seed 001)

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("PROVISION_READ", PROVISION_READ),
    ActionSpec("PROVISION_MANAGE", PROVISION_MANAGE),
    ActionSpec("RELAY", RELAY),
)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {
        PROVISION_READ: Scope.ALL,
        PROVISION_MANAGE: Scope.ALL,
        RELAY: Scope.ALL,
    },
    Role.SUPPORT: {
        RELAY: Scope.ALL,  # the call center answers "give me that customer's number" with a relay
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
