"""The scheduler's record (issue 21): one row per job per scheduled slot.

The unique (job, slot) key is how several workers agree: each inserts the row before running the job, and the
one whose insert fails leaves it to the other. ``result`` holds counts (JSON), ``error`` an error code: never a
personal value.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "slot"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job: Mapped[str] = mapped_column(String(64), index=True)
    slot: Mapped[str] = mapped_column(String(32))  # the scheduled fire time, UTC, ISO 8601 to the second
    worker: Mapped[str] = mapped_column(String(80))  # host:pid
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # running / succeeded / failed
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(String(64), nullable=True)
