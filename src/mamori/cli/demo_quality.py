"""The demo's confirmation dates (issue 21, R-22-1): the demo customers' ``confirmed_at`` spread over the last three
years, so ``mamori quality report`` and ``/quality`` show a staleness part below 1 and about two thirds of the
customers due for confirmation (not confirmed within 365 days).

Called from ``mamori.cli.demo.generate`` after the customers exist (``demo_quality.spread(runtime, rng)``);
deterministic for a seed. Writes dates only (no personal value is read).
"""

from __future__ import annotations

import random
from datetime import timedelta

from mamori.customers.service import accuracy
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import Runtime

YEARS = 3
PERIOD_DAYS = 365  # as customers.schemas.CONFIRMATION_PERIOD_DAYS


def spread(runtime: Runtime, rng: random.Random, *, years: int = YEARS) -> dict[str, int]:
    """Give every live customer a confirmation date uniformly within the last ``years`` years; returns the counts
    (customers, confirmed within the period, due)."""
    now = runtime.clock.now()
    span = years * 365 * 24 * 3600
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        chosen = accuracy.backdate_confirmations(
            ctx, lambda n: [now - timedelta(seconds=rng.randrange(span)) for _ in range(n)]
        )
    due = sum(1 for at in chosen.values() if now - at > timedelta(days=PERIOD_DAYS))
    return {"customers": len(chosen), "confirmed": len(chosen) - due, "due": due}
