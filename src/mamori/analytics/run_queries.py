"""SELECTs of the analytics slice's runs and segments (ids, codes and counts; no personal value)."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from mamori.analytics.models import AnalyticsRun, AnalyticsSegment, AnalyticsSegmentMember


def runs(kind: str | None, limit: int) -> Select[AnalyticsRun]:
    stmt = select(AnalyticsRun).order_by(AnalyticsRun.created_at.desc(), AnalyticsRun.id).limit(limit)
    return stmt.where(AnalyticsRun.kind == kind) if kind else stmt


def segment_versions(name: str) -> Select[AnalyticsSegment]:
    return (
        select(AnalyticsSegment)
        .where(AnalyticsSegment.name == name)
        .order_by(AnalyticsSegment.version.desc())
    )


def latest_segments(limit: int) -> Select[AnalyticsSegment]:
    newest = (
        select(AnalyticsSegment.name, func.max(AnalyticsSegment.version).label("v"))
        .group_by(AnalyticsSegment.name)
        .subquery()
    )
    return (
        select(AnalyticsSegment)
        .join(newest, (newest.c.name == AnalyticsSegment.name) & (newest.c.v == AnalyticsSegment.version))
        .order_by(AnalyticsSegment.created_at.desc())
        .limit(limit)
    )


def member_counts(segment_ids: list[str]) -> Select[str, int]:
    """How many member rows each segment still has (erasure and disposal delete a person's rows)."""
    return (
        select(AnalyticsSegmentMember.segment_id, func.count())
        .where(AnalyticsSegmentMember.segment_id.in_(segment_ids))
        .group_by(AnalyticsSegmentMember.segment_id)
    )


def member_customers(segment_id: str) -> Select[str | None]:
    return select(AnalyticsSegmentMember.customer_id).where(
        AnalyticsSegmentMember.segment_id == segment_id, AnalyticsSegmentMember.customer_id.is_not(None)
    )
