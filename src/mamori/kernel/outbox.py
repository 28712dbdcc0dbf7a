"""The audit outbox: write-audit entries committed in the business transaction, moved to the chain after commit.

The audit chain lives in its own database (DESIGN.md: read and denial entries must survive a rollback, so they
are appended on the audit log's own connection). A write entry, though, must exist *if and only if* the write
committed; so the service adds it to this table in the business transaction, and the edge appends it to the chain
right after the commit (`Runtime.drain_outbox`). An entry left here by a crash between the two is appended by the
next drain (at every start and before `audit verify`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime

OUTBOX_PENDING = "audit_outbox_pending"  # Context.memo flag: this unit of work queued write entries


class AuditOutbox(Base):
    __tablename__ = "audit_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
