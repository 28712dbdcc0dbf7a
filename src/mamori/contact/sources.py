"""The contact slice's subject data source "contact": the campaign messages sent to a person (issue 20).

Each row says which campaign, when, and what became of the message (sent, failed, bounced, unsubscribed) and, for a
measured campaign (brief T), whether the message was tracked and when it was first opened / clicked and how many
clicks — ids, codes and dates, no address and no body. Part of the person's disclosure (R-33-1 / G-15: what was done with
their data); not correctable in place; deleted at erasure (the history of advertising sent to a person is
about that person, and nothing needs it once they are gone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Delete, Select, delete, select

from mamori.contact.models import Campaign, CampaignSend
from mamori.kernel import registry
from mamori.kernel.context import Context
from mamori.kernel.db import chunks
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.registry import Correction, Recipient, SubjectRecord

NAME = "contact"


def _sends_of(customer_id: str) -> Select[CampaignSend, str, str]:
    return (
        select(CampaignSend, Campaign.name, Campaign.purpose_code)
        .join(Campaign, Campaign.id == CampaignSend.campaign_id)
        .where(CampaignSend.customer_id == customer_id)
        .order_by(CampaignSend.queued_at)
    )


def _delete_sends_of(customer_id: str) -> Delete:
    return delete(CampaignSend).where(CampaignSend.customer_id == customer_id)


class ContactSource:
    name = NAME

    def summary(self, ctx: Context, subject_id: str) -> Mapping[str, int]:
        n = len(ctx.session.execute(_sends_of(subject_id)).all())
        return {"contact_send": n} if n else {}

    def export(self, ctx: Context, subject_id: str) -> Sequence[SubjectRecord]:
        return [
            SubjectRecord(
                NAME,
                "contact_send",
                send.id,
                {
                    "campaign": campaign_name,
                    "purpose": send_purpose,
                    "status": send.status,
                    "unsubscribed_at": send.unsubscribed_at.isoformat() if send.unsubscribed_at else None,
                    # brief T: whether opens / clicks were measured for this message, and what was recorded
                    "tracked": bool(send.tracked),
                    "opened_at": send.opened_at.isoformat() if send.opened_at else None,
                    "clicked_at": send.clicked_at.isoformat() if send.clicked_at else None,
                    "clicks": int(send.clicks or 0),
                },
                purposes=(send_purpose,),
                occurred_at=send.queued_at,
            )
            for send, campaign_name, send_purpose in ctx.session.execute(_sends_of(subject_id)).all()
        ]

    def correct(
        self, ctx: Context, subject_id: str, record_id: str, changes: Mapping[str, str | None]
    ) -> Sequence[Correction]:
        raise ValidationFailed(
            "配信の記録は訂正できません。",
            "The record of messages sent is not corrected in place.",
            code="not_correctable",
        )

    def erase(self, ctx: Context, subject_id: str) -> int:
        result = ctx.session.execute(_delete_sends_of(subject_id))
        return int(getattr(result, "rowcount", 0) or 0)

    def erase_many(self, ctx: Context, subject_ids: Sequence[str]) -> int:
        """Many people at once (retention disposal): their campaign messages, in chunks."""
        removed = 0
        for chunk in chunks(list(dict.fromkeys(subject_ids))):
            result = ctx.session.execute(
                delete(CampaignSend).where(CampaignSend.customer_id.in_(list(chunk)))
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
        return removed

    def recipients(self, ctx: Context, subject_id: str) -> Sequence[Recipient]:
        return []


def register() -> None:
    """Register the contact slice's subject source (called once by mamori.composition.register_all)."""
    registry.register_source(ContactSource())
