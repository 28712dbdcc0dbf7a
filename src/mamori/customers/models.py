"""Tables of the customers slice. Personal values are ciphertext (`*_enc`); nothing here is plaintext PII."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, non-enumerable
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True, index=True)
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    origin: Mapped[str] = mapped_column(String(8), default="JP")  # JP / EU / UK … (G-45: GDPR applies)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    kana_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    birth_date_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    gender_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    postal_code_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    occupation_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    employer_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    import_job_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    import_line: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Set when the person's data was erased at their request: the row stays as a tombstone with no personal
    # data (every *_enc is NULL and the data key is destroyed) so requests and records can still refer to it.
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Accuracy (R-22-1): when the data was last confirmed with the person (set at creation and by a confirmation).
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The end of the customer relationship: a retention rule may count its period from it (R-22-1).
    relationship_ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ContactPoint(Base):
    __tablename__ = "contact_points"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # email / phone
    label: Mapped[str | None] = mapped_column(String(32), nullable=True)  # mobile / home / work
    value_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomerAttribute(Base):
    """Extensible attributes, each tagged with a data category (identifier, contact, attribute, behaviour, 要配慮)."""

    __tablename__ = "customer_attributes"
    __table_args__ = (UniqueConstraint("customer_id", "key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    value_enc: Mapped[bytes] = mapped_column(LargeBinary)
    basis: Mapped[str | None] = mapped_column(
        String(64), nullable=True
    )  # for 要配慮: consent / exception code
    # 政令5 ground when this record is not 保有個人データ (R-16-4), e.g. "seirei5-2" for a malicious-claimer flag.
    withheld: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_customer_time", "customer_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # purchase / inquiry / call / note
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    amount_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    purpose: Mapped[str | None] = mapped_column(String(64), nullable=True)
    withheld: Mapped[str | None] = mapped_column(String(16), nullable=True)  # 政令5 ground (R-16-4)
    # The data category of the text: "sensitive" when the scanner found 要配慮 in it (R-2.3-1; masked for a purpose
    # that does not cover 要配慮 data, R-20-2), else "behaviour". NULL: written before migration 0018 (classified
    # when read).
    category: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Provenance(Base):
    """Where a customer's record came from (R-20-1, R-21-2; seed 003 「どこで番号を知ったのか」)."""

    __tablename__ = "provenance"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(16))  # direct / third_party / public / succession
    channel: Mapped[str | None] = mapped_column(
        String(32), nullable=True
    )  # web_form / counter / phone / import …
    notice_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str | None] = mapped_column(
        String(200), nullable=True
    )  # provider or public source (no PII)
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(80))
    import_job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Provider-sourced data (third_party / succession) names its receipt in the provision slice (R-30-1/R-30-2).
    receipt_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    # R-18-2: data acquired by succession may be used only for these purpose codes (comma-separated) without the
    # person's consent — the purposes that applied before the succession.
    purpose_limit: Mapped[str | None] = mapped_column(Text, nullable=True)
    # 取得の経緯 as the importer stated it (issue 19: e.g. 「2026年秋の展示会で名刺交換」); shown in disclosure.
    acquisition: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The acquisition campaign (issue 24, CAC per campaign): a code such as 「2026秋フェア」 or ``ad-2026-11``, never
    # personal data (schemas.campaign_code refuses an e-mail or a phone-like run of digits).
    campaign: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CustomerPurpose(Base):
    """The purposes notified to (or published for) this person, with the version in force then (R-21-1)."""

    __tablename__ = "customer_purposes"
    __table_args__ = (UniqueConstraint("customer_id", "purpose_code"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    purpose_code: Mapped[str] = mapped_column(String(64))
    purpose_version: Mapped[int] = mapped_column(Integer)
    # stated (明示) / notified (通知) / published (公表) / exception (ACT 21(4), R-21-3: no notice, ground below)
    method: Mapped[str] = mapped_column(String(16))
    notified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    exception_ground: Mapped[str | None] = mapped_column(String(32), nullable=True)  # R-21-3 ground code
    exception_by: Mapped[str | None] = mapped_column(String(80), nullable=True)  # who decided the exception


class BlindIndex(Base):
    """HMAC tokens for exact-match search; deleted with the person's data key on erasure."""

    __tablename__ = "blind_index"
    __table_args__ = (Index("ix_blind_index_kind_digest", "kind", "digest"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))


class ImportJob(Base):
    """A CSV import; committed batch by batch so an interrupted import resumes without duplicating rows."""

    __tablename__ = "import_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(200))
    purposes: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(16))  # running / done
    rows_total: Mapped[int] = mapped_column(Integer)
    lines_done: Mapped[int] = mapped_column(Integer, default=0)  # data lines processed (committed)
    created: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    # rows held for the privacy officer's approval (their notified purposes do not cover the import's, issue 19)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    options: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))


class ImportMapping(Base):
    """A saved column mapping (issue 19), reused by name from the CLI (``--mapping``) and the web import wizard.

    ``body`` is the mapping's JSON (customers.service.import_mapping): column names, joins, separators and value
    maps (e.g. 性別 codes, 担当営業 names → staff usernames, consent columns → purposes). It holds the file's
    headings and code values, never a customer's data."""

    __tablename__ = "import_mappings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomerExternalId(Base):
    """A customer's number in another system (顧客番号), unique per issuing system and searchable (issue 19).

    ``value_enc`` is sealed under the person's data key like every personal value; ``digest`` is the blind
    indexer's HMAC of ``system || 0x00 || normal form`` (kind ``external_id``), so a number is found and kept
    unique per system without being stored in clear. Like ``blind_index``, the table has no row-level security:
    duplicate detection must see every number, and it holds no readable value."""

    __tablename__ = "customer_external_ids"
    __table_args__ = (UniqueConstraint("system", "digest"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    system: Mapped[str] = mapped_column(String(200))  # the issuing system / list (no personal data)
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    value_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ImportPending(Base):
    """An imported row held for the privacy officer's approval instead of being written (issue 19, seed 001 case 3):
    the purposes notified to the person (a per-row column) do not cover the import's purposes.

    ``row_enc`` is the validated row (JSON) sealed under the pending row's own data key (subject id = this row's id),
    destroyed when the row is approved (written as a customer) or rejected."""

    __tablename__ = "import_pending"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(32), index=True)
    line: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    purposes: Mapped[str] = mapped_column(String(400))  # the import's purpose codes (comma-separated)
    notified: Mapped[str] = mapped_column(String(400))  # the purposes the row says were notified
    reason: Mapped[str] = mapped_column(String(64))  # a code, e.g. purpose_not_notified
    rule_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    row_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending / approved / rejected
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    customer_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # set when approved
