"""Policy: ``decide(ctx, action, resource) -> Decision``; deny by default."""

from mamori.kernel.policy.engine import (
    Action,
    Category,
    Decision,
    PurposeFacts,
    Resource,
    Scope,
    decide,
    grant_refusal,
    require,
    row_scope,
)

__all__ = [
    "Action",
    "Category",
    "Decision",
    "PurposeFacts",
    "Resource",
    "decide",
    "grant_refusal",
    "require",
    "row_scope",
    "Scope",
]
