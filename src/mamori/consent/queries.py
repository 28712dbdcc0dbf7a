from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select

from mamori.consent.models import ConsentEvent


def events(customer_id: str) -> Select[ConsentEvent]:
    return select(ConsentEvent).where(ConsentEvent.customer_id == customer_id).order_by(ConsentEvent.seq)


def latest_for(ids: Sequence[str], kinds: Sequence[str], targets: Sequence[str]) -> Select[ConsentEvent]:
    """Ledger lines relevant to a decision, oldest first (the last one per key wins)."""
    return (
        select(ConsentEvent)
        .where(
            ConsentEvent.customer_id.in_(list(ids)),
            ConsentEvent.kind.in_(list(kinds)),
            ConsentEvent.target.in_(list(targets)),
        )
        .order_by(ConsentEvent.seq)
    )
