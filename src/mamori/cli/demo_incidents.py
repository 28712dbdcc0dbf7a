"""Synthetic demo of leak incidents (issue 22): two fictitious incidents so the board, the clock and the report
have something to show. Fictitious people only.

- INC-0001: a sales rep's laptop screen may have been seen during remote work (seed 001 case 5): nine of the rep's
  customers, names, kana, phones and addresses in scope; no trigger of R-26-1 applies (no 要配慮, nothing
  financial, no wrongful purpose, 9 people), so nothing is due to the PPC — the board says so.
- INC-0002: a misconfigured shared folder exposed a list of e-mail addresses: the count is not known yet, at most
  1,200 people (R-26-1 trigger (4), counted from the maximum); known six days ago, so the 速報 target (day 3–5) has
  passed and the board shows it in red; a 速報 draft exists.

Called by ``mamori demo`` after the customers exist: ``demo_incidents.seed(runtime, rng)``. Idempotent.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from mamori.customers.service import subjects
from mamori.incidents.models import Incident
from mamori.incidents.schemas import IncidentIn
from mamori.incidents.service import register, report, scope
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import Runtime


def seed(runtime: Runtime, rng: random.Random) -> dict[str, object]:
    """Two incidents with their scope and one 速報 draft; nothing when an incident exists already."""
    now = runtime.clock.now()
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        if ctx.session.execute(select(Incident.id).limit(1)).first() is not None:
            return {}
        ids = sorted(subjects.ids_with_purpose(ctx, "contract"))
        if len(ids) < 9:
            return {}
        first = register.register(
            ctx,
            IncidentIn(
                title="在宅勤務中にノートPCの画面を第三者に見られたおそれ",
                kind="leak",
                suspected=True,
                occurred_at=now - timedelta(days=2, hours=5),
                known_at=now - timedelta(days=2),
                known_by="営業部",
                discovered_by="営業部の従業者（本人の申告）",
                cause="remote_work",
                cause_detail="自宅近くのカフェで顧客一覧と顧客詳細を表示していた際、背後から画面を見られた可能性がある。",
            ),
        )
        scope.from_ids(ctx, first.id, rng.sample(ids, 9), ["name", "kana", "phones", "address"])
        second = register.register(
            ctx,
            IncidentIn(
                title="共有フォルダの公開設定の誤りによるメールアドレス一覧の閲覧可能状態",
                kind="leak",
                suspected=True,
                occurred_at=now - timedelta(days=9),
                known_at=now - timedelta(days=6),
                known_by="情報システム部",
                discovered_by="情報システム部（定期点検）",
                cause="misconfiguration",
                cause_detail="メール配信用の宛先一覧を置いた共有フォルダが、リンクを知る者なら誰でも閲覧できる設定になっていた。",
            ),
        )
        scope.estimate(ctx, second.id, 1200, ["emails"])
        report.draft(ctx, second.id, "prelim")
    return {"incidents": 2}
