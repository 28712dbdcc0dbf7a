"""REST routes of the consent ledger.

An API token limited to some purposes (issue 17) is bound to them here too: a grant or withdrawal for a purpose
outside the token's purposes is refused (R-23-2); such a token cannot grant 要配慮 consent or lift a
do-not-contact either (no purpose of it covers them). Withdrawals of 要配慮 consent and do-not-contact — the person
asking us to stop — are never blocked by a token's purposes."""

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
from mamori.kernel.http.deps import PlainContext, Principal, PrincipalDep, require_token_purpose
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/customers/{customer_id}", tags=["consent"])
CustomerId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.get("/consents", response_model=ConsentSummary, responses=responses(401, 403, 404, 422))
def show_consents(ctx: PlainContext, customer_id: CustomerId) -> ConsentSummary:
    """同意の現在の状態と台帳（連絡手段ごとの状態: opt_in / opt_out / none） / current state and the ledger."""
    return service.show(ctx, customer_id)


def _no_purpose_limit(who: Principal) -> None:
    """A purpose-limited token may not make a grant that no purpose of it covers (R-23-2)."""
    if who.purposes is not None:
        require_token_purpose(who, "")  # "" is never a token purpose: refused with the usual message


@router.post(
    "/consents",
    status_code=status.HTTP_201_CREATED,
    response_model=ConsentEventRead,
    responses=responses(401, 403, 404, 422),
)
def record_consent(
    ctx: PlainContext, who: PrincipalDep, customer_id: CustomerId, body: ConsentRequest
) -> ConsentEventRead:
    """同意・撤回を記録（撤回は直ちに反映、G-7） / record a grant or a withdrawal."""
    if body.sensitive:
        if body.action == "grant":
            _no_purpose_limit(who)
    else:
        require_token_purpose(who, body.purpose or "")
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
    ctx: PlainContext, who: PrincipalDep, customer_id: CustomerId, body: ContactPreference
) -> ConsentEventRead:
    """連絡手段ごとの連絡停止（``allow: false``、R-35-1）と受信の同意（``allow: true``: オプトイン。広告宣伝のメール・SMS
    に必要、特定電子メール法 第3条。方法 ``method`` と証跡 ``evidence`` を記録） / per-channel do-not-contact, or
    opt-in (``allow: true``, with its method and evidence)."""
    if body.allow:
        _no_purpose_limit(who)
    data = ConsentIn(
        method=body.method,
        notice_version=body.notice_version,
        evidence=body.evidence,
        occurred_at=body.occurred_at,
    )
    fn = service.allow_contact if body.allow else service.do_not_contact
    return fn(ctx, customer_id, body.channel, data)
