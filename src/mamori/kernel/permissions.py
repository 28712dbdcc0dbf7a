"""The kernel's own actions: reading the audit log, rotating keys, backing up and restoring the stores, the mail
queue.

Registered by ``mamori.composition.register_all`` (ADR 0008); call sites spell these ``Action.<CONSTANT>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

AUDIT_READ: Final = Action("audit.read")
KEYS_ROTATE: Final = Action("keys.rotate")
BACKUP: Final = Action("store.backup")  # an online copy of the data store and the audit log (docs/backup.md)
RESTORE: Final = Action("store.restore")  # put a backup back, re-applying every key destruction since
MAIL_MANAGE: Final = Action(
    "mail.manage"
)  # the e-mail queue: its status, a failed message back, a test message

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("AUDIT_READ", AUDIT_READ),
    ActionSpec("KEYS_ROTATE", KEYS_ROTATE),
    ActionSpec("BACKUP", BACKUP),
    ActionSpec("RESTORE", RESTORE),
    ActionSpec("MAIL_MANAGE", MAIL_MANAGE),
)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.ADMIN: {
        KEYS_ROTATE: Scope.ALL,
        BACKUP: Scope.ALL,
        RESTORE: Scope.ALL,
        MAIL_MANAGE: Scope.ALL,
    },
    Role.PRIVACY_OFFICER: {
        AUDIT_READ: Scope.ALL,
        MAIL_MANAGE: Scope.ALL,
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
