"""The request board and its decisions: refuse, extend, fees, closing."""

from __future__ import annotations

import hashlib

from mamori.kernel import labels
from mamori.kernel.auditing import authorise, record_info
from mamori.kernel.clock import JST, today_jst
from mamori.kernel.context import Context
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.policy import Action, Resource
from mamori.law import requests as deadlines
from mamori.law.rules import G_12, R_33_2, R_35_1, R_38_1, R_39_1
from mamori.rights import grounds, queries
from mamori.rights.grounds import GROUNDS, MIN_EXPLANATION, Ground
from mamori.rights.models import RightsRequest
from mamori.rights.schemas import (
    FEE_ALLOWED,
    RequestView,
    rule_for,
)
from mamori.rights.service import delivery, letters
from mamori.rights.service.core.common import _load, event, subject_ids, view
from mamori.rights.service.core.common import close as close  # re-exported: core.close
from mamori.rights.service.core.opening import _open_request
from mamori.rights.service.sealing import (
    seal_reason,
)


def board(ctx: Context, *, include_closed: bool = False, limit: int = 200) -> list[RequestView]:
    """Requests by due date; overdue ones flagged (R-39-1 / G-12)."""
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    rows = list(ctx.session.execute(queries.board(include_closed, limit)).scalars())
    return [view(ctx, r, with_events=False) for r in rows]


def show(ctx: Context, request_id: str) -> RequestView:
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    req = _load(ctx, request_id)
    record_info(ctx, "rights.show", subject_ids(ctx, req.id), details={"request_id": req.id})
    return view(ctx, req)


# -- refusal, extension, fee, closing -------------------------------------------------------------------------------


def refuse(
    ctx: Context,
    request_id: str,
    ground: str,
    explanation: str | None = None,
    alternative: str | None = None,
) -> RequestView:
    """Refuse on a ground of the request's own regime (mamori.rights.grounds), with the concrete reason the
    person is told (法第36条; GDPR 12(4)) and, under 法第35条 ただし書, the alternative measure taken instead.

    The explanation and the alternative are sealed under a system key (evidence of the decision) and stated in
    the notice; a refusal without them is refused."""
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    req = _open_request(ctx, request_id)
    spec = check_ground(req.kind, req.regime, ground)
    reason = require_explanation(spec, explanation)
    alt = (alternative or "").strip() or None
    if spec.needs_alternative and (alt is None or len(alt) < MIN_EXPLANATION):
        raise ValidationFailed(
            "利用停止等に代わる措置をとる場合は、その措置の内容を具体的に記入してください。",
            "Say what alternative measure is taken instead of stopping use.",
            rule_id=R_35_1.id,
            code="alternative_required",
        )
    if alt is not None and not spec.needs_alternative:
        raise ValidationFailed(
            "代替措置は、事由 alternative_measure（法第35条ただし書）のときだけ記入します。",
            "An alternative measure goes with the ground alternative_measure only.",
            rule_id=R_35_1.id,
            code="alternative_not_applicable",
        )
    req.refusal_ground = ground
    req.refusal_explanation_enc = seal_reason(ctx, req.id, "refusal_explanation_enc", reason)
    if alt is not None:
        req.alternative_measure_enc = seal_reason(ctx, req.id, "alternative_measure_enc", alt)
    # The request stays open until the refusal reaches the person (delivery.answer: sending → the delivered hook
    # closes it; no e-mail → posted and recorded).
    state = delivery.answer(
        ctx, req, "refused", letters.refusal_notice(ctx, req, spec, reason, alt), delivery.TOPIC_REFUSAL
    )
    notified = state == delivery.SENDING
    event(
        ctx,
        req,
        "refused",
        tuple(dict.fromkeys((*spec.rule_ids(req.kind), rule_for(req.kind, req.regime)))),
        ground=ground,
        explained=True,
        alternative=alt is not None,
        notified=notified,
    )
    return view(ctx, req)


def check_ground(kind: str, regime: str, ground: str) -> Ground:
    """The ground, if it belongs to the request's regime and can refuse its kind; else a ValidationFailed that
    lists the grounds that can (a GDPR exception never closes an APPI request, nor the reverse)."""
    spec = GROUNDS.get(ground)
    if spec is not None and spec.applies_to(kind, regime):
        return spec
    allowed = [g.code for g in grounds.for_request(kind, regime)]
    other = spec is not None and kind in spec.kinds  # a ground of the other regime
    regime_ja = labels.value("regime", regime)
    raise ValidationFailed(
        (f"{regime_ja}の請求には使えない事由です。" if other else "この請求の種類には使えない事由です。")
        + f"使える事由: {labels.choices('refusal_ground', allowed)}",
        ("That ground belongs to the other regime. " if other else "That ground cannot refuse this kind. ")
        + f"Grounds for a {kind} request under {regime.upper()}: {', '.join(allowed)}",
        rule_id=(G_12.id if regime == "gdpr" else rule_for(kind, regime)) if other else None,
        code="bad_ground",
    )


def require_explanation(spec: Ground, explanation: str | None) -> str:
    """法第36条 (GDPR 12(4)): the person is told why, concretely — not only the ground's words."""
    text = (explanation or "").strip()
    if len(text) < MIN_EXPLANATION or text in (spec.reason_ja, spec.reason_en):
        raise ValidationFailed(
            f"本人に伝える具体的な理由を {MIN_EXPLANATION} 文字以上で記入してください。"
            "事由の名前だけでは説明になりません（法第36条）。",
            f"Give the person a concrete explanation of at least {MIN_EXPLANATION} characters; "
            "the ground's name alone is not a reason.",
            rule_id=spec.rule_id if spec.regime == "gdpr" else R_33_2.id,
            code="explanation_required",
        )
    return text


def extend(ctx: Context, request_id: str, months: int, reason: str) -> RequestView:
    """GDPR only: one extension by up to two months, notified with its reason within the first month (G-12)."""
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    req = _open_request(ctx, request_id)
    if reason not in ("complexity", "volume"):
        raise ValidationFailed(
            "延長理由は complexity（複雑さ）または volume（件数）です。",
            "The reason must be complexity or volume.",
            rule_id=G_12.id,
            code="bad_reason",
        )
    if req.regime != "gdpr":
        raise PolicyDenied(
            "個人情報保護法の請求は遅滞なく対応します（延長の制度はありません）。",
            "APPI requests are answered without delay; there is no extension.",
            rule_id=R_39_1.id,
            code="no_extension_appi",
        )
    received = req.received_at.astimezone(JST).date()
    new_due = deadlines.gdpr_extended_due(
        received, today_jst(ctx.clock), months, already_extended=req.extended_due_on is not None
    )
    req.extended_due_on = new_due
    req.extension_reason = reason
    req.extension_notified_at = ctx.clock.now()
    ctx.session.flush()
    notified = _notify_person(
        ctx, req, letters.extension_notice(ctx, req, new_due, reason), delivery.TOPIC_EXTENSION
    )
    event(
        ctx,
        req,
        "extended",
        (G_12.id,),
        months=months,
        reason=reason,
        new_due=new_due.isoformat(),
        notified=notified,
    )
    return view(ctx, req)


def _notify_person(ctx: Context, req: RightsRequest, email: letters.Email, topic: str) -> bool:
    """Queue a notice to the request's e-mail (a verified one first); False if no e-mail is on file (staff then
    write). Delivered after the commit through the kernel's mail queue (retried, recorded)."""
    return delivery.send(ctx, req, email, topic) is not None


def set_fee(ctx: Context, request_id: str, fee_yen: int) -> RequestView:
    """Fees only for purpose notification and disclosure (R-38-1)."""
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    req = _open_request(ctx, request_id)
    if fee_yen < 0 or fee_yen > 10_000:
        raise ValidationFailed("手数料は 0〜10000 円です。", "The fee must be 0-10000 yen.", code="bad_fee")
    if fee_yen and req.kind not in FEE_ALLOWED:
        raise PolicyDenied(
            "訂正等・利用停止等の請求には手数料を徴収できません。",
            "No fee may be charged for correction or stop-use requests.",
            rule_id=R_38_1.id,
            code="fee_not_allowed",
        )
    req.fee_yen = fee_yen
    ctx.session.flush()
    event(ctx, req, "fee_set", (R_38_1.id,), fee_yen=fee_yen)
    return view(ctx, req)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
