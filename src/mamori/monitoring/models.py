"""The monitoring slice's tables (issue 25). None holds a customer's personal value.

* ``monitoring_settings`` — what the privacy officer set: each signal's threshold, severity and switch
  (``signal.<code>``), working hours, the access-review interval and the unused-account limit. A key absent here
  takes the default in :mod:`mamori.monitoring.signals`.
* ``monitoring_daily`` — one row per audit actor and JST day: reads, people read, denials, exports, off-hours
  and 要配慮 reads, and (``detail``) the networks used as keyed tags, denials per hour, searches outside the book. The baseline each signal compares a day with (the
  person's own 30-day median, their role's when they have too little history).
* ``monitoring_state`` — how far the audit log has been evaluated (the last sequence number): the next run reads
  only newer entries.
* ``monitoring_alerts`` — one alert per signal, actor and JST day (``fingerprint``): what was seen against what
  threshold and baseline, the audit entries behind it (sequence numbers and a count), and how it was handled
  (new → looking → dismissed with a reason / incident opened). A dismissed alert stays dismissed when the same
  day is evaluated again.
* ``monitoring_alert_events`` — every action on an alert (raised, updated, looked at, dismissed, incident, mailed).
* ``access_reviews`` / ``access_review_lines`` — アクセス権の定期見直し: every account with its role, its tokens'
  purposes, last sign-in, training and pledge, the customers it owns and flags; each line confirmed or changed by
  the reviewer; once closed, the record is sealed by a SHA-256 digest that the audit log also keeps.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime

# Alert states (UI.md glossary: 新規 / 確認中 / 対応不要 / 事案登録済み).
NEW = "new"
LOOKING = "looking"
DISMISSED = "dismissed"
INCIDENT = "incident"
STATUSES = (NEW, LOOKING, DISMISSED, INCIDENT)
OPEN_STATUSES = (NEW, LOOKING)

SEVERITIES = ("low", "medium", "high")

# Access-review states and line decisions.
REVIEW_OPEN = "open"
REVIEW_CLOSED = "closed"
CONFIRM = "confirm"
CHANGE = "change"


class MonitoringSetting(Base):
    __tablename__ = "monitoring_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # canonical JSON
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MonitoringDaily(Base):
    __tablename__ = "monitoring_daily"

    actor: Mapped[str] = mapped_column(String(80), primary_key=True)  # the audit label (staff:<id>)
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # JST
    role: Mapped[str] = mapped_column(String(32))
    entries: Mapped[int] = mapped_column(Integer, default=0)
    reads: Mapped[int] = mapped_column(Integer, default=0)  # people read (allowed read entries' subjects)
    denials: Mapped[int] = mapped_column(Integer, default=0)
    exports: Mapped[int] = mapped_column(Integer, default=0)  # people in exports, handovers, provision files
    off_hours: Mapped[int] = mapped_column(Integer, default=0)  # people read outside working hours
    sensitive: Mapped[int] = mapped_column(Integer, default=0)  # read entries naming 要配慮 fields
    # JSON of codes and counts: {"nets": {tag: reads}, "deny_hours": {"21": n}, "out_of_book": n, "dead": n,
    # "export_max": n} — network tags are keyed digests, never an address
    detail: Mapped[str] = mapped_column(Text, default="{}")
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class MonitoringState(Base):
    __tablename__ = "monitoring_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    evaluated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class MonitoringAlert(Base):
    __tablename__ = "monitoring_alerts"
    __table_args__ = (
        Index("ix_monitoring_alerts_status", "status", "created_at"),
        Index("ix_monitoring_alerts_day", "day"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)  # ALT-0001
    fingerprint: Mapped[str] = mapped_column(String(200), unique=True)  # signal|actor|day
    signal: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(80))  # the audit label of the person the alert is about
    actor_role: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)  # JST
    first_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)
    observed: Mapped[float] = mapped_column(Float)  # what was seen (people read, denials, …)
    threshold: Mapped[float] = mapped_column(Float)  # the threshold in force when raised
    baseline: Mapped[float | None] = mapped_column(Float, nullable=True)  # the person's (or role's) usual
    baseline_kind: Mapped[str | None] = mapped_column(String(8), nullable=True)  # person / role
    entries_total: Mapped[int] = mapped_column(Integer)  # audit entries behind the alert
    entry_seqs: Mapped[str] = mapped_column(Text)  # JSON list of audit sequence numbers (capped)
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON of codes and counts (hours, networks …)
    status: Mapped[str] = mapped_column(String(16), default=NEW)
    dismiss_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dismiss_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    incident_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    handled_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    mailed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MonitoringAlertEvent(Base):
    __tablename__ = "monitoring_alert_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    alert_id: Mapped[str] = mapped_column(ForeignKey("monitoring_alerts.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    by: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(16))  # raised / updated / look / dismiss / incident / mailed
    detail: Mapped[str | None] = mapped_column(String(64), nullable=True)  # a code (reason, incident ref)


class AccessReview(Base):
    __tablename__ = "access_reviews"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ref: Mapped[str] = mapped_column(
        String(32), unique=True
    )  # AR-2026-Q4 (-2 when a period is reviewed again)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    unused_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8), default=REVIEW_OPEN)
    started_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # SHA-256 of the sealed record


class AccessReviewLine(Base):
    __tablename__ = "access_review_lines"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    review_id: Mapped[str] = mapped_column(ForeignKey("access_reviews.id"), index=True)
    staff_id: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # person / service
    active: Mapped[bool] = mapped_column(Boolean)
    token_purposes: Mapped[str] = mapped_column(Text)  # comma-separated purpose codes of the live tokens
    tokens: Mapped[int] = mapped_column(Integer)
    last_sign_in: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    trained: Mapped[bool] = mapped_column(Boolean)
    pledged: Mapped[bool] = mapped_column(Boolean)
    owned_customers: Mapped[int] = mapped_column(Integer)
    flags: Mapped[str] = mapped_column(String(200))  # comma-separated codes: unused, untrained, no_pledge …
    decision: Mapped[str | None] = mapped_column(String(8), nullable=True)  # confirm / change
    change: Mapped[str | None] = mapped_column(
        String(64), nullable=True
    )  # disable / role:<r> / revoke_tokens
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
