"""What the inventory slice lets each role do: read the registers and the ROPA, keep the storage locations, tag
the data dictionary.

The registers describe the organisation (where data is kept, which items it holds, who receives them), not a
person, so they need no purpose. The privacy officer keeps all of it; the administrator, who runs the databases
and backups, may read and keep the storage locations but not tag data items (a legal judgement, R-2.3-1 / G-6).

Registered by ``mamori.composition.register_all`` (ADR 0008); call sites spell these ``Action.<CONSTANT>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

INVENTORY_READ: Final = Action("inventory.read")  # locations, dictionary, ROPA, countries
INVENTORY_LOCATIONS: Final = Action("inventory.locations")  # add / update / retire storage locations
INVENTORY_TAG: Final = Action("inventory.tag")  # tag data items (APPI category, 要配慮, GDPR Art. 9/10)

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("INVENTORY_READ", INVENTORY_READ),
    ActionSpec("INVENTORY_LOCATIONS", INVENTORY_LOCATIONS),
    ActionSpec("INVENTORY_TAG", INVENTORY_TAG),
)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.ADMIN: {
        INVENTORY_READ: Scope.ALL,
        INVENTORY_LOCATIONS: Scope.ALL,
    },
    Role.PRIVACY_OFFICER: {
        INVENTORY_READ: Scope.ALL,
        INVENTORY_LOCATIONS: Scope.ALL,
        INVENTORY_TAG: Scope.ALL,
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
