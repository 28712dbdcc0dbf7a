from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime


class ConsentEvent(Base):
    """One line of the ledger. Rows are only ever inserted (no UPDATE / DELETE in the service)."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_subject", "customer_id", "kind", "target", "seq"),)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # purpose / channel / sensitive
    target: Mapped[str] = mapped_column(String(64))  # purpose code, channel name, or "*" for sensitive
    action: Mapped[str] = mapped_column(
        String(16)
    )  # granted / withdrawn (purpose, sensitive); opt_out / opt_in (channel)
    method: Mapped[str] = mapped_column(String(32))  # checkbox / button / email / oral / paper / import
    notice_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    evidence: Mapped[str | None] = mapped_column(String(200), nullable=True)  # a reference, not personal data
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(80))
    # The legal guardian (法定代理人) who consented for a child, by relationship: parent / guardian (R-R8-4).
    guardian: Mapped[str | None] = mapped_column(String(16), nullable=True)
