"""What the notice slice lets each role do: only the privacy officer drafts and publishes the notice (R-32-1).

Registered by ``mamori.composition.register_all`` (ADR 0008); call sites spell these ``Action.<CONSTANT>``. The
published notice itself is public (the privacy center's pages read it without a staff login).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

# Build the draft of the notice (it shows the registries' wording and the settings) and publish a new version.
NOTICE_PUBLISH: Final = Action("notice.publish")

ACTIONS: Final[tuple[ActionSpec, ...]] = (ActionSpec("NOTICE_PUBLISH", NOTICE_PUBLISH),)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {NOTICE_PUBLISH: Scope.ALL},
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
