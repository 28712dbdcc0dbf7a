"""What the incidents slice lets each role do (issue 22). Registered by ``mamori.composition.register_all``.

- ``incident.register``: report an incident (漏えい等のおそれ) — any member of staff; knowing starts the clock, and
  the company knows when any of its departments knows (R-26-2). The reporter sees what they registered, not the
  board.
- ``incident.read``: the board, an incident, its scope counts, reports and send log (no personal value).
- ``incident.manage``: edit the register, classify, draft and export the PPC report, record filing, close.
- ``incident.scope``: draw the scope from the audit log, provision records, outsourcee handovers, ids or a filter.
- ``incident.notify``: notify the people in scope (R-26-6, G-34): opens each person's contact details to send the
  notice — a legal duty, not a use for a business purpose, so no purpose applies.
- ``incident.contain``: containment from the incident (disable an account, revoke sessions and tokens, suspend an
  outsourcee's access, rotate keys), each step audited with the incident id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

INCIDENT_REGISTER: Final = Action("incident.register")
INCIDENT_READ: Final = Action("incident.read")
INCIDENT_MANAGE: Final = Action("incident.manage")
INCIDENT_SCOPE: Final = Action("incident.scope")
INCIDENT_NOTIFY: Final = Action("incident.notify")
INCIDENT_CONTAIN: Final = Action("incident.contain")

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("INCIDENT_REGISTER", INCIDENT_REGISTER),
    ActionSpec("INCIDENT_READ", INCIDENT_READ),
    ActionSpec("INCIDENT_MANAGE", INCIDENT_MANAGE),
    ActionSpec("INCIDENT_SCOPE", INCIDENT_SCOPE),
    ActionSpec("INCIDENT_NOTIFY", INCIDENT_NOTIFY),
    ActionSpec("INCIDENT_CONTAIN", INCIDENT_CONTAIN),
)

_EVERYONE = {INCIDENT_REGISTER: Scope.ALL}

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {
        INCIDENT_REGISTER: Scope.ALL,
        INCIDENT_READ: Scope.ALL,
        INCIDENT_MANAGE: Scope.ALL,
        INCIDENT_SCOPE: Scope.ALL,
        INCIDENT_NOTIFY: Scope.ALL,
        INCIDENT_CONTAIN: Scope.ALL,
    },
    Role.ADMIN: {INCIDENT_REGISTER: Scope.ALL, INCIDENT_READ: Scope.ALL, INCIDENT_CONTAIN: Scope.ALL},
    Role.SALES: _EVERYONE,
    Role.SUPPORT: _EVERYONE,
    Role.ANALYST: _EVERYONE,
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
