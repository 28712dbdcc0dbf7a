"""REST routes of the customers slice: parse, call the service (which decides and audits), render."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status

from mamori.customers import jobs, service
from mamori.customers.schemas import (
    ActivityCreated,
    ActivityIn,
    ActivityRead,
    AttributeIn,
    AttributeWrite,
    Created,
    CustomerCreateRequest,
    CustomerImportRequest,
    CustomerPage,
    CustomerUpdate,
    CustomerView,
    FindRequest,
    NoticeExceptionIn,
    NoticeIn,
    NoticeResult,
    PendingNoticeList,
    PurposeNoticeRead,
)
from mamori.customers.service import import_mapping, importing
from mamori.kernel import idempotency
from mamori.kernel.errors import MamoriError, ValidationFailed
from mamori.kernel.http.deps import (
    PageDep,
    PlainContext,
    PrincipalDep,
    PurposeContext,
    require_body_purposes,
    require_token_purpose,
    runtime_of,
)
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/customers", tags=["customers"])


class PreconditionRequired(MamoriError):
    code = "precondition_required"
    http_status = 428


def _etag(version: int) -> str:
    return f'"v{version}"'


CREATE_SCOPE = "POST /api/v1/customers"
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        description="再送しても二重登録しないためのキー（1〜200 文字、24 時間保持、送信者ごと）。同じキーと同じ内容なら"
        "最初の応答（同じ id）を返し、内容が違えば 422 idempotency_key_reused / a key that makes a retry safe "
        "(1-200 characters, kept 24 hours, per caller): the same key with the same body returns the first answer "
        "(the same id); with another body, 422 idempotency_key_reused.",
    ),
]


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=Created, responses=responses(401, 403, 409, 422)
)
def create_customer(
    ctx: PlainContext,
    who: PrincipalDep,
    body: CustomerCreateRequest,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Created:
    """顧客を登録する（Idempotency-Key で再送も一度だけ） / create a customer (purposes notified at collection are
    required; an Idempotency-Key makes a retry create nothing twice)."""
    if idempotency_key is not None:
        idempotency.check_key(idempotency_key)
    require_body_purposes(who, body)
    if idempotency_key is not None:
        fingerprint = idempotency.request_hash(body.model_dump(mode="json"))
        replay = idempotency.begin(ctx, CREATE_SCOPE, idempotency_key, fingerprint)
        if replay is not None:  # the first answer again: nothing is created twice
            response.status_code = replay.status_code
            response.headers["Idempotent-Replayed"] = "true"
            return Created(id=replay.resource_id or "")
    view = service.create(
        ctx,
        body.customer,
        provenance=body.provenance,
        purposes=body.purposes,
        sensitive_basis=body.sensitive_basis,
        sensitive_consent=body.sensitive_consent,
    )
    if idempotency_key is not None:
        idempotency.complete(ctx, CREATE_SCOPE, idempotency_key, status.HTTP_201_CREATED, view.id)
    return Created(id=view.id)


@router.post(
    "/imports",
    status_code=status.HTTP_201_CREATED,
    response_model=dict[str, object],
    responses=responses(401, 403, 404, 422),
)
def import_customers(request: Request, who: PrincipalDep, body: CustomerImportRequest) -> dict[str, object]:
    """CSV / Excel の一括登録（第三者・事業承継は受領の確認と記録を同じ処理単位で, R-30-1） / import customers.

    The file is ``csv`` (UTF-8 text) or ``file_base64`` (any file the CLI reads: .xlsx, CP932 / UTF-16 text);
    ``map`` / ``seps`` / ``mapping_name`` as the CLI's --map / --sep / --mapping; ``dry_run`` writes nothing and
    returns the same report. The file is held in memory, never written to disk."""
    require_body_purposes(who, body)
    if body.file_base64 is not None:
        try:
            data = base64.b64decode(body.file_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed(
                "file_base64 が base64 として読めません。",
                "file_base64 is not valid base64.",
                code="bad_base64",
            ) from None
    else:
        data = (body.csv or "").encode("utf-8")
    rt = runtime_of(request)
    mapping = None
    if body.mapping_name:
        with rt.transaction(who.actor, readonly=True) as ctx:
            mapping = import_mapping.get(ctx, body.mapping_name)
    if body.map or body.seps:
        given = importing.parse_mapping(body.map, body.seps)
        mapping = (
            given
            if mapping is None
            else mapping.model_copy(update={"fields": {**mapping.fields, **given.fields}})
        )
    report = jobs.run_import(
        rt,
        who.actor,
        data,
        file_name=body.file_name,
        source=body.source,
        purposes=list(body.purposes),
        provenance=body.provenance,
        mapping=mapping,
        sheet=body.sheet,
        id_system=body.id_system,
        skip_bad_rows=body.skip_bad_rows,
        on_duplicate=body.on_duplicate,
        dry_run=body.dry_run,
    )
    return report.to_dict(
        "en" if request.headers.get("accept-language", "").lower().startswith("en") else "ja"
    )


@router.get("", response_model=CustomerPage, responses=responses(401, 403, 422))
def list_customers(ctx: PurposeContext, page: PageDep) -> CustomerPage:
    """担当範囲の顧客一覧（カーソル方式） / the customers in your scope for the declared purpose."""
    items, cursor = service.list_page(ctx, after=page.cursor, limit=page.limit)
    return CustomerPage(items=items, next_cursor=cursor)


@router.post("/find", response_model=CustomerPage, responses=responses(401, 403, 422))
def find_customers(ctx: PurposeContext, body: FindRequest) -> CustomerPage:
    """メール・電話・氏名・フリガナ・顧客番号で完全一致検索 / exact-match lookup (one criterion; a customer
    number optionally with its issuing system)."""
    return CustomerPage(
        items=service.find(
            ctx,
            email=body.email,
            phone=body.phone,
            name=body.name,
            kana=body.kana,
            customer_no=body.customer_no,
            system=body.system,
        ),
        next_cursor=None,
    )


CustomerId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="顧客ID（推測できないランダム値）")]


@router.get("/{customer_id}", response_model=CustomerView, responses=responses(401, 403, 404, 422))
def get_customer(ctx: PurposeContext, customer_id: CustomerId, response: Response) -> CustomerView:
    """顧客を読む（目的の範囲外はマスク、拒否は理由の条項付き） / read a customer for the declared purpose."""
    view = service.get(ctx, customer_id, include_activities=False)
    response.headers["ETag"] = _etag(view.version)
    return view


@router.patch(
    "/{customer_id}", response_model=CustomerView, responses=responses(401, 403, 404, 412, 422, 428)
)
def update_customer(
    ctx: PurposeContext,
    customer_id: CustomerId,
    body: CustomerUpdate,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match", description="GET で得た ETag")] = None,
) -> CustomerView:
    """訂正・更新（If-Match 必須：他の担当者の更新を上書きしない） / update; If-Match is required."""
    if not if_match:
        raise PreconditionRequired(
            "If-Match ヘッダー（ETag）が必要です。", "An If-Match header (ETag) is required."
        )
    try:
        version = int(if_match.strip().strip('"').removeprefix("W/").strip('"').removeprefix("v"))
    except ValueError:
        raise ValidationFailed(
            "If-Match の形式が不正です。", "Malformed If-Match.", code="bad_etag"
        ) from None
    view = service.update(ctx, customer_id, body, expected_version=version)
    response.headers["ETag"] = _etag(view.version)
    return view


@router.post(
    "/{customer_id}/attributes",
    status_code=status.HTTP_201_CREATED,
    response_model=dict[str, str],
    responses=responses(401, 403, 404, 422),
)
def add_attribute(ctx: PurposeContext, customer_id: CustomerId, body: AttributeWrite) -> dict[str, str]:
    """属性の追加・置換（要配慮は同意台帳の同意か例外事由が必要 R-20-2） / add or replace an attribute."""
    attribute = AttributeIn.model_validate(body.model_dump(exclude={"sensitive_exception"}))
    service.add_attribute(ctx, customer_id, attribute, sensitive_exception=body.sensitive_exception)
    return {"key": attribute.key, "category": attribute.category.value}


@router.get(
    "/{customer_id}/activities", response_model=list[ActivityRead], responses=responses(401, 403, 404, 422)
)
def list_activities(ctx: PurposeContext, customer_id: CustomerId) -> list[ActivityRead]:
    """購入・問い合わせ・通話・メモの履歴 / activities (behaviour data: the purpose must cover it)."""
    view = service.get(ctx, customer_id, include_activities=True)
    if "activities" in view.masked:
        return []
    return view.activities


@router.post(
    "/{customer_id}/activities",
    status_code=status.HTTP_201_CREATED,
    response_model=ActivityCreated,
    responses=responses(401, 403, 404, 422),
)
def add_activity(ctx: PurposeContext, customer_id: CustomerId, body: ActivityIn) -> ActivityCreated:
    """対応履歴を記録（要配慮を含むメモは同意なしで拒否 R-20-2） / log an activity."""
    aid, warnings = service.add_activity(ctx, customer_id, body)
    return ActivityCreated(id=aid, warnings=warnings)


# -- purpose notices (R-17-2, R-21-1, R-21-3) ----------------------------------------------------------------
PurposeCode = Annotated[str, Query(pattern=r"^[a-z][a-z0-9_-]{1,63}$", description="利用目的コード")]


@router.get("/pending-notice", response_model=PendingNoticeList, responses=responses(401, 403, 404, 422))
def pending_notice(ctx: PlainContext, who: PrincipalDep, purpose: PurposeCode) -> PendingNoticeList:
    """新しい版の通知がまだ必要な本人と、通知等の例外（R-17-2, R-21-3） / who still needs the new notice."""
    require_token_purpose(who, purpose)
    return service.notices.pending(ctx, purpose)


# "/pending-notice" is matched before "/{customer_id}" (routes are tried in order).
router.routes.insert(
    next(i for i, r in enumerate(router.routes) if getattr(r, "path", "") == "/customers/{customer_id}"),
    router.routes.pop(),
)


@router.post("/notices", response_model=NoticeResult, responses=responses(401, 403, 404, 422))
def record_notices(ctx: PlainContext, who: PrincipalDep, body: NoticeIn) -> NoticeResult:
    """利用目的の現在の版を通知したことを記録（R-17-2, R-21-1） / record that persons were notified."""
    require_body_purposes(who, body)
    return service.notices.notify(ctx, body)


@router.post(
    "/{customer_id}/notice-exceptions",
    status_code=status.HTTP_201_CREATED,
    response_model=PurposeNoticeRead,
    responses=responses(401, 403, 404, 422),
)
def record_notice_exception(
    ctx: PlainContext, who: PrincipalDep, customer_id: CustomerId, body: NoticeExceptionIn
) -> PurposeNoticeRead:
    """通知等の例外を事由とともに記録（法21条4項、R-21-3） / record a notice exception with its ground."""
    require_body_purposes(who, body)
    return service.notices.record_exception(ctx, customer_id, body)
