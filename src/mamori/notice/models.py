"""The published notice's versions: one row per published version, never changed or deleted (R-32-1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime


class PublishedNotice(Base):
    """One published version of the notice. ``content`` is the structured notice (sections in Japanese and
    English) as canonical JSON; it holds the operator's public facts and the registries' wording, never a
    customer's data. ``sha256`` is the digest of ``content``: a new version is stored only when it differs."""

    __tablename__ = "published_notices"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_by: Mapped[str] = mapped_column(String(80))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
