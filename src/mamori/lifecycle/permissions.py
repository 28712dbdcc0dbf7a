"""What the lifecycle slice lets each role do (issue 21). Registered by ``mamori.composition.register_all``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

# Retention and disposal (R-22-1): the rules and the plan hold no personal value; a run crypto-shreds people (it
# uses no data, so no purpose applies); a legal hold stops a disposal. The privacy officer's, nobody else's.
RETENTION_MANAGE: Final = Action("lifecycle.retention")
RETENTION_DISPOSE: Final = Action("lifecycle.dispose")
RETENTION_HOLD: Final = Action("lifecycle.hold")
# Data quality (accuracy, R-22-1):
# ``lifecycle.quality``: run the data-quality report. It opens the values it checks (phones, e-mails, kana, birth
# date, postal code, address) but shows none: scores, codes and ids only. Not a ``personal_data`` action for the
# engine — the check is the R-22-1 duty itself, not a use for a business purpose, so no purpose applies — but the
# service still refuses an actor without current training and pledge (R-23-3), as the engine does for reads. The
# privacy officer sees every customer; a sales rep the scores of their own customers only (R-23-2).
LIFECYCLE_QUALITY: Final = Action("lifecycle.quality")


ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("RETENTION_MANAGE", RETENTION_MANAGE),
    ActionSpec("RETENTION_DISPOSE", RETENTION_DISPOSE),
    ActionSpec("RETENTION_HOLD", RETENTION_HOLD),
    ActionSpec("LIFECYCLE_QUALITY", LIFECYCLE_QUALITY),
)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {
        RETENTION_MANAGE: Scope.ALL,
        RETENTION_DISPOSE: Scope.ALL,
        RETENTION_HOLD: Scope.ALL,
        LIFECYCLE_QUALITY: Scope.ALL,
    },
    Role.SALES: {LIFECYCLE_QUALITY: Scope.OWN},
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
