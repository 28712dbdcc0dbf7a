"""Synthetic demo of retention and disposal (issue 21, R-22-1): two rules, a handful of customers whose relationship
ended long ago (some due, one under a legal hold) and two whose ended recently. Fictitious people only.

Called by ``mamori demo`` after the customers exist: ``demo_retention.seed(runtime, rng)``. Nothing is disposed of
here: ``mamori --as hoshino retention plan`` shows what a run would do.
"""

from __future__ import annotations

import random
from datetime import timedelta

from mamori.customers.service import relationship, subjects
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import Runtime
from mamori.lifecycle.retention_schemas import RuleCreate
from mamori.lifecycle.service import holds, retention


def seed(runtime: Runtime, rng: random.Random) -> dict[str, object]:
    """Idempotent: does nothing when a retention rule exists already (or there are too few customers)."""
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        if retention.list_rules(ctx, include_retired=True):
            return {}
        ids = sorted(subjects.ids_with_purpose(ctx, "contract"))
        if len(ids) < 8:
            return {}
        retention.add_rule(
            ctx,
            RuleCreate(
                purpose="*",
                category="*",
                days=5 * 365,
                basis="relationship_end",
                note="社内規程: 取引終了から5年（デモ）",
            ),
        )
        retention.add_rule(
            ctx,
            RuleCreate(
                purpose="analytics",
                category="behaviour",
                days=2 * 365,
                basis="last_activity",
                note="分析用の購買履歴は最終活動から2年（デモ）",
            ),
        )
    picked = rng.sample(ids, 6)
    now = runtime.clock.now()
    long_ago, recent = picked[:4], picked[4:]
    with runtime.transaction(SYSTEM_ACTOR, "contract") as ctx:
        for n, cid in enumerate(long_ago):
            relationship.end_relationship(ctx, cid, on=now - timedelta(days=6 * 365 + 30 * n))
        for cid in recent:
            relationship.end_relationship(ctx, cid, on=now - timedelta(days=200))
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        holds.set(ctx, long_ago[0], "litigation", "デモ: 係争中の案件")
    return {"rules": 2, "relationship_ended": len(picked), "due": len(long_ago) - 1, "legal_holds": 1}
