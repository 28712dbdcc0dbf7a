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
    CHANNELS,
    OPT_IN_CHANNELS,
    Category,
    Decision,
    PurposeFacts,
    Resource,
    blocked_channels,
    decide,
    grant_refusal,
    require,
    row_scope,
    training_refusal,
)

__all__ = [
    "CHANNELS",
    "OPT_IN_CHANNELS",
    "Action",
    "ActionSpec",
    "Category",
    "Decision",
    "PurposeFacts",
    "Resource",
    "Scope",
    "blocked_channels",
    "decide",
    "grant_refusal",
    "grant_table",
    "register_actions",
    "register_grants",
    "registered_actions",
    "require",
    "row_scope",
    "training_refusal",
]
