"""Tables of the rights slice: requests from the person, the identifiers that verify them, and the handling log.

Nothing here is plaintext personal data. A claimed email or phone is kept as a keyed hash (HMAC under a system
key) and, only while the request is open, as ciphertext under the request's own data key (keystore subject
``rights_request:<id>``, to send the one-time code); the ciphertext is removed and the key destroyed when the
request closes or a person it reached is erased, and an erasure also blanks the keyed hashes of the person's
identifiers. The event log is append-only and outlives an erasure as evidence without the data (ids, kinds,
counts, field names and rule ids only).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime


class RightsRequest(Base):
    __tablename__ = "rights_requests"
    __table_args__ = (Index("ix_rights_requests_open_due", "status", "due_on"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, non-enumerable
    # 受付番号 read out on the phone and printed on every letter: R-<year of receipt, JST>-<6-digit sequence>
    receipt_no: Mapped[str] = mapped_column(String(16), unique=True)
    lang: Mapped[str] = mapped_column(String(2), default="ja", server_default="ja")  # the person's language
    kind: Mapped[str] = mapped_column(String(24))  # see schemas.KINDS
    regime: Mapped[str] = mapped_column(String(8))  # appi / gdpr
    regime_source: Mapped[str] = mapped_column(String(8))  # chosen (at intake) / origin (EU/UK) / default
    channel: Mapped[str] = mapped_column(String(16))  # web / phone / letter / counter / email
    status: Mapped[str] = mapped_column(String(16))  # received / verified / closed (answered and delivered)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # fulfilled / partial / refused
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_on: Mapped[date] = mapped_column(Date)
    extended_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    extension_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)  # complexity / volume
    extension_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    agent_kind: Mapped[str | None] = mapped_column(String(24), nullable=True)  # R-37-1
    agent_document: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the document type checked
    categories: Mapped[str | None] = mapped_column(String(400), nullable=True)  # narrowed scope; NULL = all
    purpose: Mapped[str | None] = mapped_column(String(64), nullable=True)  # stop-use of one purpose
    stop_scope: Mapped[str | None] = mapped_column(String(16), nullable=True)  # purpose / all / provision
    fee_yen: Mapped[int | None] = mapped_column(Integer, nullable=True)  # R-38-1
    refusal_ground: Mapped[str | None] = mapped_column(String(32), nullable=True)
    refused_parts: Mapped[str | None] = mapped_column(String(400), nullable=True)  # source:category=ground,…
    # The concrete reason for a refusal or a partial refusal (法第36条) and the alternative measure taken instead
    # of stopping use (法第35条 ただし書): sealed under the system key "rights_reasons" (sealing.seal_reason).
    refusal_explanation_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    alternative_measure_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    withheld_count: Mapped[int] = mapped_column(Integer, default=0)  # 政令5 records left out (R-16-4)
    token_hash: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # the person's access token
    # The published notice's version shown before a web request was submitted (R-21-2); NULL for staff intake.
    notice_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The answer's delivery (issue 18): NULL until answered; then sending (the answer e-mail is queued) → delivered
    # (the request closes at the delivery time), undelivered (the mail finally failed: resend or post), posting
    # (no e-mail, or a package handed over by staff: the letter is posted and the privacy officer records it) →
    # posted. The request stays open (status) until delivered or posted.
    answer_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    answer_message_id: Mapped[str | None] = mapped_column(
        String(32), nullable=True
    )  # kernel.mail's opaque id
    answered_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, nullable=True
    )  # the decision; download window
    # The answer e-mail as sent (subject, text, HTML), sealed under the request's own key while it is not yet
    # delivered, for a resend to the person's current address; dropped when the request closes.
    answer_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class RightsIdentifier(Base):
    """Something the requester claims identifies them, and whether (and how) it was verified (R-37-1)."""

    __tablename__ = "rights_identifiers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("rights_requests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # email / phone / customer
    # HMAC of the normalised value (system key); empty after the person's erasure (it would confirm a guess)
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    value_enc: Mapped[bytes | None] = mapped_column(
        LargeBinary, nullable=True
    )  # the request's data key; NULL when closed
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    method: Mapped[str | None] = mapped_column(
        String(16), nullable=True
    )  # email_code / callback / id_document
    document: Mapped[str | None] = mapped_column(String(32), nullable=True)  # ID document type checked
    checked_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    code_hash: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RightsSubject(Base):
    """A customer the request covers, and the verified identifier that reached them."""

    __tablename__ = "rights_subjects"
    __table_args__ = (Index("ix_rights_subjects_request", "request_id", "customer_id", unique=True),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    request_id: Mapped[str] = mapped_column(ForeignKey("rights_requests.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(String(32), index=True)
    identifier_id: Mapped[str] = mapped_column(ForeignKey("rights_identifiers.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RightsEvent(Base):
    """The handling log: who did what, when, with which outcome. Rows are only ever inserted."""

    __tablename__ = "rights_events"
    __table_args__ = (Index("ix_rights_events_request", "request_id", "seq"),)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    request_id: Mapped[str] = mapped_column(ForeignKey("rights_requests.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    rule_ids: Mapped[str] = mapped_column(String(120), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON: ids, counts, field names, grounds


class RightsAttempt(Base):
    """Throttling of the public endpoints: one row per attempt under a keyed hash of the IP or identifier."""

    __tablename__ = "rights_attempts"
    __table_args__ = (Index("ix_rights_attempts_key_at", "key_digest", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    key_digest: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
