from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import Select, bindparam, func, or_, select

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


@functools.cache
def _state_rows(kinds: tuple[str, ...], extra_targets: tuple[str, ...]) -> Select[str, str, str, str, int]:
    return select(
        ConsentEvent.customer_id,
        ConsentEvent.kind,
        ConsentEvent.target,
        ConsentEvent.action,
        ConsentEvent.seq,
    ).where(
        ConsentEvent.customer_id.in_(bindparam("subject_ids", expanding=True)),
        ConsentEvent.kind.in_(list(kinds)),
        or_(ConsentEvent.target == bindparam("purpose"), ConsentEvent.target.in_(list(extra_targets))),
    )


def state_rows(kinds: Sequence[str], extra_targets: Sequence[str]) -> Select[str, str, str, str, int]:
    """The ledger lines of these kinds whose target is the bound ``purpose`` or one of ``extra_targets``, for
    the bound ``subject_ids``, as (customer id, kind, target, action, seq): the purpose-state provider's shape
    (kernel.registry.StateRow), unordered (the reader sorts by seq). Built once per process (compiled once)."""
    return _state_rows(tuple(kinds), tuple(extra_targets))


def stopped(target: str | None = None) -> Select[ConsentEvent]:
    """The newest stop-use line per (person, target) when it says "stopped", newest first (optionally for one
    target only). Ids and codes only; row scope and erasure are the service's to apply."""
    newest = (
        select(func.max(ConsentEvent.seq))
        .where(ConsentEvent.kind == "suppression")
        .group_by(ConsentEvent.customer_id, ConsentEvent.target)
    )
    if target is not None:
        newest = newest.where(ConsentEvent.target == target)
    return (
        select(ConsentEvent)
        .where(ConsentEvent.seq.in_(newest), ConsentEvent.action == "stopped")
        .order_by(ConsentEvent.seq.desc())
    )
