"""The provision slice's subject data source "provision": provision and receipt records are part of the person's
disclosure (R-33-3); they are not correctable and are kept until their retention ends (R-29-4).

``register()`` (called once by ``mamori.composition.register_all``) registers it with the kernel registry; the
rights slice iterates sources without importing this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mamori.kernel import registry
from mamori.kernel.auditing import record_info
from mamori.kernel.context import Context
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.registry import Correction, ReceiptFacts, Recipient, SubjectRecord
from mamori.law.rules import R_29_4, R_33_3
from mamori.provision import queries
from mamori.provision.models import Counterparty, ProvisionRecord
from mamori.provision.service import receiving
from mamori.provision.service.common import aware
from mamori.provision.service.records import to_read

CATEGORY = {"provided": "provision_record", "received": "receipt_record"}


def _disclosable(r: ProvisionRecord) -> bool:
    # R-33-3: records made voluntarily where the law required none (R-29-3 exempt) are outside the right.
    return r.exempt_code is None


NAME = "provision"


class ProvisionSource:
    name = NAME

    def summary(self, ctx: Context, subject_id: str) -> Mapping[str, int]:
        out: dict[str, int] = {}
        for r in ctx.session.execute(queries.records_of(subject_id)).scalars():
            if _disclosable(r):
                cat = CATEGORY[r.direction]
                out[cat] = out.get(cat, 0) + 1
        return out

    def export(self, ctx: Context, subject_id: str) -> Sequence[SubjectRecord]:
        out: list[SubjectRecord] = []
        for r in ctx.session.execute(queries.records_of(subject_id)).scalars():
            if not _disclosable(r):
                continue
            read = to_read(ctx, r, with_subject=r.subject_enc is not None)
            data = read.model_dump(mode="json", exclude={"customer_id"})
            out.append(
                SubjectRecord(
                    source=self.name,
                    category=CATEGORY[r.direction],
                    record_id=r.id,
                    data=data,
                    acquired_from=f"counterparty:{r.counterparty_id}" if r.counterparty_id else None,
                    purposes=(r.purpose,) if r.purpose else (),
                    occurred_at=aware(r.first_at),
                    correctable=(),
                )
            )
        return out

    def correct(
        self, ctx: Context, subject_id: str, record_id: str, changes: Mapping[str, str | None]
    ) -> Sequence[Correction]:
        raise ValidationFailed(
            "第三者提供・受領の記録は訂正できません（記録は事実として保存されます）。",
            "Provision and receipt records cannot be corrected: they record what happened.",
            rule_id=R_33_3.id,
            code="record_not_correctable",
        )

    def erase(self, ctx: Context, subject_id: str) -> int:
        """Records are kept until their retention ends (R-29-4); their identifying information is sealed under
        a system key, so they survive the erasure of the person's data key. Nothing is erased here."""
        kept = sum(1 for _ in ctx.session.execute(queries.records_of(subject_id)).scalars())
        record_info(
            ctx,
            "provision.erase.kept",
            [subject_id],
            details={"kept": kept, "rule": R_29_4.id, "reason": "retention_period"},
        )
        return 0

    def erase_many(self, ctx: Context, subject_ids: Sequence[str]) -> int:
        """Many people at once (retention disposal): their records are kept until their own retention ends
        (R-29-4), sealed under a system key, as for one person; one audit entry names them all."""
        ids = list(dict.fromkeys(subject_ids))
        if ids:
            record_info(
                ctx,
                "provision.erase.kept",
                ids,
                details={"persons": len(ids), "rule": R_29_4.id, "reason": "retention_period"},
            )
        return 0

    def recipients(self, ctx: Context, subject_id: str) -> Sequence[Recipient]:
        latest: dict[str, ProvisionRecord] = {}
        for r in ctx.session.execute(queries.records_of(subject_id)).scalars():
            if r.direction != "provided" or r.counterparty_id is None:
                continue
            prev = latest.get(r.counterparty_id)
            if prev is None or aware(r.last_at) > aware(prev.last_at):
                latest[r.counterparty_id] = r
        out: list[Recipient] = []
        for cid, r in latest.items():
            cp = ctx.session.get(Counterparty, cid)
            out.append(
                Recipient(
                    counterparty_id=cid,
                    name=cp.name if cp else r.counterparty_name,
                    kind=cp.kind if cp else "third_party",
                    country=cp.country if cp else r.counterparty_country,
                    last_provided_at=aware(r.last_at),
                )
            )
        return sorted(out, key=lambda x: x.counterparty_id)


class ReceiptIntake:
    """The receipt path (``service.receiving``) offered to customers add / import (registry.ReceiptIntake): the
    same confirm and record as ``provision receive``, in the caller's transaction."""

    def confirm(self, ctx: Context, facts: ReceiptFacts) -> str:
        return receiving.confirm(ctx, facts).name

    def record(
        self,
        ctx: Context,
        facts: ReceiptFacts,
        *,
        items: Sequence[str],
        customer_ids: Sequence[str],
        import_job_id: str | None,
        receipt_id: str,
    ) -> None:
        receiving.record(
            ctx,
            facts,
            import_job_id=import_job_id,
            items=items,
            customer_ids=customer_ids,
            receipt_id=receipt_id,
        )


RECEIPT_INTAKE = ReceiptIntake()


def register() -> None:
    """Register the provision slice with the kernel registries (called once by mamori.composition.register_all)."""
    registry.register_source(ProvisionSource())
    registry.register_receipt_intake(RECEIPT_INTAKE)  # third-party / succession data only through receipt
