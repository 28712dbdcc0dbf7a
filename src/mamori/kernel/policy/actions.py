"""The registry of actions and role grants: a mechanism, with no slice's action in it (ADR 0008).

Each slice declares its actions and what each role may do with them in its own ``permissions.py`` and
registers them from ``mamori.composition.register_all``::

    WIDGET_READ: Final = Action("widget.read")
    ACTIONS: Final = (ActionSpec("WIDGET_READ", WIDGET_READ),)
    GRANTS: Final = {Role.PRIVACY_OFFICER: {WIDGET_READ: Scope.ALL}}

    def register() -> None:
        register_actions(ACTIONS)
        register_grants(GRANTS)

Call sites spell a registered action ``Action.WIDGET_READ`` (the ``constant`` of its spec) or import the
slice's constant. Anything not registered is denied (deny by default); the system role may do every registered
action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from mamori.kernel.context import Role


class Scope(StrEnum):
    NONE = "none"
    OWN = "own"
    TEAM = "team"
    ALL = "all"
    GRANT = "grant"  # an outsourcee operator: only what the running contract covers (R-25-1)


class _Registered(type):
    """``Action.<CONSTANT>``: the action a slice registered under that constant name (typed as ``Action``)."""

    def __getattr__(cls, constant: str) -> Action:
        if constant.startswith("_"):
            raise AttributeError(constant)
        spec = _by_constant.get(constant)
        if spec is None:
            raise AttributeError(
                f"no slice registered Action.{constant}: declare it in the owning slice's permissions.py "
                "and register it from mamori.composition.register_all"
            )
        return spec.action


class Action(str, metaclass=_Registered):
    """The name of an action, e.g. ``customer.read``: what the audit log records and the grants are keyed by."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Action({str.__repr__(self)})"


@dataclass(frozen=True)
class ActionSpec:
    """What the engine needs to know about an action besides who may do it."""

    constant: str  # the ``Action.<constant>`` spelling, e.g. "CUSTOMER_READ"
    action: Action
    personal_data: bool = False  # uses personal data: needs a declared, notified purpose (R-18-1)
    writes: bool = (
        False  # changes personal data: a masked field refuses it; an outsourcee needs a write grant
    )
    sensitive: bool = (
        False  # acquires 要配慮 data: needs the person's consent or a recorded exception (R-20-2)
    )


_specs: dict[Action, ActionSpec] = {}
_by_constant: dict[str, ActionSpec] = {}
_grants: dict[Role, dict[Action, Scope]] = {}


def register_actions(specs: Iterable[ActionSpec]) -> None:
    """Add actions; registering the same spec again is a no-op, a different one under a taken name is an error."""
    specs = tuple(specs)
    for spec in specs:
        for taken in (_specs.get(spec.action), _by_constant.get(spec.constant)):
            if taken is not None and taken != spec:
                raise ValueError(f"action {spec.constant} / {spec.action} is already registered as {taken}")
    for spec in specs:
        _specs[spec.action] = spec
        _by_constant[spec.constant] = spec


def register_grants(grants: Mapping[Role, Mapping[Action, Scope]]) -> None:
    """Let ``role`` do ``action`` within ``scope``; each action must be registered, each grant given once."""
    for role, by_action in grants.items():
        for action, scope in by_action.items():
            if action not in _specs:
                raise ValueError(f"grant of unregistered action {action!r} to {role}")
            taken = _grants.get(role, {}).get(action)
            if taken is not None and taken != scope:
                raise ValueError(f"{role} already has {action} with scope {taken}, not {scope}")
    for role, by_action in grants.items():
        _grants.setdefault(role, {}).update(by_action)


def spec(action: Action) -> ActionSpec | None:
    return _specs.get(action)


def registered_actions() -> list[ActionSpec]:
    """Every registered action, in registration order."""
    return list(_specs.values())


def scope_for(role: Role, action: Action) -> Scope | None:
    """The row scope ``role`` has for ``action``, or None (denied). The system role has every registered action."""
    if action not in _specs:
        return None
    if role == Role.SYSTEM:
        return Scope.ALL
    return _grants.get(role, {}).get(action)


def grant_table() -> dict[Role, dict[Action, Scope]]:
    """Role → action → scope for every role: the full matrix (tests snapshot it)."""
    table: dict[Role, dict[Action, Scope]] = {}
    for role in Role:
        table[role] = {}
        for action in _specs:
            scope = scope_for(role, action)
            if scope is not None:
                table[role][action] = scope
    return table
