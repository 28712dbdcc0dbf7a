"""The deid slice's one table: the register of de-identified datasets it produced.

A row says that a file with these bytes (sha256) is 仮名加工情報 (R-41-*) or 匿名加工情報 (R-43-*), which key name
pseudonymised it, for which purpose, by whom and when. It holds no record value: column names and counts only.
The dataset guard (``deid.service.dataset_guard``) consults it before any slice takes a file in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime

PSEUDONYMISED = "pseudonymised"  # 仮名加工情報 (R-41-1)
ANONYMISED = "anonymised"  # 匿名加工情報 (R-43-1)


class DeidDataset(Base):
    __tablename__ = "deid_datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    source_name: Mapped[str] = mapped_column(String(255))
    key_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    columns: Mapped[str] = mapped_column(Text)  # comma-separated column NAMES
    rows: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
