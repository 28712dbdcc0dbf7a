"""The contact slice's records: list builds, campaigns and each campaign message. No personal value is stored
here — the addresses live sealed in the mail queue and in the customers slice; these tables hold ids, codes and
counts (issue 20)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime


class ContactListBuild(Base):
    """One build of a call or mailing list: for which purpose (and the version in force), which channel and
    segment, which fields it held, how many people were included and, by reason, left out (R-18-1, R-35-1, TE-3)."""

    __tablename__ = "contact_list_builds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    purpose_code: Mapped[str] = mapped_column(String(64))
    purpose_version: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    segment: Mapped[str | None] = mapped_column(
        String(400), nullable=True
    )  # the filter as given (codes only)
    fields: Mapped[str] = mapped_column(String(200))  # comma-separated column names of the output
    included: Mapped[int] = mapped_column(Integer)
    excluded: Mapped[str] = mapped_column(Text)  # JSON: reason code -> count
    built_at: Mapped[datetime] = mapped_column(UtcDateTime)
    built_by: Mapped[str] = mapped_column(String(80))
    output_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Campaign(Base):
    """An e-mail campaign: the text marketing wrote (no personal value), the purpose it is sent under."""

    __tablename__ = "contact_campaigns"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose_code: Mapped[str] = mapped_column(String(64))
    purpose_version: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16), default="email")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft / sent
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    list_build_id: Mapped[str | None] = mapped_column(ForeignKey("contact_list_builds.id"), nullable=True)
    counts: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: counts at sending
    # brief T (issue 24): measurement — none / clicks / opens_clicks (only under a purpose covering behaviour, R-18-1)
    tracking: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    links: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: the body's http(s) links, in order


class CampaignSend(Base):
    """One campaign message to one person: its state and the digest of its unsubscribe token — never the
    address, never the body (TE-3: an unsubscribe is honoured at once through the consent ledger)."""

    __tablename__ = "contact_sends"
    __table_args__ = (Index("ix_contact_sends_campaign", "campaign_id", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("contact_campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    mail_message_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # queued / sent / failed / bounced / unsubscribed
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)  # an error code, never a value
    token_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True, unique=True)
    queued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # brief T: measurement of a tracked campaign. ``tracked`` is false for an untracked campaign and for a person
    # under the GDPR (ePrivacy: no tracking without consent). The tracking token is a second random token (not the
    # unsubscribe one): only its sha256 is stored; it can record an open or a click and nothing else.
    tracked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    track_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True, unique=True)
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    clicked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    clicks: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
