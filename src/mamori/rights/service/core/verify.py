"""Verifying the person (R-37-1): e-mail codes, call-backs, ID documents, login; resolving the regime."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass, replace

from mamori.customers.service import subjects as customer_subjects
from mamori.kernel.auditing import authorise
from mamori.kernel.context import Context
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Action, Resource, decide
from mamori.kernel.runtime import all_rows
from mamori.law.rules import R_37_1
from mamori.rights.models import RightsIdentifier, RightsRequest, RightsSubject
from mamori.rights.service.core.common import CODE_MAX_ATTEMPTS, _identifiers, event, subject_ids
from mamori.rights.service.core.opening import _add_identifier, _due, _ident, _open_request
from mamori.rights.service.sealing import (
    KEY_CODES,
)
from mamori.rights.service.sealing import mac as _mac
from mamori.rights.service.sealing import open_value as _open


@dataclass(frozen=True)
class VerifyResult:
    verified: bool
    attempts_left: int
    subjects: int | None = 0  # None: hidden from this staff member (see may_see_reach)


def may_see_reach(ctx: Context) -> bool:
    """Whether the actor may learn how many customers a verified identifier reached: only who manages requests
    (the privacy officer). Anyone else with intake could otherwise call back any number and learn from the answer
    whether it belongs to a customer (issue 17); for them the figure is left out. Not a refusal: nothing is
    denied, so nothing is audited as one."""
    return decide(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request")).allowed


def _shown(ctx: Context, reached: int) -> int | None:
    return reached if may_see_reach(ctx) else None


def _check_code(ctx: Context, req: RightsRequest, ident: RightsIdentifier, code: str) -> VerifyResult:
    """Never raises on a wrong code: the attempt counter must be committed. The edge reports the failure."""
    if ident.verified_at is not None:
        return VerifyResult(True, CODE_MAX_ATTEMPTS - ident.code_attempts, len(subject_ids(ctx, req.id)))
    if ident.code_hash is None or ident.code_attempts >= CODE_MAX_ATTEMPTS:
        return VerifyResult(False, 0)
    if ident.code_expires_at is None or ctx.clock.now() > ident.code_expires_at:
        ident.code_hash = None
        event(ctx, req, "code_expired", (R_37_1.id,), identifier_id=ident.id)
        return VerifyResult(False, 0)
    ident.code_attempts += 1
    expected = _mac(ctx, KEY_CODES, ident.id, code.strip())
    if not hmac.compare_digest(expected, bytes(ident.code_hash)):
        left = CODE_MAX_ATTEMPTS - ident.code_attempts
        if left <= 0:
            ident.code_hash = None
        event(ctx, req, "verify_failed", (R_37_1.id,), identifier_id=ident.id, attempts_left=left)
        return VerifyResult(False, max(left, 0))
    ident.code_hash = None
    n = _mark_verified(ctx, req, ident, method="email_code")
    return VerifyResult(True, CODE_MAX_ATTEMPTS - ident.code_attempts, n)


def verify_code(ctx: Context, request_id: str, identifier_id: str, code: str) -> VerifyResult:
    """Staff enter the code the person read out; see also public_verify."""
    authorise(ctx, Action.RIGHTS_INTAKE, Resource(kind="rights_request"))
    req = _open_request(ctx, request_id)
    result = _check_code(ctx, req, _ident(ctx, req, identifier_id), code)
    return replace(result, subjects=_shown(ctx, result.subjects or 0))


def verify_callback(ctx: Context, request_id: str, identifier_id: str) -> int | None:
    """Staff called the REGISTERED number back and the person answered (R-37-1). Returns customers reached, or
    None for a staff member who may not see it (:func:`may_see_reach`)."""
    authorise(ctx, Action.RIGHTS_INTAKE, Resource(kind="rights_request"))
    req = _open_request(ctx, request_id)
    ident = _ident(ctx, req, identifier_id)
    if ident.kind != "phone":
        raise ValidationFailed(
            "折り返し電話で確認できるのは電話番号だけです。",
            "Only a phone number can be verified by a call-back.",
            rule_id=R_37_1.id,
            code="callback_needs_phone",
        )
    return _shown(ctx, _mark_verified(ctx, req, ident, method="callback"))


def verify_document(ctx: Context, request_id: str, customer_id: str, document: str) -> int:
    """A privacy officer checked an ID document and chose the customer it identifies (recorded)."""
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    from mamori.rights.schemas import ID_DOCUMENTS

    if document not in ID_DOCUMENTS:
        raise ValidationFailed(
            f"本人確認書類は {', '.join(ID_DOCUMENTS)} のいずれかです。",
            f"The ID document must be one of {', '.join(ID_DOCUMENTS)}.",
            rule_id=R_37_1.id,
            code="bad_document",
        )
    req = _open_request(ctx, request_id)
    if customer_id not in customer_subjects.existing(ctx, [customer_id]):
        raise NotFound("顧客が見つかりません。", "Customer not found.", code="customer_not_found")
    ident = _add_identifier(ctx, req, "customer", customer_id)
    ident.document = document
    return _mark_verified(ctx, req, ident, method="id_document", customer_id=customer_id)


def verify_login(ctx: Context, request_id: str) -> int:
    raise ValidationFailed(
        "会員ログインによる本人確認はまだ提供していません（メールの確認コード、折り返し電話、本人確認書類を使ってください）。",
        "Verification by a registered login is not available yet (use an email code, a call-back or an ID document).",
        rule_id=R_37_1.id,
        code="login_unavailable",
    )


def _locate(ctx: Context, kind: str, value: str) -> list[str]:
    """The customers a verified identifier reaches — every customer, whatever the verifying staff member's own row
    scope (a sales rep may take a request; the person's request covers all their data, R-37-1). On PostgreSQL the
    row-level security of 0017 is lifted for this look-up only; what the rep learns of it is limited by
    ``customers_reached`` (privacy officer only)."""
    with all_rows(ctx):
        return list(customer_subjects.locate(ctx, kind, value))


def _mark_verified(
    ctx: Context, req: RightsRequest, ident: RightsIdentifier, *, method: str, customer_id: str | None = None
) -> int:
    now = ctx.clock.now()
    ident.verified_at = now
    ident.method = method
    ident.checked_by = ctx.actor.label
    ctx.session.flush()
    if ident.kind == "customer":
        reached = [customer_id] if customer_id else []
    else:
        value = _open(ctx, ident)
        reached = _locate(ctx, ident.kind, value) if value is not None else []
    # R-37-1: an email or phone shared by several customers (a household address, a company switchboard) proves
    # control of that contact, not which of them is asking. It reaches someone only when a second verified
    # identifier of this request reaches the same customer (or when it reaches exactly one customer).
    shared = len(reached) > 1
    if shared:
        others: set[str] = set(subject_ids(ctx, req.id))
        for other in _identifiers(ctx, req.id):
            if other.id != ident.id and other.verified_at is not None and other.kind != "customer":
                other_value = _open(ctx, other)
                found = _locate(ctx, other.kind, other_value) if other_value else []
                if len(found) == 1:  # two shared contacts of one household do not tell its members apart
                    others.update(found)
        reached = [cid for cid in reached if cid in others]
    have = set(subject_ids(ctx, req.id))
    for cid in reached:
        if cid not in have:
            ctx.session.add(
                RightsSubject(request_id=req.id, customer_id=cid, identifier_id=ident.id, added_at=now)
            )
    ctx.session.flush()
    req.status = "verified"
    _resolve_regime(ctx, req)
    event(
        ctx,
        req,
        "verified",
        (R_37_1.id,),
        identifier_id=ident.id,
        kind=ident.kind,
        method=method,
        document=ident.document,
        customers_reached=len(reached),
        shared_identifier=shared,
    )
    # 受付のお知らせ (issue 18): once per request, when the person's address is proven (delivery.send_received
    # sends it only to a verified e-mail and only once).
    from mamori.rights.service import delivery

    delivery.send_received(ctx, req)
    return len(reached)


def notified_purposes(ctx: Context, ids: Sequence[str]) -> list[tuple[str, str, int, str]]:
    """(customer id, purpose code, version, how notified) for the purpose notice (R-32-2); codes only."""
    return customer_subjects.notified_purposes(ctx, ids)


def _resolve_regime(ctx: Context, req: RightsRequest) -> None:
    """GDPR when a subject's origin is EU/UK (G-45) and no regime was chosen at intake; due date follows."""
    if req.regime_source == "chosen":
        return
    ids = subject_ids(ctx, req.id)
    if not ids:
        return
    gdpr = bool(customer_subjects.gdpr_subjects(ctx, ids))
    regime = "gdpr" if gdpr else "appi"
    if regime != req.regime:
        req.regime = regime
        req.regime_source = "origin"
        req.due_on = _due(regime, req.received_at)
        ctx.session.flush()


def _require_verified(ctx: Context, req: RightsRequest) -> list[str]:
    if not any(i.verified_at is not None for i in _identifiers(ctx, req.id)):
        raise PolicyDenied(
            "本人確認が済んでいないため、内容を表示・変更できません。",
            "The requester is not verified: nothing can be shown or changed.",
            rule_id=R_37_1.id,
            code="not_verified",
        )
    return subject_ids(ctx, req.id)


# -- scope (seed 003: 「特定するに足りる事項」) ------------------------------------------------------------------
