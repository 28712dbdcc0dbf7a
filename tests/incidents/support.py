"""Helpers shared by the incident tests (issue 22): staff and customers (tests.factories), an incident. Synthetic
data only."""

from __future__ import annotations

from datetime import UTC, datetime

from mamori.incidents.schemas import IncidentIn, IncidentRead
from mamori.incidents.service import register as incidents_register
from mamori.kernel.context import Actor
from mamori.kernel.runtime import Runtime
from tests.factories import make_customer, seed_basics

__all__ = ["make_customer", "new_incident", "seed_basics"]

KNOWN_AT = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # Friday 2026-12-04 10:00 JST


def new_incident(runtime: Runtime, actor: Actor, **fields: object) -> IncidentRead:
    """Register an incident as ``actor`` (defaults: a suspected leak during remote work, known on Friday 4 Dec)."""
    data = {
        "title": "在宅勤務中に画面を第三者に見られたおそれ",
        "kind": "leak",
        "suspected": True,
        "known_at": KNOWN_AT,
        "known_by": "営業部",
        "discovered_by": "営業部の従業者（本人の申告）",
        "cause": "remote_work",
        **fields,
    }
    with runtime.transaction(actor) as ctx:
        return incidents_register.register(ctx, IncidentIn.model_validate(data))
