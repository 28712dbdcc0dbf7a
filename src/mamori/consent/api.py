"""REST routes of the consent ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from mamori.consent import service
from mamori.consent.schemas import (
    ConsentEventRead,
    ConsentIn,
    ConsentRequest,
    ConsentSummary,
    ContactPreference,
)
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/customers/{customer_id}", tags=["consent"])
CustomerId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.get("/consents", response_model=ConsentSummary, responses=responses(401, 403, 404, 422))
def show_consents(ctx: PlainContext, customer_id: CustomerId) -> ConsentSummary:
    """同意の現在の状態と台帳 / current state and the ledger."""
    return service.show(ctx, customer_id)


@router.post(
    "/consents",
    status_code=status.HTTP_201_CREATED,
    response_model=ConsentEventRead,
    responses=responses(401, 403, 404, 422),
)
def record_consent(ctx: PlainContext, customer_id: CustomerId, body: ConsentRequest) -> ConsentEventRead:
    """同意・撤回を記録（撤回は直ちに反映、G-7） / record a grant or a withdrawal."""
    data = ConsentIn(
        method=body.method,
        notice_version=body.notice_version,
        evidence=body.evidence,
        occurred_at=body.occurred_at,
        guardian=body.guardian,
    )
    if body.sensitive:
        fn = service.grant_sensitive if body.action == "grant" else service.withdraw_sensitive
        return fn(ctx, customer_id, data)
    fn2 = service.grant if body.action == "grant" else service.withdraw
    return fn2(ctx, customer_id, body.purpose or "", data)


@router.post(
    "/contact-preferences",
    status_code=status.HTTP_201_CREATED,
    response_model=ConsentEventRead,
    responses=responses(401, 403, 404, 422),
)
def contact_preference(
    ctx: PlainContext, customer_id: CustomerId, body: ContactPreference
) -> ConsentEventRead:
    """連絡手段ごとの連絡停止・解除 / per-channel do-not-contact."""
    data = ConsentIn(method=body.method, notice_version=body.notice_version, evidence=body.evidence)
    fn = service.allow_contact if body.allow else service.do_not_contact
    return fn(ctx, customer_id, body.channel, data)
