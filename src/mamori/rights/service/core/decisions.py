"""The request board and its decisions: refuse, extend, fees, closing."""

from __future__ import annotations

import hashlib

from sqlalchemy import update

from mamori.kernel.auditing import authorise, record_info
from mamori.kernel.clock import JST, today_jst
from mamori.kernel.context import Context
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.notify import Message, notifier_for
from mamori.kernel.policy import Action, Resource
from mamori.law import requests as deadlines
from mamori.law.rules import G_12, R_38_1, R_39_1
from mamori.rights import queries
from mamori.rights.models import RightsIdentifier, RightsRequest
from mamori.rights.schemas import (
    FEE_ALLOWED,
    REFUSAL_GROUNDS,
    RequestView,
    rule_for,
)
from mamori.rights.service.core.common import _identifiers, _load, event, subject_ids, view
from mamori.rights.service.core.opening import _open_request
from mamori.rights.service.sealing import (
    destroy_request_keys,
)
from mamori.rights.service.sealing import open_value as _open


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


def close(ctx: Context, req: RightsRequest, outcome: str) -> None:
    """Close the request, drop every claimed value it still holds (only keyed hashes remain) and destroy the
    request's key, so no copy of those values (a backup, an old WAL page) can be opened any more."""
    req.status = "closed"
    req.outcome = outcome
    req.closed_at = ctx.clock.now()
    ctx.session.execute(
        update(RightsIdentifier)
        .where(RightsIdentifier.request_id == req.id)
        .values(value_enc=None, code_hash=None, code_expires_at=None)
    )
    ctx.session.flush()
    destroy_request_keys(ctx, [req.id])


def refuse(ctx: Context, request_id: str, ground: str, explanation: str | None = None) -> RequestView:
    """Refuse with the legal ground (R-33-2, R-35-1 overriding reasons, G-17(3), G-12(5)); the explanation goes
    into the notice to the person and is not stored (it may name people)."""
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    req = _open_request(ctx, request_id)
    spec = REFUSAL_GROUNDS.get(ground)
    if spec is None or req.kind not in spec[1]:
        allowed = sorted(g for g, (_, kinds) in REFUSAL_GROUNDS.items() if req.kind in kinds)
        raise ValidationFailed(
            f"請求種別 {req.kind} の拒否事由は {', '.join(allowed)} のいずれかです。",
            f"Grounds to refuse a {req.kind} request: {', '.join(allowed)}.",
            code="bad_ground",
        )
    if ground.startswith("gdpr_") and req.regime != "gdpr":
        raise ValidationFailed(
            "GDPR の例外事由は GDPR の請求にだけ使えます。",
            "GDPR exceptions apply only to GDPR requests.",
            rule_id=G_12.id,
            code="bad_ground",
        )
    req.refusal_ground = ground
    rule = spec[0]
    notified = _notify_person(
        ctx,
        req,
        "【ご請求への回答】/ answer to your request",
        f"受付番号 {req.id} のご請求には応じられません。根拠: {rule}（{ground}）。"
        + (f"\n理由: {explanation}" if explanation else "")
        + "\n苦情・ご相談は個人情報保護管理者までお申し出ください。",
    )
    close(ctx, req, "refused")
    event(
        ctx,
        req,
        "refused",
        (rule, rule_for(req.kind, req.regime)),
        ground=ground,
        explained=bool(explanation),
        notified=notified,
    )
    return view(ctx, req)


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
        ctx,
        req,
        "【ご請求について】回答期限の延長 / extension of the deadline",
        f"ご請求（受付番号 {req.id}）の回答期限を {new_due.isoformat()} まで延長します。理由: "
        f"{'請求の複雑さ' if reason == 'complexity' else '請求の件数'}。\n"
        f"We extend the deadline of request {req.id} to {new_due.isoformat()} ({reason}).",
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


def _notify_person(ctx: Context, req: RightsRequest, subject: str, body: str) -> bool:
    """Send a notice to the request's email (verified first); False if no email is on file (staff then write)."""
    idents = sorted(_identifiers(ctx, req.id), key=lambda i: i.verified_at is None)
    for ident in idents:
        if ident.kind == "email":
            value = _open(ctx, ident)
            if value:
                notifier_for(ctx.runtime.settings.home_path).send(
                    Message(
                        channel="email",
                        to=value,
                        subject=subject,
                        body=body,
                        subject_ids=tuple(subject_ids(ctx, req.id)),
                        request_id=req.id,
                    ),
                    at=ctx.clock.now(),
                )
                return True
    return False


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
