"""Opening a request (本人からの請求) and adding identifiers; sending a verification code (R-37-1)."""

from __future__ import annotations

import hmac
import secrets
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError

from mamori.kernel.auditing import authorise
from mamori.kernel.clock import JST
from mamori.kernel.context import ActorKind, Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.notice import notice_version
from mamori.kernel.policy import Action, Resource
from mamori.law import requests as deadlines
from mamori.law.rules import G_12, R_21_2, R_37_1, R_38_1
from mamori.rights import queries
from mamori.rights.models import RightsIdentifier, RightsRequest
from mamori.rights.schemas import (
    FEE_ALLOWED,
    GDPR_ONLY,
    IdentifierView,
    RequestOpen,
    RequestView,
    rule_for,
)
from mamori.rights.service import delivery, letters
from mamori.rights.service.core.common import (
    _LEGAL_REP_DOCS,
    _MANDATE_DOCS,
    CODE_TTL,
    _identifiers,
    _load,
    event,
    view,
)
from mamori.rights.service.sealing import (
    KEY_CODES,
    KEY_DIGEST,
    identifier_digest,
    request_key_id,
)
from mamori.rights.service.sealing import mac as _mac
from mamori.rights.service.sealing import open_value as _open
from mamori.rights.service.sealing import seal_value as _seal


def _check_open(data: RequestOpen) -> None:
    if data.kind in GDPR_ONLY and data.regime == "appi":
        raise ValidationFailed(
            f"請求種別 {data.kind} は GDPR の権利です。",
            f"Request kind {data.kind} is a GDPR right.",
            rule_id=G_12.id,
            code="gdpr_only_kind",
        )
    if data.fee_yen and data.kind not in FEE_ALLOWED:
        raise PolicyDenied(
            "手数料を徴収できるのは利用目的の通知と開示の請求だけです。",
            "A fee may be charged only for purpose notification and disclosure.",
            rule_id=R_38_1.id,
            code="fee_not_allowed",
        )
    if data.agent_kind and not data.agent_document:
        raise ValidationFailed(
            "代理人による請求では、確認した代理権の書類を記録してください。",
            "A request by an agent needs the document that proves the authority.",
            rule_id=R_37_1.id,
            code="agent_document_required",
        )
    if data.agent_kind == "legal_representative" and data.agent_document not in _LEGAL_REP_DOCS:
        raise ValidationFailed(
            "法定代理人の確認書類は戸籍謄本または登記事項証明書です。",
            "A legal representative is proven by a family register or a guardianship registry extract.",
            rule_id=R_37_1.id,
            code="agent_document_mismatch",
        )
    if data.agent_kind == "mandated_agent" and data.agent_document not in _MANDATE_DOCS:
        raise ValidationFailed(
            "任意代理人の確認書類は委任状（と印鑑登録証明書）です。",
            "A mandated agent is proven by a power of attorney (with a seal certificate).",
            rule_id=R_37_1.id,
            code="agent_document_mismatch",
        )
    if data.agent_document and not data.agent_kind:
        raise ValidationFailed(
            "代理権の書類には代理人の種別が必要です。",
            "An agent document needs the agent kind.",
            rule_id=R_37_1.id,
            code="agent_kind_required",
        )
    if data.kind == "stop_use" and data.stop_scope == "purpose" and not data.purpose:
        raise ValidationFailed(
            "目的単位の利用停止には利用目的コードが必要です。",
            "A stop-use of one purpose needs the purpose code.",
            code="purpose_required",
        )


def _add_identifier(ctx: Context, req: RightsRequest, kind: str, value: str) -> RightsIdentifier:
    digest = identifier_digest(
        ctx, kind, value
    )  # also validates the form (ValidationFailed, no value echoed)
    for existing in _identifiers(ctx, req.id):
        if existing.kind == kind and hmac.compare_digest(existing.digest, digest):
            return existing
    ident = RightsIdentifier(
        id=new_id(),
        request_id=req.id,
        kind=kind,
        digest=digest,
        code_attempts=0,
        created_at=ctx.clock.now(),
    )
    if kind != "customer":
        ident.value_enc = _seal(ctx, req.id, ident.id, value)
    else:
        ident.value_enc = None
    ctx.session.add(ident)
    ctx.session.flush()
    return ident


def _create(ctx: Context, data: RequestOpen, *, token_hash: bytes | None) -> RightsRequest:
    _check_open(data)
    received = data.received_at or ctx.clock.now()
    if received.tzinfo is None:
        raise ValidationFailed(
            "受付日時にはタイムゾーンが必要です。", "received_at must be aware.", code="naive"
        )
    regime = data.regime or ("gdpr" if data.kind in GDPR_ONLY else "appi")
    source = "chosen" if data.regime or data.kind in GDPR_ONLY else "default"
    # Validate what was typed before a key is made (ValidationFailed, no value echoed).
    for email in data.emails:
        identifier_digest(ctx, "email", str(email))
    for phone in data.phones:
        identifier_digest(ctx, "phone", phone)
    request_id = new_id()
    # The request's own data key, committed in the keystore before anything is sealed under it.
    ctx.runtime.keystore.create_data_keys([request_key_id(request_id)])
    req = RightsRequest(
        id=request_id,
        receipt_no="",
        lang="en" if ctx.lang == "en" else "ja",  # the letters and e-mails to the person use it
        kind=data.kind,
        regime=regime,
        regime_source=source,
        channel=data.channel,
        status="received",
        received_at=received,
        due_on=_due(regime, received),
        agent_kind=data.agent_kind,
        agent_document=data.agent_document,
        categories=",".join(data.categories) if data.categories else None,
        purpose=data.purpose,
        stop_scope=data.stop_scope or _default_scope(data),
        fee_yen=data.fee_yen,
        withheld_count=0,
        token_hash=token_hash,
        created_by=ctx.actor.label,
    )
    _number(ctx, req)
    for email in data.emails:
        _add_identifier(ctx, req, "email", str(email))
    for phone in data.phones:
        _add_identifier(ctx, req, "phone", phone)
    if data.customer_id:
        _add_identifier(ctx, req, "customer", data.customer_id)
    event(
        ctx,
        req,
        "received",
        (rule_for(req.kind, regime), R_37_1.id),
        subjects=(),
        kind=req.kind,
        regime=regime,
        regime_source=source,
        channel=req.channel,
        identifiers=len(data.emails) + len(data.phones) + (1 if data.customer_id else 0),
        agent_kind=data.agent_kind,
        agent_document=data.agent_document,
        ground=data.ground,
        fee_yen=data.fee_yen,
    )
    return req


RECEIPT_NO = r"^R-\d{4}-\d{6}$"


def _number(ctx: Context, req: RightsRequest) -> None:
    """Give the request its 受付番号 — R-<year of receipt in JST>-<sequence of that year> — and add it. Two
    intakes racing for one number (PostgreSQL) meet the unique constraint; the loser takes the next number."""
    year = req.received_at.astimezone(JST).year
    prefix = f"R-{year}-"
    for _attempt in range(5):
        last = ctx.session.execute(queries.last_receipt_no(prefix)).scalar_one_or_none()
        req.receipt_no = f"{prefix}{int(last[len(prefix) :]) + 1 if last else 1:06d}"
        try:
            with ctx.session.begin_nested():
                ctx.session.add(req)
                ctx.session.flush()
            return
        except IntegrityError:
            continue
    raise ValidationFailed(
        "受付番号を採番できませんでした。もう一度お試しください。",
        "Could not assign a receipt number; please try again.",
        code="receipt_no_busy",
    )


def _default_scope(data: RequestOpen) -> str | None:
    if data.kind == "stop_use":
        return "purpose" if data.purpose else "all"
    if data.kind == "stop_provision":
        return "provision"
    if data.kind == "restriction":
        return "all"  # G-18: restriction = stop every use but storage
    if data.kind == "objection":
        return "purpose" if data.purpose else "all"  # G-21(3): objection to direct marketing is absolute
    return None


def _due(regime: str, received: datetime) -> date:
    day = received.astimezone(JST).date()
    return deadlines.due_date(regime, day, deadlines.appi_sla_days())


def open_request(ctx: Context, data: RequestOpen) -> RequestView:
    """Staff take a request (phone, letter, counter): RIGHTS_INTAKE (support, sales, privacy officer)."""
    authorise(ctx, Action.RIGHTS_INTAKE, Resource(kind="rights_request"))
    return view(ctx, _create(ctx, data, token_hash=None))


def open_public(ctx: Context, data: RequestOpen) -> tuple[RequestView, str]:
    """The person files a request (public endpoint). A one-time code goes to each email given; the answer is the
    same whether or not anyone with these identifiers is a customer."""
    if ctx.actor.kind != ActorKind.PERSON:
        raise PolicyDenied("本人用の受付です。", "This intake is for the person.", code="person_only")
    if data.agent_kind:
        raise ValidationFailed(
            "代理人による請求は窓口・郵送で受け付けます（代理権の書類の確認が必要です）。",
            "Requests by agents are taken by staff, who check the authority document.",
            rule_id=R_37_1.id,
            code="agent_by_staff_only",
        )
    if data.fee_yen is not None:
        raise ValidationFailed("手数料は事業者が定めます。", "The operator sets fees.", code="fee_not_input")
    if not data.emails:
        raise ValidationFailed(
            "本人確認のため、登録済みのメールアドレスを入力してください。",
            "Give your registered email address so we can verify you.",
            rule_id=R_37_1.id,
            code="email_required",
        )
    _require_notice_shown(ctx, data.notice_version)
    data = data.model_copy(update={"channel": "web"})
    token = secrets.token_urlsafe(24)
    req = _create(ctx, data, token_hash=b"")
    req.notice_version = data.notice_version
    req.token_hash = _mac(ctx, KEY_DIGEST, "token", req.id, token)
    ctx.session.flush()
    for ident in _identifiers(ctx, req.id):
        if ident.kind == "email":
            _send_code(ctx, req, ident)
    return view(ctx, req, with_events=False), token


def _require_notice_shown(ctx: Context, version: int | None) -> None:
    """R-21-2: a form that takes the person's data states the purposes before submission. The privacy center's
    form shows the published notice (公表事項) and sends the version it showed; a request naming no published
    version was not preceded by the notice and is refused (nothing is stored)."""
    if version is None or notice_version(ctx, version) is None:
        raise ValidationFailed(
            "送信前に表示した公表事項（利用目的）の版が確認できません。公表事項を表示してから送信してください。",
            "The form must show the published notice (the purposes) before submission and send its version.",
            rule_id=R_21_2.id,
            code="notice_not_shown",
        )


def add_identifier(ctx: Context, request_id: str, kind: str, value: str) -> IdentifierView:
    """Staff add an identifier the requester gives (it reaches nobody until verified)."""
    authorise(ctx, Action.RIGHTS_INTAKE, Resource(kind="rights_request"))
    if kind not in ("email", "phone"):
        raise ValidationFailed("識別子は email または phone です。", "kind: email or phone.", code="bad_kind")
    req = _open_request(ctx, request_id)
    ident = _add_identifier(ctx, req, kind, value)
    event(ctx, req, "identifier_added", (R_37_1.id,), kind=kind, identifier_id=ident.id)
    return IdentifierView(id=ident.id, kind=ident.kind, verified=ident.verified_at is not None)


def _open_request(ctx: Context, request_id: str) -> RightsRequest:
    req = _load(ctx, request_id)
    if req.status == "closed":
        raise PolicyDenied("この請求は対応済みです。", "This request is closed.", code="request_closed")
    if req.answer_state is not None:  # answered; waiting for the answer to reach the person (delivery)
        raise PolicyDenied(
            "この請求には回答済みです（回答の送付を待っています）。",
            "This request has been answered; the answer is on its way to the person.",
            code="request_answered",
        )
    return req


# -- verification (R-37-1) --------------------------------------------------------------------------------------


def _ident(ctx: Context, req: RightsRequest, identifier_id: str) -> RightsIdentifier:
    for i in _identifiers(ctx, req.id):
        if i.id == identifier_id:
            return i
    raise NotFound("識別子が見つかりません。", "Identifier not found.", code="identifier_not_found")


def _send_code(ctx: Context, req: RightsRequest, ident: RightsIdentifier) -> None:
    value = _open(ctx, ident)
    if ident.kind != "email" or value is None:
        raise ValidationFailed(
            "確認コードはメールアドレスにだけ送れます。",
            "A one-time code can only be sent to an email address.",
            rule_id=R_37_1.id,
            code="code_needs_email",
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    ident.code_hash = _mac(ctx, KEY_CODES, ident.id, code)
    ident.code_expires_at = ctx.clock.now() + CODE_TTL
    ident.code_attempts = 0
    ctx.session.flush()
    # Queued (sealed) in this transaction and delivered after the commit (kernel.mail); the code itself is kept
    # only as a keyed hash here, and the queued copy is erased once sent.
    delivery.send(
        ctx, req, letters.code_email(ctx, req, code, ident.code_expires_at), delivery.TOPIC_CODE, to=value
    )
    event(ctx, req, "code_sent", (R_37_1.id,), identifier_id=ident.id, channel="email")


def send_code(ctx: Context, request_id: str, identifier_id: str) -> None:
    """(Re)send a one-time code to the email identifier (staff, on the person's behalf)."""
    authorise(ctx, Action.RIGHTS_INTAKE, Resource(kind="rights_request"))
    req = _open_request(ctx, request_id)
    _send_code(ctx, req, _ident(ctx, req, identifier_id))
