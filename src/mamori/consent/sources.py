"""The consent slice's subject data source "consent": the ledger as part of the person's disclosure
(R-33-1 / G-15: consents given and withdrawn). Not correctable in place, kept at erasure (ids and codes only).

``register()`` (called once by ``mamori.composition.register_all``) registers this source and the consent
ledger's purpose-state provider with the kernel registry; the rights slice iterates sources without importing
this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mamori.consent import queries
from mamori.consent.service import PURPOSE_STATES
from mamori.kernel import registry
from mamori.kernel.context import Context
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.registry import Correction, Recipient, SubjectRecord

NAME = "consent"


class ConsentSource:
    """The consent ledger as part of the person's disclosure (R-33-1 / G-15: consents given and withdrawn)."""

    name = NAME

    def summary(self, ctx: Context, subject_id: str) -> Mapping[str, int]:
        n = len(list(ctx.session.execute(queries.events(subject_id)).scalars()))
        return {"consent": n} if n else {}

    def export(self, ctx: Context, subject_id: str) -> Sequence[SubjectRecord]:
        return [
            SubjectRecord(
                "consent",
                "consent",
                str(e.seq),
                {
                    "kind": e.kind,
                    "target": e.target,
                    "action": e.action,
                    "method": e.method,
                    "notice_version": e.notice_version,
                },
                acquired_from=e.method,
                purposes=(e.target,) if e.kind == "purpose" else (),
                occurred_at=e.occurred_at,
            )
            for e in ctx.session.execute(queries.events(subject_id)).scalars()
        ]

    def correct(
        self, ctx: Context, subject_id: str, record_id: str, changes: Mapping[str, str | None]
    ) -> Sequence[Correction]:
        raise ValidationFailed(
            "同意の記録は訂正できません。同意または撤回を新たに記録してください。",
            "The consent ledger is not corrected in place; record a new grant or withdrawal.",
            code="not_correctable",
        )

    def erase(self, ctx: Context, subject_id: str) -> int:
        # Kept: the ledger holds ids, purpose codes and methods (no personal values) and is the evidence that
        # the data was used lawfully; once the person's data key is destroyed it points at a tombstone.
        return 0

    def erase_many(self, ctx: Context, subject_ids: Sequence[str]) -> int:
        """Many people at once: the ledger is kept, as for one person (see :meth:`erase`)."""
        return 0

    def recipients(self, ctx: Context, subject_id: str) -> Sequence[Recipient]:
        return []


def register() -> None:
    """Register the consent slice with the kernel registries (called once by mamori.composition.register_all)."""
    registry.register_purpose_state_provider(PURPOSE_STATES)
    registry.register_source(ConsentSource())
