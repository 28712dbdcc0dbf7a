"""Tables of the provision slice: counterparties, provision consents, provisions and their records, receipts,
joint use, opt-out filings, personally referable information confirmations and relayed messages.

Organisation facts (a counterparty's name, address, representative) are not personal data and are plain columns.
Personal values are ciphertext: relayed messages under the person's data key; the identifying information of a
provision / receipt record under a system key, because the record must outlive the person's erasure (R-29-4).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
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

_SEQ = BigInteger().with_variant(Integer, "sqlite")


class Counterparty(Base):
    """A recipient or provider of personal data, typed (R-27-1, R-27-2): third_party / outsourcee /
    joint_user / succession. Foreign recipients carry a 基準適合体制 (R-28-1 (b), R-28-3) or info sheets
    (R-28-2, table ``counterparty_info_sheets``)."""

    __tablename__ = "counterparties"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    representative: Mapped[str] = mapped_column(String(200))
    # The counterparty's own telephone number: kept, not redacted, in free text (issue 23, ``mamori text``).
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    country: Mapped[str] = mapped_column(String(2), default="JP")
    # R-29-3 (2): a state organ / local government / 独立行政法人等 (ACT 16(2)) — provision needs no record.
    public_body: Mapped[bool] = mapped_column(Boolean, default=False)
    # R-28-1 (b): 基準適合体制 — "contract" (contract / memorandum / group rules, 規則16(1)) or "cbpr" (規則16(2)).
    system_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    system_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    system_reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    system_review_due: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # R-28-3
    system_stopped: Mapped[bool] = mapped_column(
        Boolean, default=False
    )  # R-28-3: compliance became difficult
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CounterpartyInfoSheet(Base):
    """R-28-2: the information given to the person before asking consent to foreign provision. Versioned:
    a consent is valid only with the sheet version current when the data goes out."""

    __tablename__ = "counterparty_info_sheets"
    __table_args__ = (UniqueConstraint("counterparty_id", "version"),)

    id: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    counterparty_id: Mapped[str] = mapped_column(ForeignKey("counterparties.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    country: Mapped[str] = mapped_column(String(2))
    protection_system: Mapped[str] = mapped_column(Text)  # the country's data-protection system
    recipient_measures: Mapped[str] = mapped_column(Text)  # the recipient's protective measures
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))


class ProvisionConsent(Base):
    """The person's consent to provision to one counterparty for one purpose (R-27-1; foreign: R-28-1/2)."""

    __tablename__ = "provision_consents"
    __table_args__ = (Index("ix_provision_consents_subject", "customer_id", "counterparty_id", "purpose"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    counterparty_id: Mapped[str] = mapped_column(ForeignKey("counterparties.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str | None] = mapped_column(String(200), nullable=True)  # a reference, never a value
    foreign: Mapped[bool] = mapped_column(Boolean, default=False)
    sheet_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # R-28-2 sheet shown
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(80))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(80), nullable=True)


class JointUseDeclaration(Base):
    """R-27-2 (c): the five items notified before joint use; ``version`` counts notified revisions."""

    __tablename__ = "joint_use_declarations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    items: Mapped[str] = mapped_column(Text)  # comma-separated field names
    member_ids: Mapped[str] = mapped_column(Text)  # comma-separated counterparty ids (scope of joint users)
    users_scope: Mapped[str] = mapped_column(Text)  # the scope as notified, in words
    purposes: Mapped[str] = mapped_column(Text)  # comma-separated purpose codes
    responsible_name: Mapped[str] = mapped_column(String(200))
    responsible_address: Mapped[str] = mapped_column(String(300))
    responsible_representative: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    notified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))


class JointUseChange(Base):
    """R-27-3: every change to a declaration, with its notice and effective dates."""

    __tablename__ = "joint_use_changes"

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("joint_use_declarations.id"), index=True)
    item: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str] = mapped_column(Text)
    new_value: Mapped[str] = mapped_column(Text)
    notified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime)
    consent_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(80))


class OptOutFiling(Base):
    """R-27-4: an opt-out provision filed with the PPC (届出), published, notified, with an objection period."""

    __tablename__ = "opt_out_filings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    counterparty_id: Mapped[str | None] = mapped_column(ForeignKey("counterparties.id"), nullable=True)
    purpose: Mapped[str] = mapped_column(String(64))
    items: Mapped[str] = mapped_column(Text)  # comma-separated field names
    acquisition: Mapped[str] = mapped_column(Text)  # acquisition method and source
    provision_method: Mapped[str] = mapped_column(Text)
    request_method: Mapped[str] = mapped_column(Text)  # how stop requests are accepted
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime)  # 届出
    ppc_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ppc_published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    notified_at: Mapped[datetime] = mapped_column(UtcDateTime)  # notice / easily knowable
    objection_days: Mapped[int] = mapped_column(Integer)
    start_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))


class OptOutChange(Base):
    """R-27-6: a change to an opt-out filing, with when it was notified, filed and takes effect."""

    __tablename__ = "opt_out_changes"

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    filing_id: Mapped[str] = mapped_column(ForeignKey("opt_out_filings.id"), index=True)
    item: Mapped[str] = mapped_column(String(32))
    new_value: Mapped[str] = mapped_column(Text)
    notified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(80))


class Provision(Base):
    """One act of providing data (an export): who, to whom, why, on which legal basis, which fields."""

    __tablename__ = "provisions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    counterparty_id: Mapped[str] = mapped_column(ForeignKey("counterparties.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(64))
    basis: Mapped[str] = mapped_column(
        String(16)
    )  # consent / exception / opt_out / joint_use / entrustment …
    exception_code: Mapped[str | None] = mapped_column(String(16), nullable=True)  # 27(1) ①-④
    exception_reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # system key
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    opt_out_filing_id: Mapped[str | None] = mapped_column(ForeignKey("opt_out_filings.id"), nullable=True)
    joint_use_id: Mapped[str | None] = mapped_column(ForeignKey("joint_use_declarations.id"), nullable=True)
    fields: Mapped[str] = mapped_column(Text)
    out_format: Mapped[str] = mapped_column(String(8))
    person_count: Mapped[int] = mapped_column(Integer)
    refused_count: Mapped[int] = mapped_column(Integer, default=0)
    provided_at: Mapped[datetime] = mapped_column(UtcDateTime)
    provided_by: Mapped[str] = mapped_column(String(80))


class Receipt(Base):
    """R-30-1 / R-30-2: one receipt of personal data from a provider, with the confirmation made."""

    __tablename__ = "provision_receipts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    counterparty_id: Mapped[str] = mapped_column(ForeignKey("counterparties.id"), index=True)
    # opt_out / consent / referable / non_operator / succession (事業承継, R-18-2)
    variant: Mapped[str] = mapped_column(String(16))
    identity_confirmed_by: Mapped[str] = mapped_column(String(200))  # how (a) was confirmed
    acquisition: Mapped[str] = mapped_column(Text)  # (b) how the provider acquired the data
    ppc_publication_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    items: Mapped[str] = mapped_column(Text)
    import_job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    person_count: Mapped[int] = mapped_column(Integer)
    # R-18-2: for a succession, the purpose codes (comma-separated) that applied before it
    prior_purposes: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_by: Mapped[str] = mapped_column(String(80))


class ProvisionRecord(Base):
    """The record the law requires (provider side R-29-1/2, R-31-3; recipient side R-30-2), one per person and
    recipient (or a bulk record with first/last dates). Kept until ``retention_until`` (R-29-4) even when the
    person is erased: ``subject_enc`` (identifying information) is sealed under a system key."""

    __tablename__ = "provision_records"
    __table_args__ = (Index("ix_provision_records_subject", "customer_id", "direction"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))  # provided / received
    kind: Mapped[str] = mapped_column(String(16))  # consent / opt_out / referable / non_operator / exempt …
    customer_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    counterparty_id: Mapped[str | None] = mapped_column(ForeignKey("counterparties.id"), nullable=True)
    recipient_label: Mapped[str | None] = mapped_column(String(80), nullable=True)  # e.g. "customer:<id>"
    counterparty_name: Mapped[str] = mapped_column(String(200))
    counterparty_address: Mapped[str] = mapped_column(String(300))
    counterparty_representative: Mapped[str] = mapped_column(String(200))
    counterparty_country: Mapped[str] = mapped_column(String(2))
    purpose: Mapped[str | None] = mapped_column(String(64), nullable=True)
    items: Mapped[str] = mapped_column(Text)
    consent_fact: Mapped[str | None] = mapped_column(String(300), nullable=True)
    subject_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # system key
    exempt_code: Mapped[str | None] = mapped_column(String(32), nullable=True)  # R-29-3
    bulk: Mapped[bool] = mapped_column(Boolean, default=False)
    medium: Mapped[str] = mapped_column(String(16), default="system")  # system / contract (規則19(3))
    provision_id: Mapped[str | None] = mapped_column(ForeignKey("provisions.id"), nullable=True)
    receipt_id: Mapped[str | None] = mapped_column(ForeignKey("provision_receipts.id"), nullable=True)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    retention_until: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class DataLineage(Base):
    """R-27-5: marks a person's data that may never go out by opt-out (received by opt-out, improperly
    acquired)."""

    __tablename__ = "provision_lineage"
    __table_args__ = (UniqueConstraint("customer_id", "flag", "receipt_id"),)

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    flag: Mapped[str] = mapped_column(String(24))  # opt_out_received / improperly_acquired
    receipt_id: Mapped[str | None] = mapped_column(ForeignKey("provision_receipts.id"), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    noted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    noted_by: Mapped[str] = mapped_column(String(80))


class ReferableConfirmation(Base):
    """R-31-1 / R-31-2: the confirmation that a recipient obtained the persons' consent to acquire
    personally referable information as personal data (foreign: the R-28-2 information too)."""

    __tablename__ = "referable_confirmations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    counterparty_id: Mapped[str] = mapped_column(ForeignKey("counterparties.id"), index=True)
    items: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(16))  # declaration / evidence_check
    evidence: Mapped[str] = mapped_column(String(200))
    foreign_info_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    sheet_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    confirmed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_by: Mapped[str] = mapped_column(String(80))


class RelayRequest(Base):
    """Relay instead of disclosure: one customer's message to another, delivered by staff; the other
    customer's contact is provided only after their own consent (R-27-1)."""

    __tablename__ = "relay_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    requester_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    message_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # requester's data key
    status: Mapped[str] = mapped_column(String(16))  # open / consented / delivered / completed / declined
    share_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_method: Mapped[str | None] = mapped_column(String(32), nullable=True)
    consent_evidence: Mapped[str | None] = mapped_column(String(200), nullable=True)
    consented_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    delivered_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
