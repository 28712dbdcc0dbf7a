"""Tables of the incidents slice (漏えい等事案, issue 22; R-26-1 … R-26-7, G-33/G-34).

No table holds a personal value. People appear by customer id only; data items by field NAME and category; the
narrative columns (the cause, the damage, the measures) describe the event and are refused when the text
scanner finds personal data in them.

- ``incidents``: the register — what happened, when the company knew, who found it, the cause, the entrustor or
  outsourcee, the classification inputs (wrongful purpose, encryption / 仮名加工情報 exemption, GDPR risk) and
  the report dates.
- ``incident_scopes``: each method used to draw the scope, with its parameters (JSON) and what it found.
- ``incident_scope_members``: who a list of ids or a filter found (ids only), to rebuild the scope exactly.
- ``incident_subjects``: the people in scope, with the field names and categories concerned.
- ``incident_reports``: the PPC report drafts (速報 / 確報), each version kept with its body (JSON of the nine items).
- ``incident_notices``: the notice to each person (R-26-6, G-34): channel, status, the mail id — never an address.
- ``incident_measures``: containment steps and substitute measures (publication, inquiry line), each audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[int] = mapped_column(
        Integer, unique=True
    )  # shown as 事案番号 (e.g. 2026-0003 is year-number)
    title: Mapped[str] = mapped_column(String(200))  # what happened, in a line (never a person's name)
    kind: Mapped[str] = mapped_column(String(16))  # leak / loss / damage (漏えい / 滅失 / 毀損)
    suspected: Mapped[bool] = mapped_column(Boolean, default=False)  # only a おそれ so far
    occurred_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # None: not yet known
    known_at: Mapped[datetime] = mapped_column(UtcDateTime)  # when any department of the company knew
    known_by: Mapped[str] = mapped_column(String(100))  # the department (部署) that knew first
    discovered_by: Mapped[str] = mapped_column(String(200))  # who discovered it (a role or an organisation)
    # external_attack / insider / misdelivery / loss_theft / misconfiguration / remote_work / outsourcee / other
    cause: Mapped[str] = mapped_column(String(32))
    cause_detail: Mapped[str | None] = mapped_column(Text, nullable=True)  # item (4)
    # Our role for this data: "operator" (our own data, perhaps via an outsourcee) or "outsourcee" (we handle it
    # for an entrustor, R-26-5: the entrustor is notified).
    role: Mapped[str] = mapped_column(String(16), default="operator")
    entrustor_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    counterparty_id: Mapped[str | None] = mapped_column(ForeignKey("counterparties.id"), nullable=True)
    contract_id: Mapped[str | None] = mapped_column(ForeignKey("processor_contracts.id"), nullable=True)
    # Classification inputs (R-26-1): trigger (3) defaults from the cause and may be set either way with a reason.
    wrongful_purpose: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: from the cause
    encryption_exempt: Mapped[bool] = mapped_column(Boolean, default=False)  # high-level encryption
    encryption_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    pseudonymised: Mapped[bool] = mapped_column(Boolean, default=False)  # 仮名加工情報 only (exempt)
    # GDPR (G-33/G-34), for EU/UK people in scope: none / risk / high, and why.
    gdpr_risk: Mapped[str | None] = mapped_column(String(8), nullable=True)
    gdpr_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # The report items the register cannot compute (R-26-4 items 5-9), free text about the event.
    secondary_damage: Mapped[str | None] = mapped_column(Text, nullable=True)  # (5)
    actions_to_persons: Mapped[str | None] = mapped_column(Text, nullable=True)  # (6)
    publication: Mapped[str | None] = mapped_column(Text, nullable=True)  # (7)
    prevention: Mapped[str | None] = mapped_column(Text, nullable=True)  # (8)
    other: Mapped[str | None] = mapped_column(Text, nullable=True)  # (9)
    # Filing dates, entered by the privacy officer once the PPC form was submitted (the form is outside mamori).
    prelim_filed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    final_filed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    gdpr_filed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    entrustor_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open / closed
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class IncidentScope(Base):
    """One method used to draw the scope, with its parameters and what it found (R-26-1, R-26-7)."""

    __tablename__ = "incident_scopes"
    __table_args__ = (Index("ix_incident_scopes_incident", "incident_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    # audit / provision / processor_handover / ids / filter / estimate
    method: Mapped[str] = mapped_column(String(24))
    params: Mapped[str] = mapped_column(
        Text
    )  # canonical JSON: actor / session / token / since / until / ids …
    persons: Mapped[int] = mapped_column(Integer)  # people this method found (counted, by id)
    maximum: Mapped[int | None] = mapped_column(
        Integer, nullable=True
    )  # an unknown count entered as a maximum
    items: Mapped[str] = mapped_column(Text)  # JSON: field name -> persons
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)


class IncidentScopeMember(Base):
    """Who a list of ids or a filter found (ids only): those scopes cannot be drawn again from their evidence, so
    removing another scope rebuilds the people from these rows (the audit log, provision records and handovers are
    read again)."""

    __tablename__ = "incident_scope_members"

    scope_id: Mapped[str] = mapped_column(ForeignKey("incident_scopes.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)


class IncidentSubject(Base):
    """One person in scope (by id), with the data items concerned (field names and categories, never values)."""

    __tablename__ = "incident_subjects"
    __table_args__ = (Index("ix_incident_subjects_customer", "customer_id"),)

    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    scope_id: Mapped[str] = mapped_column(
        ForeignKey("incident_scopes.id")
    )  # the first method that found them
    fields: Mapped[str] = mapped_column(Text)  # JSON list of field names (union over the scopes)
    categories: Mapped[str] = mapped_column(
        Text
    )  # JSON list of categories (identifier / contact / … / financial)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)  # 要配慮 item in scope (trigger 1)
    financial: Mapped[bool] = mapped_column(Boolean, default=False)  # an item whose misuse may cause loss (2)
    origin: Mapped[str] = mapped_column(String(8), default="JP")  # EU / UK: the GDPR applies (G-33/G-34)


class IncidentReport(Base):
    """A PPC report draft (R-26-4): 速報 (prelim) or 確報 (final), each version kept (side by side on the page)."""

    __tablename__ = "incident_reports"
    __table_args__ = (UniqueConstraint("incident_id", "stage", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))  # prelim / final / entrustor (R-26-5)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)  # canonical JSON: the nine items (Japanese text, counts, codes)
    sha256: Mapped[str] = mapped_column(String(64))
    drafted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    drafted_by: Mapped[str] = mapped_column(String(80))


class IncidentNotice(Base):
    """The notice to one person (R-26-6, G-34): how and when it was sent — never the address or the text."""

    __tablename__ = "incident_notices"
    __table_args__ = (
        UniqueConstraint("incident_id", "customer_id"),
        Index("ix_incident_notices_customer", "customer_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(12))  # email / letter / substitute
    status: Mapped[str] = mapped_column(String(16))  # queued / sent / failed / no_contact / substitute
    mail_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the kernel mail queue's row
    measure_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the substitute measure
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    by: Mapped[str] = mapped_column(String(80))


class IncidentMeasure(Base):
    """A step taken from the incident: containment (disable an account, revoke sessions or tokens, suspend an
    outsourcee's access, rotate keys) or a substitute for notice (publication, an inquiry line)."""

    __tablename__ = "incident_measures"
    __table_args__ = (Index("ix_incident_measures_incident", "incident_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    # disable_account / revoke_sessions / revoke_tokens / revoke_session / revoke_token / suspend_outsourcee /
    # rotate_keys / publication / inquiry_line
    kind: Mapped[str] = mapped_column(String(24))
    target: Mapped[str | None] = mapped_column(
        String(80), nullable=True
    )  # a user name, token id, contract id
    note: Mapped[str | None] = mapped_column(String(300), nullable=True)  # e.g. where it was published
    result: Mapped[str] = mapped_column(Text)  # JSON counts
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    by: Mapped[str] = mapped_column(String(80))
