"""Tables of the processors slice: 委託契約, 委託先の選定評価, 監査, 再委託, 対象顧客, 委託先オペレーター, 引渡し記録.

None of these tables holds a personal value: customers appear by id only, outsourcees and sub-outsourcees are
organisations, and free-text fields (work, findings, methods) describe the work, never a person. A handover
record therefore survives the person's erasure (R-25-1 supervision evidence) without needing encryption.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime


class ProcessorContract(Base):
    """One 委託契約 with an outsourcee counterparty (R-25-1 contract; R-27-2(a): an outsourcee is not a third party).

    status: draft → active ⇄ suspended (a failed audit, until remedied) → ended (return/deletion confirmed).
    """

    __tablename__ = "processor_contracts"
    __table_args__ = (Index("ix_processor_contracts_counterparty", "counterparty_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    counterparty_id: Mapped[str] = mapped_column(ForeignKey("counterparties.id"))
    work: Mapped[str] = mapped_column(String(500))  # the entrusted work (委託する業務の内容)
    purposes: Mapped[list[str]] = mapped_column(JSON)  # registered purpose codes
    fields: Mapped[list[str]] = mapped_column(JSON)  # customer field names the work needs
    clauses: Mapped[list[str]] = mapped_column(JSON)  # checklist items the signed contract contains
    activity_write: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # last day of the contract (inclusive, JST)
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)  # contract number, not personal
    status: Mapped[str] = mapped_column(String(16))  # draft / active / suspended / ended
    # Why a suspended contract is suspended: "audit" (a failed audit; its remedy resumes the contract) or the code
    # given to ``suspend`` (e.g. "incident": only an explicit resume lifts it). None: not suspended, or suspended
    # before issue 22 (treated as "audit").
    suspended_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    activated_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    end_disposal: Mapped[str | None] = mapped_column(String(16), nullable=True)  # returned / deleted
    end_evidence: Mapped[str | None] = mapped_column(String(200), nullable=True)  # certificate reference


class ProcessorEvaluation(Base):
    """A selection evaluation (委託先の選定): the outsourcee's measures against the GL-T 10 items (R-25-1)."""

    __tablename__ = "processor_evaluations"
    __table_args__ = (Index("ix_processor_evaluations_contract", "contract_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("processor_contracts.id"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … per contract: the latest evaluation decides
    items: Mapped[dict[str, str]] = mapped_column(JSON)  # item code → meets / falls_short
    result: Mapped[str] = mapped_column(String(16))  # passed / failed
    note: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    evaluated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    evaluated_by: Mapped[str] = mapped_column(String(80))


class ProcessorAudit(Base):
    """A scheduled audit or check of the outsourcee (R-25-1 oversight), then its result."""

    __tablename__ = "processor_audits"
    __table_args__ = (Index("ix_processor_audits_contract", "contract_id", "due_on"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("processor_contracts.id"))
    method: Mapped[str] = mapped_column(String(16))  # on_site / document / questionnaire / remote
    due_on: Mapped[date] = mapped_column(Date)
    scheduled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    scheduled_by: Mapped[str] = mapped_column(String(80))
    performed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    result: Mapped[str | None] = mapped_column(String(16), nullable=True)  # passed / failed
    findings: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    recorded_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    remedied_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    remedied_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    remedy: Mapped[str | None] = mapped_column(String(1000), nullable=True)


class ProcessorSubcontract(Base):
    """A sub-outsourcing (再委託) request and the privacy officer's decision: who, what work, which methods."""

    __tablename__ = "processor_subcontracts"
    __table_args__ = (Index("ix_processor_subcontracts_contract", "contract_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("processor_contracts.id"))
    subcontractor: Mapped[str] = mapped_column(String(200))  # the organisation's name
    country: Mapped[str] = mapped_column(String(2))
    work: Mapped[str] = mapped_column(String(500))
    methods: Mapped[str] = mapped_column(String(1000))  # handling and security methods
    status: Mapped[str] = mapped_column(String(16))  # requested / approved / refused
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    requested_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(String(500), nullable=True)


class ProcessorCustomer(Base):
    """A customer covered by a contract (ids only)."""

    __tablename__ = "processor_customers"
    __table_args__ = (Index("ix_processor_customers_customer", "customer_id"),)

    contract_id: Mapped[str] = mapped_column(ForeignKey("processor_contracts.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    via: Mapped[str] = mapped_column(String(80))  # "explicit" or "purpose:<code>"
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
    added_by: Mapped[str] = mapped_column(String(80))


class ProcessorOperator(Base):
    """An outsourcee operator account (staff role "outsourcee") linked to exactly one contract."""

    __tablename__ = "processor_operators"
    __table_args__ = (Index("ix_processor_operators_contract", "contract_id"),)

    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("processor_contracts.id"))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    linked_by: Mapped[str] = mapped_column(String(80))


class ProcessorHandover(Base):
    """One handover of personal data to the outsourcee: when, who, how many, which fields — no values."""

    __tablename__ = "processor_handovers"
    __table_args__ = (Index("ix_processor_handovers_contract", "contract_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("processor_contracts.id"))
    fields: Mapped[list[str]] = mapped_column(JSON)
    customer_count: Mapped[int] = mapped_column(Integer)
    withheld_count: Mapped[int] = mapped_column(Integer)  # covered customers left out (stopped, R-28-1 …)
    method: Mapped[str] = mapped_column(String(16))  # file / api
    handed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    handed_by: Mapped[str] = mapped_column(String(80))


class ProcessorHandoverSubject(Base):
    """Which customers a handover included (for disclosure and G-19 recipients)."""

    __tablename__ = "processor_handover_subjects"
    __table_args__ = (Index("ix_processor_handover_subjects_customer", "customer_id"),)

    handover_id: Mapped[str] = mapped_column(ForeignKey("processor_handovers.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
