"""What the monitoring slice lets each role do (issue 25).

Registered by ``mamori.composition.register_all`` (ADR 0008). None of these actions reads a customer's personal
value: alerts name audit entries by sequence number and count; reviews list staff accounts; the report holds
aggregates. Who watches is kept apart from who is watched: nobody handles an alert about themselves, and nobody
decides their own line of an access review (the services refuse, R-23-2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

MONITORING_READ: Final = Action("monitoring.read")  # the alert queue, an alert and the entries behind it
MONITORING_HANDLE: Final = Action("monitoring.handle")  # look at, dismiss, open an incident from an alert
MONITORING_EVALUATE: Final = Action("monitoring.evaluate")  # run the signals over the audit log
MONITORING_SETTINGS: Final = Action("monitoring.settings")  # thresholds, working hours, review interval
ACCESS_REVIEW: Final = Action("monitoring.access_review")  # start, decide and close an access review
GOVERNANCE_REPORT: Final = Action("monitoring.report")  # the monthly governance report

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("MONITORING_READ", MONITORING_READ),
    ActionSpec("MONITORING_HANDLE", MONITORING_HANDLE),
    ActionSpec("MONITORING_EVALUATE", MONITORING_EVALUATE),
    ActionSpec("MONITORING_SETTINGS", MONITORING_SETTINGS),
    ActionSpec("ACCESS_REVIEW", ACCESS_REVIEW),
    ActionSpec("GOVERNANCE_REPORT", GOVERNANCE_REPORT),
)

# Role -> action -> row scope. Anything absent is denied. The privacy officer watches and handles; the
# administrator may run the evaluation, take part in access reviews (they manage the accounts) and read the report.
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {
        MONITORING_READ: Scope.ALL,
        MONITORING_HANDLE: Scope.ALL,
        MONITORING_EVALUATE: Scope.ALL,
        MONITORING_SETTINGS: Scope.ALL,
        ACCESS_REVIEW: Scope.ALL,
        GOVERNANCE_REPORT: Scope.ALL,
    },
    Role.ADMIN: {
        MONITORING_EVALUATE: Scope.ALL,
        ACCESS_REVIEW: Scope.ALL,
        GOVERNANCE_REPORT: Scope.ALL,
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
