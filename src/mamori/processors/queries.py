"""Every SELECT of the processors slice (ids and organisation facts only; no personal values live here)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, func, select

from mamori.processors.models import (
    ProcessorAudit,
    ProcessorContract,
    ProcessorCustomer,
    ProcessorEvaluation,
    ProcessorHandover,
    ProcessorHandoverSubject,
    ProcessorOperator,
    ProcessorSubcontract,
)
from mamori.provision.models import Counterparty
from mamori.staff.models import StaffUser


def contract(contract_id: str) -> Select[ProcessorContract]:
    return select(ProcessorContract).where(ProcessorContract.id == contract_id)


def contracts(status: str | None = None) -> Select[ProcessorContract]:
    q = select(ProcessorContract).order_by(ProcessorContract.created_at, ProcessorContract.id)
    return q.where(ProcessorContract.status == status) if status else q


def contracts_with(counterparty_id: str) -> Select[ProcessorContract]:
    """Every contract with one counterparty (an entrustment started by ``provide`` looks for its contract)."""
    return (
        select(ProcessorContract)
        .where(ProcessorContract.counterparty_id == counterparty_id)
        .order_by(ProcessorContract.created_at, ProcessorContract.id)
    )


def counterparty(counterparty_id: str) -> Select[Counterparty]:
    return select(Counterparty).where(Counterparty.id == counterparty_id)


def counterparties(ids: Sequence[str]) -> Select[Counterparty]:
    return select(Counterparty).where(Counterparty.id.in_(list(ids)))


def evaluations(contract_ids: Sequence[str]) -> Select[ProcessorEvaluation]:
    return (
        select(ProcessorEvaluation)
        .where(ProcessorEvaluation.contract_id.in_(list(contract_ids)))
        .order_by(ProcessorEvaluation.contract_id, ProcessorEvaluation.number)
    )


def audits(contract_ids: Sequence[str] | None = None) -> Select[ProcessorAudit]:
    q = select(ProcessorAudit).order_by(ProcessorAudit.due_on, ProcessorAudit.id)
    return q if contract_ids is None else q.where(ProcessorAudit.contract_id.in_(list(contract_ids)))


def audit(audit_id: str) -> Select[ProcessorAudit]:
    return select(ProcessorAudit).where(ProcessorAudit.id == audit_id)


def unremedied_failures(contract_id: str) -> Select[int]:
    return select(func.count()).where(
        ProcessorAudit.contract_id == contract_id,
        ProcessorAudit.result == "failed",
        ProcessorAudit.remedied_at.is_(None),
    )


def overdue_counts(contract_ids: Sequence[str], today: date) -> Select[str, int]:
    return (
        select(ProcessorAudit.contract_id, func.count())
        .where(
            ProcessorAudit.contract_id.in_(list(contract_ids)),
            ProcessorAudit.performed_on.is_(None),
            ProcessorAudit.due_on < today,
        )
        .group_by(ProcessorAudit.contract_id)
    )


def next_due(contract_ids: Sequence[str]) -> Select[str, date]:
    return (
        select(ProcessorAudit.contract_id, func.min(ProcessorAudit.due_on))
        .where(ProcessorAudit.contract_id.in_(list(contract_ids)), ProcessorAudit.performed_on.is_(None))
        .group_by(ProcessorAudit.contract_id)
    )


def subcontracts(contract_ids: Sequence[str]) -> Select[ProcessorSubcontract]:
    return (
        select(ProcessorSubcontract)
        .where(ProcessorSubcontract.contract_id.in_(list(contract_ids)))
        .order_by(ProcessorSubcontract.requested_at, ProcessorSubcontract.id)
    )


def subcontract(subcontract_id: str) -> Select[ProcessorSubcontract]:
    return select(ProcessorSubcontract).where(ProcessorSubcontract.id == subcontract_id)


def customer_counts(contract_ids: Sequence[str]) -> Select[str, int]:
    return (
        select(ProcessorCustomer.contract_id, func.count())
        .where(ProcessorCustomer.contract_id.in_(list(contract_ids)))
        .group_by(ProcessorCustomer.contract_id)
    )


def operator_counts(contract_ids: Sequence[str]) -> Select[str, int]:
    return (
        select(ProcessorOperator.contract_id, func.count())
        .where(ProcessorOperator.contract_id.in_(list(contract_ids)))
        .group_by(ProcessorOperator.contract_id)
    )


def covered_ids(contract_id: str) -> Select[str]:
    return (
        select(ProcessorCustomer.customer_id)
        .where(ProcessorCustomer.contract_id == contract_id)
        .order_by(ProcessorCustomer.customer_id)
    )


def covered_among(contract_id: str, customer_ids: Sequence[str]) -> Select[str]:
    return select(ProcessorCustomer.customer_id).where(
        ProcessorCustomer.contract_id == contract_id, ProcessorCustomer.customer_id.in_(list(customer_ids))
    )


def operator_link(staff_id: str) -> Select[ProcessorOperator]:
    return select(ProcessorOperator).where(ProcessorOperator.staff_id == staff_id)


def operators(contract_id: str | None = None) -> Select[ProcessorOperator, StaffUser]:
    q = (
        select(ProcessorOperator, StaffUser)
        .join(StaffUser, StaffUser.id == ProcessorOperator.staff_id)
        .order_by(ProcessorOperator.linked_at, StaffUser.username)
    )
    return q if contract_id is None else q.where(ProcessorOperator.contract_id == contract_id)


def handovers(contract_id: str) -> Select[ProcessorHandover]:
    return (
        select(ProcessorHandover)
        .where(ProcessorHandover.contract_id == contract_id)
        .order_by(ProcessorHandover.handed_at, ProcessorHandover.id)
    )


def handovers_of(customer_id: str) -> Select[ProcessorHandover, ProcessorContract]:
    """The handovers that included one person, with their contract (disclosure, G-19 recipients)."""
    return (
        select(ProcessorHandover, ProcessorContract)
        .join(ProcessorHandoverSubject, ProcessorHandoverSubject.handover_id == ProcessorHandover.id)
        .join(ProcessorContract, ProcessorContract.id == ProcessorHandover.contract_id)
        .where(ProcessorHandoverSubject.customer_id == customer_id)
        .order_by(ProcessorHandover.handed_at, ProcessorHandover.id)
    )


def contracts_covering(customer_id: str) -> Select[ProcessorContract]:
    return (
        select(ProcessorContract)
        .join(ProcessorCustomer, ProcessorCustomer.contract_id == ProcessorContract.id)
        .where(ProcessorCustomer.customer_id == customer_id)
        .order_by(ProcessorContract.created_at, ProcessorContract.id)
    )


def handover_customers(handover_id: str) -> Select[str]:
    """The people one handover to the outsourcee included (issue 22: an incident's scope)."""
    return select(ProcessorHandoverSubject.customer_id).where(
        ProcessorHandoverSubject.handover_id == handover_id
    )
