"""REST routes of the rights slice.

- Staff routes under ``/rights`` (signed-in staff; RIGHTS_INTAKE / RIGHTS_MANAGE decide).
- Public routes under ``/privacy-requests`` for the person: no staff login. The person gets a secret request
  token on filing (sent back in the ``Mamori-Request-Token`` header, never in a URL) and a one-time code by
  email. Attempts are throttled per IP and per identifier, and answers never reveal whether a person exists.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Request, Response, status

from mamori.kernel import labels
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.http.deps import PlainContext, runtime_of
from mamori.kernel.http.problems import responses
from mamori.law.rules import R_37_1
from mamori.rights import service
from mamori.rights.schemas import (
    ExtendIn,
    FeeIn,
    FulfilIn,
    FulfilOut,
    IdentifierIn,
    IdentifierView,
    PublicReceipt,
    PublicRequestIn,
    PublicScopeIn,
    PublicStatus,
    PublicVerifyIn,
    RefuseIn,
    RequestOpen,
    RequestView,
    ScopeIn,
    SendCodeIn,
    VerifyIn,
    VerifyOut,
)
from mamori.rights.service import core, render

router = APIRouter(tags=["rights"])
RequestId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
TokenHeader = Annotated[str, Header(alias="Mamori-Request-Token", min_length=16, max_length=64)]

# Public throttles (per hour), shared with the privacy center's pages: see mamori.rights.service.core.scope.
FILE_PER_IP = core.FILE_PER_IP
FILE_PER_IDENTIFIER = core.FILE_PER_IDENTIFIER
VERIFY_PER_IP = core.VERIFY_PER_IP
VERIFY_PER_REQUEST = core.VERIFY_PER_REQUEST
STATUS_PER_IP = core.STATUS_PER_IP
PACKAGE_PER_REQUEST = core.PACKAGE_PER_REQUEST
_person = core.person


def _lang(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "ja"


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# -- staff ----------------------------------------------------------------------------------------------------


_E = responses(401, 403, 404, 422)


@router.post("/rights", status_code=status.HTTP_201_CREATED, response_model=RequestView, responses=_E)
def open_request(ctx: PlainContext, body: RequestOpen) -> RequestView:
    """請求の受付（電話・郵送・窓口） / take a request from the person."""
    return service.open_request(ctx, body)


@router.get("/rights", response_model=list[RequestView], responses=_E)
def board(ctx: PlainContext, include_closed: bool = False) -> list[RequestView]:
    """期限順の一覧（overdue で期限超過） / the board by due date."""
    return service.board(ctx, include_closed=include_closed)


@router.get("/rights/{request_id}", response_model=RequestView, responses=_E)
def show(ctx: PlainContext, request_id: RequestId) -> RequestView:
    """請求と対応記録 / a request and its handling log."""
    return service.show(ctx, request_id)


@router.post("/rights/{request_id}/identifiers", response_model=IdentifierView, responses=_E)
def add_identifier(ctx: PlainContext, request_id: RequestId, body: IdentifierIn) -> IdentifierView:
    """識別子の追加（確認されるまで誰にも到達しない） / add an identifier."""
    return service.add_identifier(ctx, request_id, body.kind, body.value)


@router.post("/rights/{request_id}/send-code", status_code=204, responses=_E)
def send_code(ctx: PlainContext, request_id: RequestId, body: SendCodeIn) -> Response:
    """確認コードをメールで送る / send a one-time code."""
    service.send_code(ctx, request_id, body.identifier_id)
    return Response(status_code=204)


@router.post("/rights/{request_id}/verify", response_model=VerifyOut, responses=_E)
def verify(ctx: PlainContext, request_id: RequestId, body: VerifyIn) -> VerifyOut:
    """本人確認（R-37-1） / verify the requester. A wrong code is counted, then refused. ``customers_reached`` is
    given to the privacy officer only (null for other staff: a call-back is no test of who is a customer)."""
    if body.method == "login":
        service.verify_login(ctx, request_id)
    if body.method == "email_code":
        if not body.identifier_id or not body.code:
            raise _missing("identifier_id, code")
        result = service.verify_code(ctx, request_id, body.identifier_id, body.code)
        if not result.verified:
            # Answered (not raised) so that the attempt counter is committed with the transaction.
            return VerifyOut(
                verified=False, customers_reached=result.subjects, attempts_left=result.attempts_left
            )
        return VerifyOut(verified=True, customers_reached=result.subjects)
    if body.method == "callback":
        if not body.identifier_id:
            raise _missing("identifier_id")
        return VerifyOut(
            verified=True, customers_reached=service.verify_callback(ctx, request_id, body.identifier_id)
        )
    if not body.customer_id or not body.document:
        raise _missing("customer_id, document")
    return VerifyOut(
        verified=True,
        customers_reached=service.verify_document(ctx, request_id, body.customer_id, body.document),
    )


def _missing(fields: str) -> Exception:
    from mamori.kernel.errors import ValidationFailed

    return ValidationFailed(
        f"{fields} が必要です。", f"{fields} required.", rule_id=R_37_1.id, code="missing"
    )


@router.get("/rights/{request_id}/categories", response_model=dict[str, int], responses=_E)
def categories(ctx: PlainContext, request_id: RequestId) -> dict[str, int]:
    """保有している区分と件数 / categories held for the verified person."""
    return service.held_categories(ctx, request_id)


@router.post("/rights/{request_id}/scope", response_model=RequestView, responses=_E)
def scope(ctx: PlainContext, request_id: RequestId, body: ScopeIn) -> RequestView:
    """範囲を区分で絞る / narrow the request."""
    return service.set_scope(ctx, request_id, body.categories)


@router.post(
    "/rights/{request_id}/fulfil",
    response_model=FulfilOut,
    responses={
        **_E,
        200: {
            "content": {
                "application/json": {},
                "text/csv": {},
                "text/html": {},
                "application/pdf": {},
            }
        },
    },
)
def fulfil(ctx: PlainContext, request_id: RequestId, body: FulfilIn) -> Any:
    """請求に対応（全データ源を通じて）。開示は format に応じて JSON / CSV / HTML / PDF で返す（保存しない）。"""
    outcome, package = service.fulfil(
        ctx,
        request_id,
        partial_refusals=dict(body.partial_refusals),
        refusal_explanation=body.refusal_explanation,
        corrections=[(c.source, c.record_id, dict(c.changes)) for c in body.corrections],
    )
    if package is not None and body.format != "json":
        from mamori.kernel.clock import today_jst

        data = render.render(package, body.format, today_jst(ctx.clock), settings=ctx.runtime.settings)
        return Response(
            content=data,
            media_type=render.MEDIA_TYPES[body.format],
            headers={"Mamori-Outcome": outcome.outcome, "Cache-Control": "no-store"},
        )
    return FulfilOut(outcome=outcome, package=package)


@router.post("/rights/{request_id}/refuse", response_model=RequestView, responses=_E)
def refuse(ctx: PlainContext, request_id: RequestId, body: RefuseIn) -> RequestView:
    """拒否（事由つき） / refuse with the legal ground."""
    return service.refuse(ctx, request_id, body.ground, body.explanation, body.alternative)


@router.post("/rights/{request_id}/extend", response_model=RequestView, responses=_E)
def extend(ctx: PlainContext, request_id: RequestId, body: ExtendIn) -> RequestView:
    """GDPR の期限延長（G-12） / extend a GDPR deadline."""
    return service.extend(ctx, request_id, body.months, body.reason)


@router.post("/rights/{request_id}/fee", response_model=RequestView, responses=_E)
def fee(ctx: PlainContext, request_id: RequestId, body: FeeIn) -> RequestView:
    """手数料（R-38-1） / set the fee."""
    return service.set_fee(ctx, request_id, body.yen)


# -- public: the person ---------------------------------------------------------------------------------------


_P = responses(404, 422, 429)


@router.post(
    "/privacy-requests",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PublicReceipt,
    responses=_P,
    tags=["privacy-center"],
)
def file_request(request: Request, body: PublicRequestIn) -> PublicReceipt:
    """本人からの請求（ログイン不要）。登録済みメールに確認コードを送ります。顧客かどうかは回答しません。"""
    rt = runtime_of(request)
    lang = _lang(request)
    with rt.transaction(_person(), lang=lang) as ctx:
        service.throttle(
            ctx,
            [
                ("file-ip", _ip(request), FILE_PER_IP),
                # counted under the address's keyed digest (normalised), which an erasure can find and drop
                ("file-id", str(body.email), FILE_PER_IDENTIFIER),
            ],
        )
    data = RequestOpen.model_validate(
        {
            "kind": body.kind,
            "regime": body.regime,
            "channel": "web",
            "emails": [body.email],
            "customer_id": body.customer_id,
            "categories": body.categories,
            "purpose": body.purpose,
            "stop_scope": body.stop_scope,
            "notice_version": body.notice_version,
        }
    )
    with rt.transaction(_person(), lang=lang) as ctx:
        v, token = service.open_public(ctx, data)
    return PublicReceipt(
        request_id=v.id,
        receipt_no=v.receipt_no,
        token=token,
        due_on=v.due_on,
        message=(
            f"受け付けました（回答期限 {labels.fmt_date(v.due_on)}）。ご登録のメールアドレスであれば、"
            "本人確認コードをお送りしました。お問い合わせの際は受付番号をお伝えください。"
        )
        if lang == "ja"
        else (
            f"Received (answer due {labels.fmt_date(v.due_on, 'en')}). If the address is registered with us, "
            "a verification code has been sent. Please quote the receipt number when you contact us."
        ),
    )


@router.post(
    "/privacy-requests/{request_id}/verify",
    response_model=PublicStatus,
    responses=_P,
    tags=["privacy-center"],
)
def public_verify(
    request: Request, request_id: RequestId, token: TokenHeader, body: PublicVerifyIn
) -> PublicStatus:
    """メールの確認コードで本人確認 / verify with the emailed code."""
    rt = runtime_of(request)
    lang = _lang(request)
    with rt.transaction(_person(request_id), lang=lang) as ctx:
        service.throttle(
            ctx, [("verify-ip", _ip(request), VERIFY_PER_IP), ("verify-req", request_id, VERIFY_PER_REQUEST)]
        )
    with rt.transaction(_person(request_id), lang=lang) as ctx:
        result = service.public_verify(ctx, request_id, token, body.code)
    if not result.verified:
        raise PolicyDenied(
            "確認コードが一致しないか期限切れです。",
            "Wrong or expired code.",
            rule_id=R_37_1.id,
            code="verification_failed",
        )
    with rt.transaction(_person(request_id), lang=lang) as ctx:
        return service.public_status(ctx, request_id, token)


@router.get(
    "/privacy-requests/{request_id}", response_model=PublicStatus, responses=_P, tags=["privacy-center"]
)
def public_status(request: Request, request_id: RequestId, token: TokenHeader) -> PublicStatus:
    """請求の状況（本人確認後は保有している区分も） / the request's status."""
    rt = runtime_of(request)
    with rt.transaction(_person(request_id), lang=_lang(request)) as ctx:
        service.throttle(ctx, [("status-ip", _ip(request), STATUS_PER_IP)])
    with rt.transaction(_person(request_id), lang=_lang(request)) as ctx:
        return service.public_status(ctx, request_id, token)


@router.post(
    "/privacy-requests/{request_id}/scope", response_model=PublicStatus, responses=_P, tags=["privacy-center"]
)
def public_scope(
    request: Request, request_id: RequestId, token: TokenHeader, body: PublicScopeIn
) -> PublicStatus:
    """範囲を区分で絞る（本人確認後） / narrow the request after verification."""
    rt = runtime_of(request)
    with rt.transaction(_person(request_id), lang=_lang(request)) as ctx:
        return service.public_scope(ctx, request_id, token, body.categories)


@router.get(
    "/privacy-requests/{request_id}/package",
    responses={
        **_P,
        403: responses(403)[403],
        200: {"content": {"application/json": {}, "text/csv": {}, "text/html": {}, "application/pdf": {}}},
    },
    tags=["privacy-center"],
)
def public_package(
    request: Request,
    request_id: RequestId,
    token: TokenHeader,
    format: Literal["json", "csv", "html", "pdf"] = "json",
) -> Response:
    """開示の回答をダウンロード（回答から30日以内、保存はしない） / download the answer to a disclosure request."""
    rt = runtime_of(request)
    with rt.transaction(_person(request_id), lang=_lang(request)) as ctx:
        service.throttle(
            ctx,
            [("package-ip", _ip(request), VERIFY_PER_IP), ("package-req", request_id, PACKAGE_PER_REQUEST)],
        )
    with rt.transaction(_person(request_id), lang=_lang(request)) as ctx:
        package = service.public_package(ctx, request_id, token)
        from mamori.kernel.clock import today_jst

        data = render.render(package, format, today_jst(ctx.clock), settings=ctx.runtime.settings)
    return Response(
        content=data, media_type=render.MEDIA_TYPES[format], headers={"Cache-Control": "no-store"}
    )
