"""Tables of the lifecycle slice (issue 21). Ids, codes, counts and dates: no personal value.

- ``lifecycle_retention_rules``: how long data serving a purpose (``*`` any) of a category (``*`` the whole
  person) is kept, counted from the end of the relationship or the last activity (R-22-1).
- ``lifecycle_legal_holds``: the privacy officer stops the disposal of one person's data.
- ``lifecycle_disposals``: the disposal record (廃棄記録): what, how many, when, by whom, how — never the values.
- ``lifecycle_handovers``: a departing or reassigned rep's customers moved to a successor.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime


class RetentionRule(Base):
    __tablename__ = "lifecycle_retention_rules"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    purpose_code: Mapped[str] = mapped_column(String(64))  # "*" = any purpose
    category: Mapped[str] = mapped_column(String(32))  # "*" = all of the person's data
    period_days: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(16))  # relationship_end / last_activity
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    retired_by: Mapped[str | None] = mapped_column(String(80), nullable=True)


class LegalHold(Base):
    __tablename__ = "lifecycle_legal_holds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    reason_code: Mapped[str] = mapped_column(String(32))  # litigation / investigation / regulator / other
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    set_by: Mapped[str] = mapped_column(String(80))
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(80), nullable=True)


class DisposalRecord(Base):
    __tablename__ = "lifecycle_disposals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ran_by: Mapped[str] = mapped_column(String(80))
    trigger: Mapped[str] = mapped_column(String(16))  # manual / scheduled
    method: Mapped[str] = mapped_column(String(32))  # crypto_shred / category_delete
    persons: Mapped[int] = mapped_column(Integer)
    counts: Mapped[str] = mapped_column(Text)  # JSON: source or category -> rows
    held: Mapped[str] = mapped_column(Text)  # JSON: hold code -> persons
    rules: Mapped[str] = mapped_column(Text)  # JSON: retention rule id -> persons
    plan_sha256: Mapped[str] = mapped_column(String(64))
    job_run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class Handover(Base):
    __tablename__ = "lifecycle_handovers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    from_user: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), index=True)
    to_user: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), index=True)
    customers: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))  # departure / reassignment
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    by: Mapped[str] = mapped_column(String(80))
    campaign_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class HandoverCustomer(Base):
    """Which customers a handover moved (ids): the successor's greeting is sent to these, if they still own them."""

    __tablename__ = "lifecycle_handover_customers"

    handover_id: Mapped[str] = mapped_column(
        ForeignKey("lifecycle_handovers.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True, index=True)
