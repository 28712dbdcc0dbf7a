"""The analytics slice's subject data source "analytics": the saved segments a person is a member of (issue 24).

A segment membership is the result of profiling about that person (which group an analysis put them in), so it is
part of their disclosure (R-33-1 / G-15: the segment's name, version, the kind of analysis, the purpose and when it
was cut). It is not corrected in place — a new run and a new version reflect corrected data — and it is deleted at
erasure and at retention disposal. Segments of 仮名加工情報 hold the dataset's pseudonyms, not customer ids: they
are not 保有個人データ and the rights do not apply to them (R-41-6: Art. 32–39 do not apply).
Runs themselves hold aggregates only and no one's id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Select, delete, select

from mamori.analytics.models import AnalyticsSegment, AnalyticsSegmentMember
from mamori.kernel import registry
from mamori.kernel.context import Context
from mamori.kernel.db import chunks
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.registry import Correction, Recipient, SubjectRecord

NAME = "analytics"


def _memberships(customer_id: str) -> Select[AnalyticsSegmentMember, AnalyticsSegment]:
    return (
        select(AnalyticsSegmentMember, AnalyticsSegment)
        .join(AnalyticsSegment, AnalyticsSegment.id == AnalyticsSegmentMember.segment_id)
        .where(AnalyticsSegmentMember.customer_id == customer_id)
        .order_by(AnalyticsSegment.created_at)
    )


class AnalyticsSource:
    name = NAME

    def summary(self, ctx: Context, subject_id: str) -> Mapping[str, int]:
        n = len(ctx.session.execute(_memberships(subject_id)).all())
        return {"segment": n} if n else {}

    def export(self, ctx: Context, subject_id: str) -> Sequence[SubjectRecord]:
        return [
            SubjectRecord(
                NAME,
                "segment",
                str(member.id),
                {
                    "segment": segment.name,
                    "version": segment.version,
                    "analysis": segment.kind,
                    "purpose": segment.purpose_code,
                },
                purposes=(segment.purpose_code,),
                occurred_at=segment.created_at,
            )
            for member, segment in ctx.session.execute(_memberships(subject_id)).all()
        ]

    def correct(
        self, ctx: Context, subject_id: str, record_id: str, changes: Mapping[str, str | None]
    ) -> Sequence[Correction]:
        raise ValidationFailed(
            "セグメントの所属は訂正できません（データを訂正した後の分析で新しい版が作られます）。",
            "A segment membership is not corrected in place (an analysis after the correction makes a new version).",
            code="not_correctable",
        )

    def erase(self, ctx: Context, subject_id: str) -> int:
        return self.erase_many(ctx, [subject_id])

    def erase_many(self, ctx: Context, subject_ids: Sequence[str]) -> int:
        removed = 0
        for chunk in chunks(list(dict.fromkeys(subject_ids))):
            result = ctx.session.execute(
                delete(AnalyticsSegmentMember).where(AnalyticsSegmentMember.customer_id.in_(list(chunk)))
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
        return removed

    def recipients(self, ctx: Context, subject_id: str) -> Sequence[Recipient]:
        return []


def register() -> None:
    registry.register_source(AnalyticsSource())
