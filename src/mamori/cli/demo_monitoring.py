"""Synthetic demo of the audit log's monitoring (issue 25): a past month of the demo staff's ordinary work in the
audit log, with the four behaviours of the issue planted in its last week, evaluated once — so the privacy officer's
alert queue (/monitoring) has something to show on the first start. Fictitious activity only.

- sato reads 400 customers one evening (閲覧件数の急増, 業務時間外の閲覧);
- suzuki is refused 15 times in 20 minutes trying other reps' customers (拒否の連続, 担当外の顧客の検索);
- ito exports a contact list of 800 entries at 02:00 (大量の持出し);
- watanabe, who left (a disabled account), still has an API token in use (無効化したアカウントの利用).

The entries are written through the audit writer (chained and signed like every other entry), back-dated by their
``at``; they name the demo's real customer ids (no value) and carry ``"demo": true`` in their details. Called by
``mamori demo`` after the customers exist: ``demo_monitoring.seed(runtime, rng)``. Idempotent (nothing when an
alert exists already).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from mamori.customers.service import subjects
from mamori.kernel.clock import today_jst
from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.http.deps import network_tag
from mamori.kernel.runtime import Runtime
from mamori.monitoring import simulate
from mamori.monitoring.models import MonitoringAlert
from mamori.monitoring.service import evaluate
from mamori.staff import queries as staff_queries
from mamori.staff import service as staff_service
from mamori.staff.schemas import StaffCreate

LEAVER = "watanabe"
USUAL = {"sales": 35, "support": 50, "analyst": 12, "privacy_officer": 8}


def seed(runtime: Runtime, rng: random.Random) -> dict[str, object]:
    """A month of activity and one evaluation; counts of alerts by signal."""
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        if ctx.session.execute(select(MonitoringAlert.id).limit(1)).first() is not None:
            return {}
        pool = sorted(subjects.ids_with_purpose(ctx, "contract"))
        if len(pool) < 20:
            return {}
        if ctx.session.execute(staff_queries.by_username(LEAVER)).scalar_one_or_none() is None:
            staff_service.add(
                ctx,
                StaffCreate(username=LEAVER, display_name="渡辺 隆（退職）", role=Role.SALES, team="east"),
            )
            staff_service.disable(ctx, LEAVER)
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        labels = {
            u: (staff_service.actor_for(ctx, u).label, staff_service.actor_for(ctx, u).role.value)
            for u in ("sato", "suzuki", "takahashi", "ito", "hoshino")
        }
        gone = ctx.session.execute(staff_queries.by_username(LEAVER)).scalar_one()
        labels[LEAVER] = (f"staff:{gone.id}", "sales")
    office = network_tag(runtime, "192.0.2.10") or "n000000000000"
    people = [
        simulate.Person(labels[u][0], labels[u][1], (office,), USUAL[labels[u][1]])
        for u in ("sato", "suzuki", "takahashi", "ito", "hoshino")
    ]
    start = today_jst(runtime.clock) - timedelta(days=31)
    entries = list(simulate.month(rng, people, start, 30, pool=pool))
    leaver = simulate.Person(labels[LEAVER][0], "sales", (office,), 0)
    _planted, extra = simulate.plant(rng, people, start, 30, pool=pool, leaver=leaver)
    marked = [
        replace(e, details={**dict(e.details), "demo": True})
        for e in sorted(entries + extra, key=lambda e: e.at or runtime.clock.now())
    ]
    for i in range(0, len(marked), 2000):
        runtime.audit.append(marked[i : i + 2000])
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        result = evaluate.run(ctx)
        counts: dict[str, int] = {}
        for signal in ctx.session.execute(select(MonitoringAlert.signal)).scalars():
            counts[signal] = counts.get(signal, 0) + 1
    return {"entries": len(marked), "raised": result.raised, "by_signal": counts}
