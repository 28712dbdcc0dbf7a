"""The analytics slice's tables (issue 24). None holds a personal value.

* ``analytics_runs`` — every analysis run: what (RFM, CLV, churn …), on which path (personal data under a profiling
  purpose, or a registered 仮名加工情報 dataset), for which purpose, with its parameters and a summary of aggregates
  (thresholds, counts per segment, model parameters and metrics). Never a per-person result.
* ``analytics_segments`` — saved segments, versioned by name: saving under an existing name adds a version. A
  segment remembers the run, the path and the rule it was cut by.
* ``analytics_segment_members`` — who is in a segment version: a customer id (personal path; usable as
  ``--segment @name`` in contact lists of the same purpose) or a pseudonym (仮名加工情報 path; never usable to
  contact anyone, R-41-5).
* ``analytics_acquisition_costs`` — what acquiring customers cost per channel or campaign and period (CAC).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime

PERSONAL = "personal"  # personal data under a purpose that states profiling (R-17-1)
PSEUDONYMISED = "pseudonymised"  # a 仮名加工情報 dataset registered by the deid slice (R-41-3, R-41-5)


class AnalyticsRun(Base):
    __tablename__ = "analytics_runs"
    __table_args__ = (Index("ix_analytics_runs_created", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # rfm / lifestage / behaviour / clv / churn
    path: Mapped[str] = mapped_column(String(16))
    purpose_code: Mapped[str] = mapped_column(String(64))
    purpose_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dataset_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the deid register's id
    params: Mapped[str] = mapped_column(Text)  # JSON: as_of, bins, horizon …
    summary: Mapped[str] = mapped_column(Text)  # JSON of aggregates only
    rows_in: Mapped[int] = mapped_column(Integer)  # input rows (purchases / activities)
    subjects: Mapped[int] = mapped_column(Integer)  # people (or pseudonyms) analysed
    left_out: Mapped[str] = mapped_column(Text, default="{}")  # JSON: people left out by reason (counts)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AnalyticsSegment(Base):
    __tablename__ = "analytics_segments"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # the run's kind
    path: Mapped[str] = mapped_column(String(16))
    purpose_code: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(ForeignKey("analytics_runs.id"))
    definition: Mapped[str] = mapped_column(Text)  # JSON: the segment codes taken and the rule / thresholds
    members: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AnalyticsSegmentMember(Base):
    __tablename__ = "analytics_segment_members"
    __table_args__ = (Index("ix_analytics_members_segment", "segment_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    segment_id: Mapped[str] = mapped_column(ForeignKey("analytics_segments.id", ondelete="CASCADE"))
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), nullable=True, index=True
    )
    pseudonym: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AcquisitionCost(Base):
    __tablename__ = "analytics_acquisition_costs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))  # a provenance channel (web_form, event …) or "campaign"
    # channel "campaign": the acquisition campaign's code, as recorded on provenance (``provenance.campaign``)
    campaign_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
