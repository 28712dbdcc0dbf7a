"""Contracts (R-25-1 contract and selection) and the customers they cover."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import delete, insert

from mamori.customers.service import subjects
from mamori.kernel.auditing import audits_refusals, record_write
from mamori.kernel.clock import today_jst
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Action
from mamori.law.rules import R_17_1, R_25_1, R_27_2
from mamori.processors import queries
from mamori.processors.models import (
    ProcessorContract,
    ProcessorCustomer,
    ProcessorEvaluation,
)
from mamori.processors.schemas import (
    CLAUSES,
    ContractCreate,
    ContractDetail,
    ContractRead,
    CoverageRead,
    CustomersIn,
    EndIn,
    EvaluationIn,
    EvaluationRead,
)
from mamori.processors.service.common import (
    CHUNK,
    OUTSOURCEE_KIND,
    audit_read,
    authorise_processor,
    contract_reads,
    contract_row,
    ensure_not_ended,
    evaluation_read,
    subcontract_read,
)
from mamori.purposes import service as purposes_service

# -- contracts -----------------------------------------------------------------------------------------------


def add_contract(ctx: Context, data: ContractCreate) -> ContractRead:
    """Record a 委託契約 (draft). The counterparty must be registered as an outsourcee (R-27-2(a))."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    party = ctx.session.execute(queries.counterparty(data.counterparty_id)).scalar_one_or_none()
    if party is None:
        raise NotFound(
            "提供先・委託先が登録されていません。",
            "Counterparty not found.",
            code="counterparty_not_found",
            details={"counterparty_id": data.counterparty_id},
        )
    if party.kind != OUTSOURCEE_KIND:
        raise ValidationFailed(
            "委託契約の相手方は委託先（outsourcee）として登録された事業者に限ります。",
            "An outsourcing contract needs a counterparty registered as an outsourcee.",
            rule_id=R_27_2.id,
            code="not_an_outsourcee",
            details={"counterparty_id": party.id, "kind": party.kind},
        )
    for code in data.purposes:
        facts = purposes_service.facts(ctx, code)
        if facts is None or facts.retired:
            raise ValidationFailed(
                f"利用目的「{code}」は登録されていないか廃止されています。",
                f"Purpose '{code}' is not registered or has been retired.",
                rule_id=R_17_1.id,
                code="purpose_unknown",
            )
    if data.activity_write and "activities" not in data.fields:
        raise ValidationFailed(
            "対応履歴の記録を委託するには項目 activities が必要です。",
            "Writing activities needs the 'activities' field in the contract.",
            rule_id=R_25_1.id,
            code="activity_write_needs_field",
        )
    now = ctx.clock.now()
    row = ProcessorContract(
        id=new_id(),
        counterparty_id=party.id,
        work=data.work,
        purposes=list(data.purposes),
        fields=list(data.fields),
        clauses=list(data.clauses),
        activity_write=data.activity_write,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        reference=data.reference,
        status="draft",
        created_at=now,
        created_by=ctx.actor.label,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx,
        "processors.contract.add",
        (),
        data.fields,
        rule_ids=(R_25_1.id, R_27_2.id),
        details={"contract_id": row.id, "counterparty_id": party.id},
    )
    return contract_reads(ctx, [row])[0]


def list_contracts(ctx: Context, status: str | None = None) -> list[ContractRead]:
    """Every contract, with overdue audits counted (R-25-1 oversight)."""
    authorise_processor(ctx, Action.PROCESSOR_READ)
    return contract_reads(ctx, list(ctx.session.execute(queries.contracts(status)).scalars()))


def show_contract(ctx: Context, contract_id: str) -> ContractDetail:
    authorise_processor(ctx, Action.PROCESSOR_READ)
    row = contract_row(ctx, contract_id)
    today = today_jst(ctx.clock)
    base = contract_reads(ctx, [row])[0]
    return ContractDetail(
        **base.model_dump(),
        evaluations=[
            evaluation_read(e) for e in ctx.session.execute(queries.evaluations([row.id])).scalars()
        ],
        audits=[audit_read(a, today) for a in ctx.session.execute(queries.audits([row.id])).scalars()],
        subcontracts=[
            subcontract_read(s) for s in ctx.session.execute(queries.subcontracts([row.id])).scalars()
        ],
    )


def evaluate(ctx: Context, contract_id: str, data: EvaluationIn) -> EvaluationRead:
    """Record a selection evaluation: passed only if every GL-T 10 item meets our own measures (R-25-1)."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    row = contract_row(ctx, contract_id)
    ensure_not_ended(row)
    result = "passed" if all(v == "meets" for v in data.items.values()) else "failed"
    previous = len(list(ctx.session.execute(queries.evaluations([row.id])).scalars()))
    ev = ProcessorEvaluation(
        id=new_id(),
        contract_id=row.id,
        number=previous + 1,
        items=dict(data.items),
        result=result,
        note=data.note,
        evaluated_at=ctx.clock.now(),
        evaluated_by=ctx.actor.label,
    )
    ctx.session.add(ev)
    ctx.session.flush()
    record_write(
        ctx,
        "processors.contract.evaluate",
        (),
        (),
        rule_ids=(R_25_1.id,),
        details={"contract_id": row.id, "result": result},
    )
    return evaluation_read(ev)


@audits_refusals("processors.contract.activate")  # a refused start (R-25-1) is audited
def activate(ctx: Context, contract_id: str) -> ContractRead:
    """Start the contract: every checklist clause present and the latest selection evaluation passed (R-25-1)."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    row = contract_row(ctx, contract_id)
    if row.status != "draft":
        raise Conflict(
            "下書きの委託契約だけを開始できます。",
            "Only a draft contract can be activated.",
            code="contract_not_draft",
            details={"contract_id": row.id, "status": row.status},
        )
    missing = [c for c in CLAUSES if c not in row.clauses]
    if missing:
        # R-25-1 (contract): the agreed measures and our right to check them must be in the contract.
        raise PolicyDenied(
            "委託契約に必要な条項が欠けています: " + ", ".join(missing),
            "The contract lacks required clauses: " + ", ".join(missing),
            rule_id=R_25_1.id,
            code="contract_clauses_missing",
            details={"missing": missing},
        )
    evaluations = list(ctx.session.execute(queries.evaluations([row.id])).scalars())
    if not evaluations or evaluations[-1].result != "passed":
        # R-25-1 (selection): before entrusting, confirm the outsourcee's measures are at least equal to ours.
        raise PolicyDenied(
            "委託先の選定評価（合格）がないため開始できません。",
            "No passed selection evaluation of the outsourcee.",
            rule_id=R_25_1.id,
            code="evaluation_not_passed",
            details={"contract_id": row.id},
        )
    if row.ends_on < today_jst(ctx.clock):
        raise ValidationFailed(
            "契約期間が終了しています。",
            "The contract period is over.",
            code="contract_expired",
            details={"contract_id": row.id},
        )
    now = ctx.clock.now()
    row.status = "active"
    row.activated_at = now
    row.activated_by = ctx.actor.label
    ctx.session.flush()
    record_write(
        ctx,
        "processors.contract.activate",
        (),
        row.fields,
        rule_ids=(R_25_1.id,),
        details={"contract_id": row.id},
    )
    return contract_reads(ctx, [row])[0]


def end(ctx: Context, contract_id: str, data: EndIn) -> ContractRead:
    """End the contract with the return / deletion confirmation; operators lose access at once (R-25-1)."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    row = contract_row(ctx, contract_id)
    ensure_not_ended(row)
    now = ctx.clock.now()
    row.status = "ended"
    row.ended_at = now
    row.ended_by = ctx.actor.label
    row.end_disposal = data.disposal
    row.end_evidence = data.evidence
    ctx.session.flush()
    record_write(
        ctx,
        "processors.contract.end",
        (),
        (),
        rule_ids=(R_25_1.id,),
        details={"contract_id": row.id, "disposal": data.disposal},
    )
    return contract_reads(ctx, [row])[0]


# -- covered customers ---------------------------------------------------------------------------------------


def assign_customers(ctx: Context, contract_id: str, data: CustomersIn) -> CoverageRead:
    """Cover customers by id, or every customer notified of one of the contract's purposes (stored as ids)."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    row = contract_row(ctx, contract_id)
    ensure_not_ended(row)
    if data.purpose is not None:
        if data.purpose not in row.purposes:
            raise ValidationFailed(
                f"利用目的「{data.purpose}」は委託された業務の目的ではありません。",
                f"Purpose '{data.purpose}' is not a purpose of the entrusted work.",
                rule_id=R_25_1.id,
                code="purpose_outside_contract",
            )
        wanted = subjects.ids_with_purpose(ctx, data.purpose)
        via = f"purpose:{data.purpose}"
        unknown = 0
    else:
        live = subjects.existing(ctx, data.customer_ids)
        wanted = [c for c in data.customer_ids if c in live]
        unknown = len(data.customer_ids) - len(wanted)
        via = "explicit"
    already: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        already.update(
            ctx.session.execute(queries.covered_among(row.id, wanted[start : start + CHUNK])).scalars()
        )
    new = [c for c in wanted if c not in already]
    now = ctx.clock.now()
    if new:
        ctx.session.execute(
            insert(ProcessorCustomer),
            [
                {
                    "contract_id": row.id,
                    "customer_id": c,
                    "via": via,
                    "added_at": now,
                    "added_by": ctx.actor.label,
                }
                for c in new
            ],
        )
        record_write(
            ctx,
            "processors.customers.add",
            new,
            (),
            rule_ids=(R_25_1.id, R_27_2.id),
            details={"contract_id": row.id, "via": via.split(":")[0], "count": len(new)},
        )
    total = len(list(ctx.session.execute(queries.covered_ids(row.id)).scalars()))
    return CoverageRead(contract_id=row.id, added=len(new), unknown=unknown, total=total)


def remove_customers(ctx: Context, contract_id: str, customer_ids: Sequence[str]) -> CoverageRead:
    """Stop covering some customers (access through the contract ends at once)."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    row = contract_row(ctx, contract_id)
    ids = list(dict.fromkeys(customer_ids))
    removed = 0
    for start in range(0, len(ids), CHUNK):
        result = ctx.session.execute(
            delete(ProcessorCustomer).where(
                ProcessorCustomer.contract_id == row.id,
                ProcessorCustomer.customer_id.in_(ids[start : start + CHUNK]),
            )
        )
        removed += int(getattr(result, "rowcount", 0) or 0)
    if removed:
        record_write(
            ctx,
            "processors.customers.remove",
            ids,
            (),
            rule_ids=(R_25_1.id,),
            details={"contract_id": row.id, "count": removed},
        )
    total = len(list(ctx.session.execute(queries.covered_ids(row.id)).scalars()))
    return CoverageRead(contract_id=row.id, added=-removed, unknown=len(ids) - removed, total=total)


def covered_customers(ctx: Context, contract_id: str) -> list[str]:
    """The ids of the customers a contract covers (ids only: no personal values)."""
    authorise_processor(ctx, Action.PROCESSOR_READ)
    row = contract_row(ctx, contract_id)
    return list(ctx.session.execute(queries.covered_ids(row.id)).scalars())


# -- suspension outside an audit (issue 22: containment of an incident) ------------------------------------------

_REASON = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def suspend(ctx: Context, contract_id: str, reason_code: str) -> ContractRead:
    """Suspend a running contract at once (e.g. an incident at the outsourcee, R-26-7): its operators' grant
    stops (a suspended contract grants nothing, :func:`.access.running_grant`; R-25-1). ``reason_code`` is a
    short code (``incident``), never free text. An already suspended contract stays as it is (no change, no
    entry); a draft or ended contract is refused (it grants nothing to suspend)."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    if not _REASON.match(reason_code or ""):
        raise ValidationFailed(
            "停止理由のコードが不正です。", "The suspension reason code is invalid.", code="bad_reason_code"
        )
    row = contract_row(ctx, contract_id)
    ensure_not_ended(row)
    if row.status == "suspended":
        if row.suspended_reason != reason_code:
            row.suspended_reason = reason_code  # a failed audit's remedy must not lift it any more
            ctx.session.flush()
        return contract_reads(ctx, [row])[0]
    if row.status != "active":
        raise Conflict(
            "停止できるのは開始済みの委託契約だけです。",
            "Only a running contract can be suspended.",
            code="contract_not_active",
            details={"contract_id": row.id, "status": row.status},
        )
    row.status = "suspended"
    row.suspended_reason = reason_code
    ctx.session.flush()
    record_write(
        ctx,
        "processors.contract.suspend",
        (),
        (),
        rule_ids=(R_25_1.id,),
        details={"contract_id": row.id, "reason": reason_code},
    )
    return contract_reads(ctx, [row])[0]


def resume(ctx: Context, contract_id: str) -> ContractRead:
    """Lift a suspension: the contract runs again, unless a failed audit is still not remedied (R-25-1)."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    row = contract_row(ctx, contract_id)
    ensure_not_ended(row)
    if row.status != "suspended":
        raise Conflict(
            "停止中の委託契約ではありません。",
            "The contract is not suspended.",
            code="contract_not_suspended",
            details={"contract_id": row.id, "status": row.status},
        )
    if ctx.session.execute(queries.unremedied_failures(row.id)).scalar_one():
        raise Conflict(
            "是正されていない不合格の監査があるため再開できません。",
            "A failed audit is not remedied yet; the contract cannot resume.",
            code="audit_not_remedied",
            rule_id=R_25_1.id,
            details={"contract_id": row.id},
        )
    if row.ends_on < today_jst(ctx.clock):
        raise ValidationFailed(
            "契約期間が終了しています。",
            "The contract period is over.",
            code="contract_expired",
            details={"contract_id": row.id},
        )
    row.status = "active"
    row.suspended_reason = None
    ctx.session.flush()
    record_write(
        ctx,
        "processors.contract.resume",
        (),
        (),
        rule_ids=(R_25_1.id,),
        details={"contract_id": row.id},
    )
    return contract_reads(ctx, [row])[0]
