from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime


class Purpose(Base):
    __tablename__ = "purposes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    current_version: Mapped[int] = mapped_column(Integer)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PurposeVersion(Base):
    """Each edit of a purpose's text is a new version; old versions stay (what was notified stays provable)."""

    __tablename__ = "purpose_versions"
    __table_args__ = (UniqueConstraint("purpose_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    purpose_id: Mapped[int] = mapped_column(ForeignKey("purposes.id"))
    version: Mapped[int] = mapped_column(Integer)
    title_ja: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    text_ja: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    categories: Mapped[str] = mapped_column(String(200))  # comma-separated data categories
    third_party: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_appi: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_gdpr: Mapped[bool] = mapped_column(Boolean, default=False)
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    # G-6: the GDPR lawful basis (Art. 6(1)); NULL = none recorded, so a GDPR subject's data is refused for it.
    lawful_basis: Mapped[str | None] = mapped_column(String(32), nullable=True)
    balancing_ref: Mapped[str | None] = mapped_column(
        String(100), nullable=True
    )  # legitimate-interest record id
    art9_condition: Mapped[str | None] = mapped_column(String(40), nullable=True)  # Art. 9(2) condition code
    art10: Mapped[bool] = mapped_column(Boolean, default=False)  # covers criminal-offence data (Art. 10)
    # Issue 20: the contact channels the purpose uses (comma-separated, from kernel.policy.CHANNELS; empty: the
    # purpose contacts nobody) and whether it is advertising (広告宣伝: e-mail / SMS need prior opt-in, TE-3).
    channels: Mapped[str] = mapped_column(String(64), default="", server_default="")
    marketing: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Issue 24: the notice says the purpose includes analysis / profiling (分析・プロファイリング, R-17-1); only such a
    # purpose lets the analytics slice analyse personal data. A change is a new version, like every other field.
    profiling: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
