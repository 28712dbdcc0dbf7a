"""Helpers shared by the processors use cases: lookups, the contract window, read models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from mamori.kernel.auditing import authorise
from mamori.kernel.clock import JST, today_jst
from mamori.kernel.context import Context
from mamori.kernel.errors import Conflict, NotFound
from mamori.kernel.policy import Action, Resource
from mamori.processors import queries
from mamori.processors.models import (
    ProcessorAudit,
    ProcessorContract,
    ProcessorEvaluation,
    ProcessorSubcontract,
)
from mamori.processors.schemas import (
    CLAUSES,
    AuditRead,
    ContractRead,
    EvaluationRead,
    SubcontractRead,
)

OUTSOURCEE_KIND = "outsourcee"  # the counterparty kind a contract requires (R-27-2(a))
DOMESTIC = frozenset({"JP"})
RULE_NOT_NOTIFIED = "R-21-1"  # the person was not notified of any contract purpose
CHUNK = 500


# -- helpers -------------------------------------------------------------------------------------------------


def authorise_processor(ctx: Context, action: Action, subject_ids: Sequence[str] = ()) -> None:
    authorise(ctx, action, Resource(kind="processor_contract"), subject_ids)


def contract_row(ctx: Context, contract_id: str) -> ProcessorContract:
    row = ctx.session.execute(queries.contract(contract_id)).scalar_one_or_none()
    if row is None:
        raise NotFound(
            "委託契約が見つかりません。",
            "Outsourcing contract not found.",
            code="contract_not_found",
            details={"contract_id": contract_id},
        )
    return row


def ensure_not_ended(row: ProcessorContract) -> None:
    if row.status == "ended":
        raise Conflict(
            "終了した委託契約は変更できません。",
            "The outsourcing contract has ended.",
            code="contract_ended",
            details={"contract_id": row.id},
        )


def window(row: ProcessorContract) -> tuple[datetime, datetime]:
    """The contract's validity as UTC instants: from the start day's 00:00 JST to the day after the end day."""
    start = datetime.combine(row.starts_on, time(0), JST).astimezone(UTC)
    until = datetime.combine(row.ends_on + timedelta(days=1), time(0), JST).astimezone(UTC)
    return start, until


def is_foreign(country: str | None) -> bool:
    return (country or "JP").upper() not in DOMESTIC


def contract_reads(ctx: Context, rows: Sequence[ProcessorContract]) -> list[ContractRead]:
    ids = [r.id for r in rows]
    if not ids:
        return []
    s = ctx.session
    parties = {
        c.id: c
        for c in s.execute(queries.counterparties(sorted({r.counterparty_id for r in rows}))).scalars()
    }
    latest_eval: dict[str, str] = {}
    for ev in s.execute(queries.evaluations(ids)).scalars():
        latest_eval[ev.contract_id] = ev.result
    customers = dict(s.execute(queries.customer_counts(ids)).all())
    operators = dict(s.execute(queries.operator_counts(ids)).all())
    overdue = dict(s.execute(queries.overdue_counts(ids, today_jst(ctx.clock))).all())
    next_due = dict(s.execute(queries.next_due(ids)).all())
    out = []
    for r in rows:
        party = parties.get(r.counterparty_id)
        out.append(
            ContractRead(
                id=r.id,
                counterparty_id=r.counterparty_id,
                outsourcee=party.name if party is not None else "",
                country=party.country if party is not None else None,
                work=r.work,
                purposes=list(r.purposes),
                fields=list(r.fields),
                clauses=list(r.clauses),
                missing_clauses=[c for c in CLAUSES if c not in r.clauses],
                activity_write=r.activity_write,
                starts_on=r.starts_on,
                ends_on=r.ends_on,
                reference=r.reference,
                status=r.status,
                evaluation=latest_eval.get(r.id),
                customers=int(customers.get(r.id, 0)),
                operators=int(operators.get(r.id, 0)),
                overdue_audits=int(overdue.get(r.id, 0)) if r.status != "ended" else 0,
                next_audit_due=next_due.get(r.id),
                created_at=r.created_at,
                activated_at=r.activated_at,
                ended_at=r.ended_at,
                end_disposal=r.end_disposal,
                end_evidence=r.end_evidence,
            )
        )
    return out


def evaluation_read(e: ProcessorEvaluation) -> EvaluationRead:
    return EvaluationRead(
        id=e.id,
        items=dict(e.items),
        result=e.result,
        note=e.note,
        evaluated_at=e.evaluated_at,
        evaluated_by=e.evaluated_by,
    )


def audit_read(a: ProcessorAudit, today: date) -> AuditRead:
    return AuditRead(
        id=a.id,
        contract_id=a.contract_id,
        method=a.method,
        due_on=a.due_on,
        performed_on=a.performed_on,
        result=a.result,
        findings=a.findings,
        remedied_at=a.remedied_at,
        remedy=a.remedy,
        overdue=a.performed_on is None and a.due_on < today,
    )


def subcontract_read(s: ProcessorSubcontract) -> SubcontractRead:
    return SubcontractRead(
        id=s.id,
        contract_id=s.contract_id,
        subcontractor=s.subcontractor,
        country=s.country,
        work=s.work,
        methods=s.methods,
        status=s.status,
        requested_at=s.requested_at,
        requested_by=s.requested_by,
        decided_at=s.decided_at,
        decided_by=s.decided_by,
        decision_note=s.decision_note,
    )
