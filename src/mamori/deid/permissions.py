"""What the deid slice lets each role do: de-identify files, assess their risk, and keep the pseudonym keys.

Registered by ``mamori.composition.register_all`` (ADR 0008); call sites spell these ``Action.<CONSTANT>``.
The purpose check of a de-identification run is the deid service's own (it reads purposes), so none of these is a
``personal_data`` action for the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

DEID_PSEUDONYMISE: Final = Action("deid.pseudonymise")  # 仮名加工情報 (R-41-1)
DEID_ANONYMISE: Final = Action("deid.anonymise")  # 匿名加工情報 (R-43-1)
DEID_RISK: Final = Action("deid.risk")  # k-anonymity / l-diversity report
DEID_KEYS: Final = Action("deid.keys")  # create, first use and destroy 削除情報等 (R-41-2)
DEID_PROVIDE: Final = Action("deid.provide")  # hand a dataset to another party (R-41-4, R-43-4)
DEID_DATASETS: Final = Action(
    "deid.datasets"
)  # read the register of de-identified datasets (no record values)

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("DEID_PSEUDONYMISE", DEID_PSEUDONYMISE),
    ActionSpec("DEID_ANONYMISE", DEID_ANONYMISE),
    ActionSpec("DEID_RISK", DEID_RISK),
    ActionSpec("DEID_KEYS", DEID_KEYS),
    ActionSpec("DEID_PROVIDE", DEID_PROVIDE),
    ActionSpec("DEID_DATASETS", DEID_DATASETS),
)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {
        DEID_PSEUDONYMISE: Scope.ALL,
        DEID_ANONYMISE: Scope.ALL,
        DEID_RISK: Scope.ALL,
        DEID_KEYS: Scope.ALL,
        DEID_PROVIDE: Scope.ALL,  # 仮名加工情報 only on R-41-4 grounds, 匿名加工情報 with the R-43-4 statement
        DEID_DATASETS: Scope.ALL,
    },
    # Analysts see customers only through pseudonymised / anonymised datasets; the keys stay with the officer.
    Role.ANALYST: {
        DEID_PSEUDONYMISE: Scope.ALL,
        DEID_ANONYMISE: Scope.ALL,
        DEID_RISK: Scope.ALL,
        DEID_DATASETS: Scope.ALL,
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
