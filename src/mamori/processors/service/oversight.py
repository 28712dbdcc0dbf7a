"""Oversight of outsourcees (R-25-1): audits, sub-outsourcing, operator accounts."""

from __future__ import annotations

from mamori.kernel.auditing import record_write, refusals_audited
from mamori.kernel.clock import today_jst
from mamori.kernel.context import Context, Role
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Action
from mamori.law.rules import R_25_1, R_28_1
from mamori.processors import queries
from mamori.processors.models import (
    ProcessorAudit,
    ProcessorOperator,
    ProcessorSubcontract,
)
from mamori.processors.schemas import (
    AuditRead,
    AuditResultIn,
    AuditScheduleIn,
    DecisionIn,
    OperatorCreate,
    OperatorRead,
    RemedyIn,
    SubcontractIn,
    SubcontractRead,
)
from mamori.processors.service.common import (
    audit_read,
    authorise_processor,
    contract_row,
    ensure_not_ended,
    is_foreign,
    subcontract_read,
)
from mamori.staff import service as staff_service
from mamori.staff.schemas import StaffCreate

# -- audits --------------------------------------------------------------------------------------------------


def _audit(ctx: Context, audit_id: str) -> ProcessorAudit:
    a = ctx.session.execute(queries.audit(audit_id)).scalar_one_or_none()
    if a is None:
        raise NotFound("監査予定が見つかりません。", "Audit not found.", code="audit_not_found")
    return a


def schedule_audit(ctx: Context, contract_id: str, data: AuditScheduleIn) -> AuditRead:
    """Schedule a periodic audit or check of the outsourcee (R-25-1 oversight)."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    row = contract_row(ctx, contract_id)
    ensure_not_ended(row)
    a = ProcessorAudit(
        id=new_id(),
        contract_id=row.id,
        method=data.method,
        due_on=data.due_on,
        scheduled_at=ctx.clock.now(),
        scheduled_by=ctx.actor.label,
    )
    ctx.session.add(a)
    ctx.session.flush()
    record_write(
        ctx,
        "processors.audit.schedule",
        (),
        (),
        rule_ids=(R_25_1.id,),
        details={"contract_id": row.id, "audit_id": a.id, "due_on": data.due_on.isoformat()},
    )
    return audit_read(a, today_jst(ctx.clock))


def record_audit(ctx: Context, audit_id: str, data: AuditResultIn) -> AuditRead:
    """Record an audit's result; a failed audit suspends a running contract until remedied (R-25-1)."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    a = _audit(ctx, audit_id)
    if a.result is not None:
        raise Conflict(
            "この監査の結果は記録済みです。", "This audit's result is already recorded.", code="audit_done"
        )
    today = today_jst(ctx.clock)
    if data.performed_on > today:
        raise ValidationFailed(
            "実施日に未来の日付は指定できません。",
            "The audit date cannot be in the future.",
            code="future_date",
        )
    row = contract_row(ctx, a.contract_id)
    a.performed_on = data.performed_on
    a.result = data.result
    a.findings = data.findings
    a.recorded_at = ctx.clock.now()
    a.recorded_by = ctx.actor.label
    suspended = False
    if data.result == "failed" and row.status == "active":
        row.status = "suspended"
        row.suspended_reason = "audit"
        suspended = True
    ctx.session.flush()
    record_write(
        ctx,
        "processors.audit.record",
        (),
        (),
        rule_ids=(R_25_1.id,),
        details={"contract_id": row.id, "audit_id": a.id, "result": data.result, "suspended": suspended},
    )
    return audit_read(a, today)


def remedy_audit(ctx: Context, audit_id: str, data: RemedyIn) -> AuditRead:
    """Record the remedy of a failed audit; the contract resumes when no failure is left unremedied."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    a = _audit(ctx, audit_id)
    if a.result != "failed" or a.remedied_at is not None:
        raise Conflict(
            "是正を記録できるのは未是正の不合格監査だけです。",
            "Only a failed, not yet remedied audit can be remedied.",
            code="audit_not_failed",
        )
    row = contract_row(ctx, a.contract_id)
    a.remedied_at = ctx.clock.now()
    a.remedied_by = ctx.actor.label
    a.remedy = data.remedy
    ctx.session.flush()
    resumed = False
    if (
        row.status == "suspended"
        and row.suspended_reason in (None, "audit")  # a suspension for an incident is lifted only by resume()
        and not ctx.session.execute(queries.unremedied_failures(row.id)).scalar_one()
    ):
        row.status = "active"
        row.suspended_reason = None
        resumed = True
        ctx.session.flush()
    record_write(
        ctx,
        "processors.audit.remedy",
        (),
        (),
        rule_ids=(R_25_1.id,),
        details={"contract_id": row.id, "audit_id": a.id, "resumed": resumed},
    )
    return audit_read(a, today_jst(ctx.clock))


def list_audits(
    ctx: Context, contract_id: str | None = None, *, overdue_only: bool = False
) -> list[AuditRead]:
    authorise_processor(ctx, Action.PROCESSOR_READ)
    ids = None if contract_id is None else [contract_row(ctx, contract_id).id]
    today = today_jst(ctx.clock)
    out = [audit_read(a, today) for a in ctx.session.execute(queries.audits(ids)).scalars()]
    return [a for a in out if a.overdue] if overdue_only else out


# -- sub-outsourcing -----------------------------------------------------------------------------------------


def request_subcontract(ctx: Context, contract_id: str, data: SubcontractIn) -> SubcontractRead:
    """Record the outsourcee's request to sub-outsource: who, what work, which methods (R-25-1)."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    row = contract_row(ctx, contract_id)
    ensure_not_ended(row)
    s = ProcessorSubcontract(
        id=new_id(),
        contract_id=row.id,
        subcontractor=data.subcontractor,
        country=data.country,
        work=data.work,
        methods=data.methods,
        status="requested",
        requested_at=ctx.clock.now(),
        requested_by=ctx.actor.label,
    )
    ctx.session.add(s)
    ctx.session.flush()
    record_write(
        ctx,
        "processors.subcontract.request",
        (),
        (),
        rule_ids=(R_25_1.id,),
        details={"contract_id": row.id, "subcontract_id": s.id, "country": data.country},
    )
    return subcontract_read(s)


def _decide_subcontract(ctx: Context, subcontract_id: str, status: str, data: DecisionIn) -> SubcontractRead:
    with refusals_audited(ctx, f"processors.subcontract.{status}"):  # a refused decision is audited
        return _decide(ctx, subcontract_id, status, data)


def _decide(ctx: Context, subcontract_id: str, status: str, data: DecisionIn) -> SubcontractRead:
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    if ctx.actor.role not in (Role.PRIVACY_OFFICER, Role.SYSTEM):
        raise PolicyDenied(
            "再委託の承認・拒否は個人情報保護管理者が行います。",
            "Only the privacy officer approves or refuses sub-outsourcing.",
            rule_id=R_25_1.id,
            code="privacy_officer_only",
        )
    s = ctx.session.execute(queries.subcontract(subcontract_id)).scalar_one_or_none()
    if s is None:
        raise NotFound(
            "再委託の申請が見つかりません。",
            "Sub-outsourcing request not found.",
            code="subcontract_not_found",
        )
    if s.status != "requested":
        raise Conflict(
            "この再委託の申請は決定済みです。",
            "This request was already decided.",
            code="subcontract_decided",
        )
    ensure_not_ended(contract_row(ctx, s.contract_id))
    s.status = status
    s.decided_at = ctx.clock.now()
    s.decided_by = ctx.actor.label
    s.decision_note = data.note
    ctx.session.flush()
    rules = (R_25_1.id, R_28_1.id) if is_foreign(s.country) else (R_25_1.id,)
    record_write(
        ctx,
        f"processors.subcontract.{status}",
        (),
        (),
        rule_ids=rules,
        details={"contract_id": s.contract_id, "subcontract_id": s.id},
    )
    return subcontract_read(s)


def approve_subcontract(ctx: Context, subcontract_id: str, data: DecisionIn) -> SubcontractRead:
    return _decide_subcontract(ctx, subcontract_id, "approved", data)


def refuse_subcontract(ctx: Context, subcontract_id: str, data: DecisionIn) -> SubcontractRead:
    return _decide_subcontract(ctx, subcontract_id, "refused", data)


# -- operator accounts ---------------------------------------------------------------------------------------


def add_operator(ctx: Context, contract_id: str, data: OperatorCreate) -> OperatorRead:
    """Open an outsourcee operator account (staff role "outsourcee", MFA required) linked to one contract."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    row = contract_row(ctx, contract_id)
    ensure_not_ended(row)
    user = staff_service.add(
        ctx, StaffCreate(username=data.username, display_name=data.display_name, role=Role.OUTSOURCEE)
    )
    link = ProcessorOperator(
        staff_id=user.id, contract_id=row.id, linked_at=ctx.clock.now(), linked_by=ctx.actor.label
    )
    ctx.session.add(link)
    ctx.session.flush()
    record_write(
        ctx,
        "processors.operator.add",
        (),
        (),
        rule_ids=(R_25_1.id,),
        details={"contract_id": row.id, "staff_id": user.id},
    )
    return OperatorRead(
        staff_id=user.id,
        username=user.username,
        display_name=user.display_name,
        contract_id=row.id,
        active=user.active,
        mfa_enrolled=user.mfa_enrolled,
        linked_at=link.linked_at,
    )


def list_operators(ctx: Context, contract_id: str | None = None) -> list[OperatorRead]:
    authorise_processor(ctx, Action.PROCESSOR_READ)
    if contract_id is not None:
        contract_row(ctx, contract_id)
    return [
        OperatorRead(
            staff_id=link.staff_id,
            username=user.username,
            display_name=user.display_name,
            contract_id=link.contract_id,
            active=user.active,
            mfa_enrolled=user.mfa_enrolled,
            linked_at=link.linked_at,
        )
        for link, user in ctx.session.execute(queries.operators(contract_id))
    ]
