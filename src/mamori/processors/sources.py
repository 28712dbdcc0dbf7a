"""The processors slice's subject data source "processors": the handovers (委託に伴う提供) that included a person.

Disclosure (R-33-1 / G-15) lists them as category "entrustment" (outsourcee, work, date, fields); recipients()
names each outsourcee (kind "outsourcee") so the rights slice can notify it after a correction or an erasure
(G-19). Handover records hold ids and field names only, so erasure keeps them as supervision evidence (R-25-1).

``register()`` (called once by ``mamori.composition.register_all``) registers this source, the grant provider
(what an outsourcee operator's running contract covers, R-25-1) and the entrustment gate (the handover checks
``provide --basis entrustment`` runs, R-25-1 / R-27-2) with the kernel registry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from mamori.kernel import registry
from mamori.kernel.context import Context
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.registry import Correction, Recipient, SubjectRecord
from mamori.law.rules import R_25_1
from mamori.processors import queries
from mamori.processors.service.access import ENTRUSTMENT_GATE, running_grant

NAME = "processors"
CATEGORY = "entrustment"


class ProcessorsSource:
    name = NAME

    def summary(self, ctx: Context, subject_id: str) -> Mapping[str, int]:
        n = len(ctx.session.execute(queries.handovers_of(subject_id)).all())
        return {CATEGORY: n} if n else {}

    def export(self, ctx: Context, subject_id: str) -> Sequence[SubjectRecord]:
        rows = list(ctx.session.execute(queries.handovers_of(subject_id)).all())
        parties = {
            c.id: c
            for c in ctx.session.execute(
                queries.counterparties(sorted({c.counterparty_id for _, c in rows}))
            ).scalars()
        }
        out: list[SubjectRecord] = []
        for h, contract in rows:
            party = parties.get(contract.counterparty_id)
            out.append(
                SubjectRecord(
                    source=NAME,
                    category=CATEGORY,
                    record_id=h.id,
                    data={
                        "outsourcee": party.name if party is not None else "",
                        "country": party.country if party is not None else None,
                        "work": contract.work,
                        "handed_at": h.handed_at.isoformat(),
                        "fields": list(h.fields),
                        "contract_id": contract.id,
                    },
                    purposes=tuple(contract.purposes),
                    occurred_at=h.handed_at,
                )
            )
        return out

    def correct(
        self, ctx: Context, subject_id: str, record_id: str, changes: Mapping[str, str | None]
    ) -> Sequence[Correction]:
        raise ValidationFailed(
            "委託先への引渡し記録は訂正できません（事実の記録であり、個人データの値を含みません）。",
            "Handover records cannot be corrected: they record a fact and hold no personal values.",
            rule_id=R_25_1.id,
            code="not_correctable",
        )

    def erase(self, ctx: Context, subject_id: str) -> int:
        # The handover log holds ids and field names only: it is kept as evidence of supervision (R-25-1).
        return 0

    def erase_many(self, ctx: Context, subject_ids: Sequence[str]) -> int:
        """Many people at once: the handover log is kept, as for one person (see :meth:`erase`)."""
        return 0

    def recipients(self, ctx: Context, subject_id: str) -> Sequence[Recipient]:
        last: dict[str, datetime] = {}
        for h, contract in ctx.session.execute(queries.handovers_of(subject_id)).all():
            prev = last.get(contract.counterparty_id)
            if prev is None or h.handed_at > prev:
                last[contract.counterparty_id] = h.handed_at
        if not last:
            return []
        parties = ctx.session.execute(queries.counterparties(sorted(last))).scalars()
        return [
            Recipient(
                counterparty_id=p.id,
                name=p.name,
                kind="outsourcee",
                country=p.country,
                last_provided_at=last[p.id],
            )
            for p in sorted(parties, key=lambda p: p.id)
        ]


def register() -> None:
    """Register the processors slice with the kernel registries (called once by mamori.composition.register_all)."""
    registry.register_grant_provider(running_grant)
    # provide --basis entrustment runs the handover checks through this gate (R-25-1, R-27-2; issue 13 P1)
    registry.register_entrustment_gate(ENTRUSTMENT_GATE)
    registry.register_source(ProcessorsSource())
