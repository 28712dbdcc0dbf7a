"""The mail queue's tables (migration 0019): messages waiting to leave, sealed, and the periodic jobs' last runs.

No address, subject or body is ever stored in clear: ``to_enc`` / ``subject_enc`` / ``text_enc`` / ``html_enc`` are
AES-256-GCM blobs under the system key ``mail_queue`` (bound to the row id and column), erased once the message is
delivered, forgotten (an erasure) or 30 days after it finally failed (docs/mail.md). What remains is the record:
topic, ref, request and subject ids, status, attempts, times and the last error's CODE.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
STATUSES = (PENDING, SENT, FAILED)


class MailMessage(Base):
    __tablename__ = "mail_queue"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), index=True)
    ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    subject_ids: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of customer ids (ids only)
    lang: Mapped[str] = mapped_column(String(8), default="ja")
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # A worker claims a row (compare-and-set) before it sends: until lease_until no other worker touches it.
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(32), nullable=True)  # a code, never server text
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The order of the messages one transaction enqueued (they share created_at): delivered in that order.
    position: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    delivery_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # The topic's delivered / failed hook: True while it is still to run (a final outcome whose hook has not run).
    hook_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    to_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    subject_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    text_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    html_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class MailJob(Base):
    """A periodic job's last run (``register_periodic``): shared by every process, so cron and servers agree."""

    __tablename__ = "mail_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)
