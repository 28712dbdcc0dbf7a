"""What the analytics slice lets each role do (issue 24).

Registered by ``mamori.composition.register_all`` (ADR 0008). ``analytics.run`` is a personal-data action: the
engine checks, person by person, that the purpose was notified to them, is not stopped and is consented where it
needs consent, and masks the fields outside the purpose's categories (R-18-1, R-21-1, R-35-1). The service adds
that the purpose must state profiling (R-17-1). Analysis of a 仮名加工情報 dataset (``analytics.pseudonymised``) is
checked by the service against the dataset's registered purpose (R-41-3); it never reaches a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

ANALYTICS_RUN: Final = Action("analytics.run")  # analyse personal data under a profiling purpose
ANALYTICS_PSEUDONYMISED: Final = Action("analytics.pseudonymised")  # analyse a 仮名加工情報 dataset (R-41-3)
ANALYTICS_SEGMENTS: Final = Action("analytics.segments")  # read past runs; save, version and list segments
ANALYTICS_KPI: Final = Action("analytics.kpi")  # the KPI dashboard (aggregates only)
ANALYTICS_COSTS: Final = Action("analytics.costs")  # acquisition costs per channel / campaign (CAC)
ANALYTICS_GOVERNANCE: Final = Action("analytics.governance")  # the seed 002 checklist and the data map

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("ANALYTICS_RUN", ANALYTICS_RUN, personal_data=True),
    ActionSpec("ANALYTICS_PSEUDONYMISED", ANALYTICS_PSEUDONYMISED),
    ActionSpec("ANALYTICS_SEGMENTS", ANALYTICS_SEGMENTS),
    ActionSpec("ANALYTICS_KPI", ANALYTICS_KPI),
    ActionSpec("ANALYTICS_COSTS", ANALYTICS_COSTS),
    ActionSpec("ANALYTICS_GOVERNANCE", ANALYTICS_GOVERNANCE),
)

# Role -> action -> row scope. Anything absent is denied (deny by default). Sales and support staff serve
# customers one by one; they run no analysis and see no dashboard of the whole customer base.
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {
        ANALYTICS_RUN: Scope.ALL,
        ANALYTICS_PSEUDONYMISED: Scope.ALL,
        ANALYTICS_SEGMENTS: Scope.ALL,
        ANALYTICS_KPI: Scope.ALL,
        ANALYTICS_COSTS: Scope.ALL,
        ANALYTICS_GOVERNANCE: Scope.ALL,
    },
    Role.ANALYST: {
        ANALYTICS_RUN: Scope.ALL,
        ANALYTICS_PSEUDONYMISED: Scope.ALL,
        ANALYTICS_SEGMENTS: Scope.ALL,
        ANALYTICS_KPI: Scope.ALL,
        ANALYTICS_COSTS: Scope.ALL,
    },
    Role.ADMIN: {  # the system's own measures (encryption, backups, logs) are the administrator's to show
        ANALYTICS_KPI: Scope.ALL,
        ANALYTICS_GOVERNANCE: Scope.ALL,
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
