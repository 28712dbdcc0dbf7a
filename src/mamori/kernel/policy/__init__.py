"""Policy: ``decide(ctx, action, resource) -> Decision``; deny by default.

The engine (``engine.py``) and the registry of actions and grants (``actions.py``) are mechanisms only; every
slice declares its own actions and grants in its ``permissions.py`` (ADR 0008).
"""

from mamori.kernel.policy.actions import (
    Action,
    ActionSpec,
    Scope,
    grant_table,
    register_actions,
    register_grants,
    registered_actions,
)
from mamori.kernel.policy.engine import (
    Category,
    Decision,
    PurposeFacts,
    Resource,
    decide,
    grant_refusal,
    require,
    row_scope,
)

__all__ = [
    "Action",
    "ActionSpec",
    "Category",
    "Decision",
    "PurposeFacts",
    "Resource",
    "Scope",
    "decide",
    "grant_refusal",
    "grant_table",
    "register_actions",
    "register_grants",
    "registered_actions",
    "require",
    "row_scope",
]
