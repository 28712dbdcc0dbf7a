"""REST routes of the provision slice (thin: parse, call the service, return)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, status

from mamori.customers.service.importing import ImportReport
from mamori.kernel.http.deps import PlainContext, PrincipalDep, require_body_purposes, runtime_of
from mamori.kernel.http.problems import responses
from mamori.provision import jobs, service
from mamori.provision.schemas import (
    ConfirmationRead,
    CounterpartyDetail,
    CounterpartyIn,
    CounterpartyRead,
    ImproperIn,
    InfoSheetIn,
    InfoSheetRead,
    JointUseChangeIn,
    JointUseIn,
    JointUseRead,
    OptOutChangeIn,
    OptOutIn,
    OptOutRead,
    ProvideIn,
    ProvisionConsentIn,
    ProvisionConsentRead,
    ProvisionResult,
    PurgeResult,
    ReceiveIn,
    ReceiveRequest,
    ReceiveResponse,
    RecordRead,
    ReferableConfirmIn,
    ReferableProvideIn,
    ReferableResult,
    RelayConsentIn,
    RelayOpenIn,
    RelayRead,
    ReviewIn,
)
from mamori.provision.service import joint_use, opt_out, referable, relay

router = APIRouter(tags=["provision"])
Id = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
OptId = Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")]
R = responses(401, 403, 404, 409, 422)


# --- counterparties -----------------------------------------------------------------------------------------


@router.post(
    "/counterparties", status_code=status.HTTP_201_CREATED, response_model=CounterpartyRead, responses=R
)
def add_counterparty(ctx: PlainContext, body: CounterpartyIn) -> CounterpartyRead:
    """提供先を登録 / register a counterparty."""
    return service.add_counterparty(ctx, body)


@router.get("/counterparties", response_model=list[CounterpartyRead], responses=R)
def list_counterparties(
    ctx: PlainContext,
    kind: Annotated[Literal["third_party", "outsourcee", "joint_user", "succession"] | None, Query()] = None,
) -> list[CounterpartyRead]:
    """提供先の一覧（警告つき） / list counterparties with alerts (R-28-3)."""
    return service.list_counterparties(ctx, kind)


@router.get("/counterparties/{counterparty_id}", response_model=CounterpartyDetail, responses=R)
def show_counterparty(ctx: PlainContext, counterparty_id: Id) -> CounterpartyDetail:
    return CounterpartyDetail(
        counterparty=service.get_counterparty(ctx, counterparty_id),
        sheets=service.sheets(ctx, counterparty_id),
    )


@router.post(
    "/counterparties/{counterparty_id}/sheets",
    status_code=status.HTTP_201_CREATED,
    response_model=InfoSheetRead,
    responses=R,
)
def add_sheet(ctx: PlainContext, counterparty_id: Id, body: InfoSheetIn) -> InfoSheetRead:
    """外国の制度等の情報（新しい版, R-28-2） / a new information sheet version."""
    return service.add_sheet(ctx, counterparty_id, body)


@router.post("/counterparties/{counterparty_id}/reviews", response_model=CounterpartyRead, responses=R)
def review(ctx: PlainContext, counterparty_id: Id, body: ReviewIn) -> CounterpartyRead:
    """基準適合体制の年次確認（R-28-3） / yearly review."""
    return service.review(ctx, counterparty_id, body)


# --- consents -------------------------------------------------------------------------------------------------


@router.post(
    "/provision-consents",
    status_code=status.HTTP_201_CREATED,
    response_model=ProvisionConsentRead,
    responses=R,
)
def grant_consent(ctx: PlainContext, who: PrincipalDep, body: ProvisionConsentIn) -> ProvisionConsentRead:
    require_body_purposes(who, body)
    return service.grant_consent(ctx, body)


@router.get("/provision-consents", response_model=list[ProvisionConsentRead], responses=R)
def list_consents(
    ctx: PlainContext, customer_id: OptId = None, counterparty_id: OptId = None
) -> list[ProvisionConsentRead]:
    return service.list_consents(ctx, customer_id, counterparty_id)


@router.post("/provision-consents/{consent_id}/withdraw", response_model=ProvisionConsentRead, responses=R)
def withdraw_consent(ctx: PlainContext, consent_id: Id) -> ProvisionConsentRead:
    return service.withdraw_consent(ctx, consent_id)


# --- provide, records -----------------------------------------------------------------------------------------


@router.post("/provisions", status_code=status.HTTP_201_CREATED, response_model=ProvisionResult, responses=R)
def provide(ctx: PlainContext, who: PrincipalDep, body: ProvideIn) -> ProvisionResult:
    """第三者提供（本人ごとの根拠確認・記録つき）。拒否は 403 で details.refused に本人IDと規則ID /
    provide data; refusals come back as 403 with details.refused (id + rule id)."""
    require_body_purposes(who, body)
    return service.provide(ctx, body)


@router.post("/provision-lineage/improper", status_code=status.HTTP_204_NO_CONTENT, responses=R)
def mark_improper(ctx: PlainContext, body: ImproperIn) -> None:
    """不正取得の印（R-27-5） / mark improperly acquired data."""
    service.mark_improper(ctx, body.customer_id, body.reference)


@router.get("/provision-records", response_model=list[RecordRead], responses=R)
def list_records(
    ctx: PlainContext,
    counterparty_id: OptId = None,
    customer_id: OptId = None,
    direction: Annotated[Literal["provided", "received"] | None, Query()] = None,
) -> list[RecordRead]:
    return service.list_records(
        ctx, counterparty_id=counterparty_id, customer_id=customer_id, direction=direction
    )


@router.get("/provision-records/{record_id}", response_model=RecordRead, responses=R)
def show_record(ctx: PlainContext, record_id: Id) -> RecordRead:
    return service.show_record(ctx, record_id)


@router.post("/provision-records/purge-expired", response_model=PurgeResult, responses=R)
def purge_expired(ctx: PlainContext, apply: Annotated[bool, Query()] = False) -> PurgeResult:
    """保存期間（R-29-4）を過ぎた記録の削除（apply=true でなければ確認のみ） / purge expired records (dry run unless
    apply=true)."""
    return service.purge_expired(ctx, apply=apply)


# --- receipts ---------------------------------------------------------------------------------------------------


@router.post("/receipts", status_code=status.HTTP_201_CREATED, response_model=ReceiveResponse, responses=R)
def receive(request: Request, who: PrincipalDep, body: ReceiveRequest) -> ReceiveResponse:
    """第三者からの受領（R-30-1 の確認 → 取込 → R-30-2 の記録） / receive data from a third party."""
    require_body_purposes(who, body)
    data = ReceiveIn.model_validate(body.model_dump(exclude={"purposes", "csv", "skip_bad_rows"}))
    report: ImportReport
    report, receipt = jobs.receive_file(  # the CSV stays in memory: never a file on disk
        runtime_of(request),
        who.actor,
        body.csv.encode("utf-8"),
        data,
        purposes=list(body.purposes),
        skip_bad_rows=body.skip_bad_rows,
    )
    return ReceiveResponse.model_validate({"import": report.to_dict(), "receipt": receipt})


# --- joint use, opt-out -----------------------------------------------------------------------------------------


@router.post("/joint-uses", status_code=status.HTTP_201_CREATED, response_model=JointUseRead, responses=R)
def declare_joint_use(ctx: PlainContext, who: PrincipalDep, body: JointUseIn) -> JointUseRead:
    require_body_purposes(who, body)
    return joint_use.declare(ctx, body)


@router.get("/joint-uses", response_model=list[JointUseRead], responses=R)
def list_joint_uses(ctx: PlainContext) -> list[JointUseRead]:
    return joint_use.list_declarations(ctx)


@router.get("/joint-uses/{declaration_id}", response_model=JointUseRead, responses=R)
def show_joint_use(ctx: PlainContext, declaration_id: Id) -> JointUseRead:
    return joint_use.show(ctx, declaration_id)


@router.post("/joint-uses/{declaration_id}/changes", response_model=JointUseRead, responses=R)
def change_joint_use(ctx: PlainContext, declaration_id: Id, body: JointUseChangeIn) -> JointUseRead:
    """共同利用の変更（R-27-3） / change joint use."""
    return joint_use.change(ctx, declaration_id, body)


@router.post("/opt-out-filings", status_code=status.HTTP_201_CREATED, response_model=OptOutRead, responses=R)
def file_opt_out(ctx: PlainContext, who: PrincipalDep, body: OptOutIn) -> OptOutRead:
    require_body_purposes(who, body)
    return opt_out.file(ctx, body)


@router.get("/opt-out-filings", response_model=list[OptOutRead], responses=R)
def list_opt_out(ctx: PlainContext) -> list[OptOutRead]:
    return opt_out.list_filings(ctx)


@router.get("/opt-out-filings/{filing_id}", response_model=OptOutRead, responses=R)
def show_opt_out(ctx: PlainContext, filing_id: Id) -> OptOutRead:
    return opt_out.show(ctx, filing_id)


@router.post("/opt-out-filings/{filing_id}/changes", response_model=OptOutRead, responses=R)
def change_opt_out(ctx: PlainContext, filing_id: Id, body: OptOutChangeIn) -> OptOutRead:
    """オプトアウト事項の変更（R-27-6） / change an opt-out filing."""
    return opt_out.change(ctx, filing_id, body)


# --- referable, relay -------------------------------------------------------------------------------------------


@router.post(
    "/referable/confirmations",
    status_code=status.HTTP_201_CREATED,
    response_model=ConfirmationRead,
    responses=R,
)
def confirm_referable(ctx: PlainContext, body: ReferableConfirmIn) -> ConfirmationRead:
    return ConfirmationRead(confirmation_id=referable.confirm(ctx, body))


@router.post(
    "/referable/provisions", status_code=status.HTTP_201_CREATED, response_model=ReferableResult, responses=R
)
def provide_referable(ctx: PlainContext, body: ReferableProvideIn) -> ReferableResult:
    return referable.provide(ctx, body)


@router.post("/relays", status_code=status.HTTP_201_CREATED, response_model=RelayRead, responses=R)
def open_relay(ctx: PlainContext, body: RelayOpenIn) -> RelayRead:
    """連絡先の開示を断り伝言を受け付ける（R-27-1） / refuse disclosure, accept a relayed message."""
    return relay.open_relay(ctx, body)


@router.post("/relays/{relay_id}/consent", response_model=RelayRead, responses=R)
def relay_consent(ctx: PlainContext, relay_id: Id, body: RelayConsentIn) -> RelayRead:
    """相手方の回答を記録（取次の前でも後でも。取次後の提供同意は連絡先をこの応答で渡す） / record the other
    customer's answer, before or after delivery (after delivery, a consent to share returns the contact here)."""
    return relay.consent(ctx, relay_id, body)


@router.post("/relays/{relay_id}/deliver", response_model=RelayRead, responses=R)
def relay_deliver(ctx: PlainContext, relay_id: Id) -> RelayRead:
    """伝言を取り出して取り次ぐ（1回限り、回答の前でも後でも） / take the message for delivery (once, before or
    after the answer)."""
    return relay.deliver(ctx, relay_id)
