"""REST routes of the processors slice: /api/v1/processors/… (委託先の管理, R-25-1)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status

from mamori.kernel.http.deps import PlainContext, PrincipalDep, require_body_purposes
from mamori.kernel.http.problems import responses
from mamori.processors import service
from mamori.processors.schemas import (
    AuditRead,
    AuditResultIn,
    AuditScheduleIn,
    ContractCreate,
    ContractDetail,
    ContractRead,
    CoverageRead,
    CustomerIds,
    CustomersIn,
    DecisionIn,
    EndIn,
    EvaluationIn,
    EvaluationRead,
    Handover,
    HandoverIn,
    HandoverRecord,
    OperatorCreate,
    OperatorRead,
    RemedyIn,
    SubcontractIn,
    SubcontractRead,
)

router = APIRouter(prefix="/processors", tags=["processors"])
Id = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
R_READ = responses(401, 403, 404, 422)
R_WRITE = responses(401, 403, 404, 409, 422)


@router.get("/contracts", response_model=list[ContractRead], responses=R_READ)
def list_contracts(
    ctx: PlainContext,
    status_filter: Annotated[
        Literal["draft", "active", "suspended", "ended"] | None, Query(alias="status")
    ] = None,
) -> list[ContractRead]:
    """委託契約の一覧（監査期限切れの件数つき） / contracts with overdue audits."""
    return service.list_contracts(ctx, status_filter)


@router.post(
    "/contracts", status_code=status.HTTP_201_CREATED, response_model=ContractRead, responses=R_WRITE
)
def add_contract(ctx: PlainContext, who: PrincipalDep, body: ContractCreate) -> ContractRead:
    """委託契約を登録（下書き） / record a contract (draft)."""
    require_body_purposes(who, body)
    return service.add_contract(ctx, body)


@router.get("/contracts/{contract_id}", response_model=ContractDetail, responses=R_READ)
def show_contract(ctx: PlainContext, contract_id: Id) -> ContractDetail:
    return service.show_contract(ctx, contract_id)


@router.post(
    "/contracts/{contract_id}/evaluations",
    status_code=status.HTTP_201_CREATED,
    response_model=EvaluationRead,
    responses=R_WRITE,
)
def evaluate(ctx: PlainContext, contract_id: Id, body: EvaluationIn) -> EvaluationRead:
    """選定評価（GL-T 10 の各項目） / selection evaluation."""
    return service.evaluate(ctx, contract_id, body)


@router.post("/contracts/{contract_id}/activate", response_model=ContractRead, responses=R_WRITE)
def activate(ctx: PlainContext, contract_id: Id) -> ContractRead:
    """開始（全条項と合格した選定評価が必要, R-25-1） / activate."""
    return service.activate(ctx, contract_id)


@router.post("/contracts/{contract_id}/end", response_model=ContractRead, responses=R_WRITE)
def end(ctx: PlainContext, contract_id: Id, body: EndIn) -> ContractRead:
    """終了（返却・削除の確認を記録） / end the contract."""
    return service.end(ctx, contract_id, body)


@router.get("/contracts/{contract_id}/customers", response_model=CustomerIds, responses=R_READ)
def covered(ctx: PlainContext, contract_id: Id) -> CustomerIds:
    return CustomerIds(contract_id=contract_id, customer_ids=service.covered_customers(ctx, contract_id))


@router.post("/contracts/{contract_id}/customers", response_model=CoverageRead, responses=R_WRITE)
def assign(ctx: PlainContext, who: PrincipalDep, contract_id: Id, body: CustomersIn) -> CoverageRead:
    """対象顧客を追加（ID 指定または利用目的で） / cover customers by id or by purpose."""
    require_body_purposes(who, body)
    return service.assign_customers(ctx, contract_id, body)


@router.post("/contracts/{contract_id}/customers/remove", response_model=CoverageRead, responses=R_WRITE)
def remove(ctx: PlainContext, who: PrincipalDep, contract_id: Id, body: CustomersIn) -> CoverageRead:
    """対象顧客から外す / stop covering customers."""
    require_body_purposes(who, body)
    return service.remove_customers(ctx, contract_id, body.customer_ids)


@router.get("/audits", response_model=list[AuditRead], responses=R_READ)
def list_audits(
    ctx: PlainContext,
    contract_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")] = None,
    overdue: bool = False,
) -> list[AuditRead]:
    return service.list_audits(ctx, contract_id, overdue_only=overdue)


@router.post(
    "/contracts/{contract_id}/audits",
    status_code=status.HTTP_201_CREATED,
    response_model=AuditRead,
    responses=R_WRITE,
)
def schedule_audit(ctx: PlainContext, contract_id: Id, body: AuditScheduleIn) -> AuditRead:
    return service.schedule_audit(ctx, contract_id, body)


@router.post("/audits/{audit_id}/result", response_model=AuditRead, responses=R_WRITE)
def record_audit(ctx: PlainContext, audit_id: Id, body: AuditResultIn) -> AuditRead:
    """監査結果（不合格は契約を停止） / record a result (a failure suspends the contract)."""
    return service.record_audit(ctx, audit_id, body)


@router.post("/audits/{audit_id}/remedy", response_model=AuditRead, responses=R_WRITE)
def remedy_audit(ctx: PlainContext, audit_id: Id, body: RemedyIn) -> AuditRead:
    return service.remedy_audit(ctx, audit_id, body)


@router.post(
    "/contracts/{contract_id}/subcontracts",
    status_code=status.HTTP_201_CREATED,
    response_model=SubcontractRead,
    responses=R_WRITE,
)
def request_subcontract(ctx: PlainContext, contract_id: Id, body: SubcontractIn) -> SubcontractRead:
    return service.request_subcontract(ctx, contract_id, body)


@router.post("/subcontracts/{subcontract_id}/approve", response_model=SubcontractRead, responses=R_WRITE)
def approve_subcontract(ctx: PlainContext, subcontract_id: Id, body: DecisionIn) -> SubcontractRead:
    return service.approve_subcontract(ctx, subcontract_id, body)


@router.post("/subcontracts/{subcontract_id}/refuse", response_model=SubcontractRead, responses=R_WRITE)
def refuse_subcontract(ctx: PlainContext, subcontract_id: Id, body: DecisionIn) -> SubcontractRead:
    return service.refuse_subcontract(ctx, subcontract_id, body)


@router.get("/operators", response_model=list[OperatorRead], responses=R_READ)
def list_operators(
    ctx: PlainContext, contract_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")] = None
) -> list[OperatorRead]:
    return service.list_operators(ctx, contract_id)


@router.post(
    "/contracts/{contract_id}/operators",
    status_code=status.HTTP_201_CREATED,
    response_model=OperatorRead,
    responses=R_WRITE,
)
def add_operator(ctx: PlainContext, contract_id: Id, body: OperatorCreate) -> OperatorRead:
    """委託先オペレーターのアカウント（role outsourcee, MFA 必須） / open an operator account."""
    return service.add_operator(ctx, contract_id, body)


@router.get("/contracts/{contract_id}/handovers", response_model=list[HandoverRecord], responses=R_READ)
def list_handovers(ctx: PlainContext, contract_id: Id) -> list[HandoverRecord]:
    return service.list_handovers(ctx, contract_id)


@router.post(
    "/contracts/{contract_id}/handovers",
    status_code=status.HTTP_201_CREATED,
    response_model=Handover,
    responses=R_WRITE,
)
def handover(ctx: PlainContext, contract_id: Id, body: HandoverIn) -> Handover:
    """引渡し（契約の項目だけ、値は記録に残さない, R-25-1） / hand the contract's data over, logged."""
    return service.handover(ctx, contract_id, body, method="api")
