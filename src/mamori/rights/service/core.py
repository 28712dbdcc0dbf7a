"""Intake, identity verification, scope, the board, refusal, extension and fees of requests from the person.

Identity (R-37-1): nothing is shown or changed before the requester is verified, and every identifier used to
find the person's data is itself verified. The subject set of a request is exactly the customers reached by
verified identifiers: an email proven by a one-time code, a phone confirmed by a call-back to the registered
number, or a customer id chosen by staff after checking an ID document. A claimed but unverified identifier
reaches nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import update

from mamori.customers.service import subjects as customer_subjects
from mamori.kernel import registry
from mamori.kernel.auditing import authorise, record_info, record_write
from mamori.kernel.clock import JST, today_jst
from mamori.kernel.context import ActorKind, Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import MamoriError, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.notify import Message, notifier_for
from mamori.kernel.policy import Action, Resource
from mamori.law import requests as deadlines
from mamori.law.rules import G_12, R_37_1, R_38_1, R_39_1
from mamori.rights import queries
from mamori.rights.models import RightsAttempt, RightsEvent, RightsIdentifier, RightsRequest, RightsSubject
from mamori.rights.schemas import (
    FEE_ALLOWED,
    GDPR_ONLY,
    REFUSAL_GROUNDS,
    EventView,
    IdentifierView,
    PublicStatus,
    RequestOpen,
    RequestView,
    rule_for,
)
from mamori.rights.service.sealing import (
    KEY_CODES,
    KEY_DIGEST,
    destroy_request_keys,
    identifier_digest,
    request_key_id,
    throttle_digest,
)
from mamori.rights.service.sealing import mac as _mac
from mamori.rights.service.sealing import open_value as _open
from mamori.rights.service.sealing import seal_value as _seal

CODE_TTL = timedelta(minutes=15)
CODE_MAX_ATTEMPTS = 5
_LEGAL_REP_DOCS = frozenset({"family_register", "guardianship_registry"})
_MANDATE_DOCS = frozenset({"power_of_attorney", "seal_certificate"})


class TooManyAttempts(MamoriError):
    code = "too_many_attempts"
    http_status = 429


def _not_found() -> NotFound:
    # The same answer for "no such request" and "wrong token": a request id alone reveals nothing.
    return NotFound("請求が見つかりません。", "Request not found.", code="request_not_found")


# -- loading, events, views -----------------------------------------------------------------------------------


def _load(ctx: Context, request_id: str) -> RightsRequest:
    row = ctx.session.execute(queries.request(request_id)).scalar_one_or_none()
    if row is None:
        raise _not_found()
    return row


def subject_ids(ctx: Context, request_id: str) -> list[str]:
    return list(ctx.session.execute(queries.subjects(request_id)).scalars())


def _identifiers(ctx: Context, request_id: str) -> list[RightsIdentifier]:
    return list(ctx.session.execute(queries.identifiers(request_id)).scalars())


def event(
    ctx: Context,
    req: RightsRequest,
    name: str,
    rule_ids: Sequence[str] = (),
    subjects: Sequence[str] | None = None,
    **details: str | int | bool | None,
) -> None:
    """Append one line to the handling log and the audit chain (ids, counts, codes only — never a value)."""
    ctx.session.add(
        RightsEvent(
            request_id=req.id,
            event=name,
            actor=ctx.actor.label,
            at=ctx.clock.now(),
            rule_ids=",".join(rule_ids),
            details=json.dumps(details, ensure_ascii=False, sort_keys=True),
        )
    )
    ctx.session.flush()
    who = subjects if subjects is not None else subject_ids(ctx, req.id)
    record_write(
        ctx, f"rights.{name}", who, [], rule_ids=tuple(rule_ids), details={"request_id": req.id, **details}
    )


def view(ctx: Context, req: RightsRequest, *, with_events: bool = True) -> RequestView:
    today = today_jst(ctx.clock)
    due = req.extended_due_on or req.due_on
    idents = _identifiers(ctx, req.id)
    events = (
        [
            EventView(
                seq=e.seq,
                event=e.event,
                actor=e.actor,
                at=e.at,
                rule_ids=[r for r in e.rule_ids.split(",") if r],
                details=json.loads(e.details or "{}"),
            )
            for e in ctx.session.execute(queries.events(req.id)).scalars()
        ]
        if with_events
        else []
    )
    return RequestView(
        id=req.id,
        kind=req.kind,
        regime=req.regime,
        channel=req.channel,
        status=req.status,
        outcome=req.outcome,
        received_at=req.received_at,
        due_on=req.due_on,
        extended_due_on=req.extended_due_on,
        effective_due_on=due,
        overdue=req.status != "closed" and deadlines.is_overdue(due, today),
        days_left=deadlines.days_left(due, today),
        agent_kind=req.agent_kind,
        agent_document=req.agent_document,
        categories=req.categories.split(",") if req.categories else None,
        purpose=req.purpose,
        stop_scope=req.stop_scope,
        fee_yen=req.fee_yen,
        refusal_ground=req.refusal_ground,
        withheld_count=req.withheld_count,
        subject_ids=subject_ids(ctx, req.id),
        identifiers=[
            IdentifierView(
                id=i.id,
                kind=i.kind,
                verified=i.verified_at is not None,
                method=i.method,
                document=i.document,
                checked_by=i.checked_by,
            )
            for i in idents
        ],
        events=events,
        rule_id=rule_for(req.kind, req.regime),
    )


# -- intake -----------------------------------------------------------------------------------------------------


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
    ctx.session.add(req)
    ctx.session.flush()
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
    data = data.model_copy(update={"channel": "web"})
    token = secrets.token_urlsafe(24)
    req = _create(ctx, data, token_hash=b"")
    req.token_hash = _mac(ctx, KEY_DIGEST, "token", req.id, token)
    ctx.session.flush()
    for ident in _identifiers(ctx, req.id):
        if ident.kind == "email":
            _send_code(ctx, req, ident)
    return view(ctx, req, with_events=False), token


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
    notifier = notifier_for(ctx.runtime.settings.home_path)
    notifier.send(
        Message(
            channel="email",
            to=value,
            subject_ids=tuple(subject_ids(ctx, req.id)),
            request_id=req.id,
            subject="【本人確認】確認コード / verification code",
            body=(
                f"ご請求（受付番号 {req.id}）の本人確認コード: {code}\n"
                f"有効期限: {int(CODE_TTL.total_seconds() // 60)} 分。お心当たりがなければ破棄してください。\n"
                f"Verification code for request {req.id}: {code} (valid {int(CODE_TTL.total_seconds() // 60)} min)."
            ),
        ),
        at=ctx.clock.now(),
    )
    event(ctx, req, "code_sent", (R_37_1.id,), identifier_id=ident.id, channel="email")


def send_code(ctx: Context, request_id: str, identifier_id: str) -> None:
    """(Re)send a one-time code to the email identifier (staff, on the person's behalf)."""
    authorise(ctx, Action.RIGHTS_INTAKE, Resource(kind="rights_request"))
    req = _open_request(ctx, request_id)
    _send_code(ctx, req, _ident(ctx, req, identifier_id))


@dataclass(frozen=True)
class VerifyResult:
    verified: bool
    attempts_left: int
    subjects: int = 0


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
    return _check_code(ctx, req, _ident(ctx, req, identifier_id), code)


def verify_callback(ctx: Context, request_id: str, identifier_id: str) -> int:
    """Staff called the REGISTERED number back and the person answered (R-37-1). Returns customers reached."""
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
    return _mark_verified(ctx, req, ident, method="callback")


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
        reached = customer_subjects.locate(ctx, ident.kind, value) if value is not None else []
    # R-37-1: an email or phone shared by several customers (a household address, a company switchboard) proves
    # control of that contact, not which of them is asking. It reaches someone only when a second verified
    # identifier of this request reaches the same customer (or when it reaches exactly one customer).
    shared = len(reached) > 1
    if shared:
        others: set[str] = set(subject_ids(ctx, req.id))
        for other in _identifiers(ctx, req.id):
            if other.id != ident.id and other.verified_at is not None and other.kind != "customer":
                other_value = _open(ctx, other)
                found = customer_subjects.locate(ctx, other.kind, other_value) if other_value else []
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


def _held(ctx: Context, ids: Sequence[str]) -> dict[str, int]:
    held: dict[str, int] = {}
    for sid in ids:
        for source in registry.sources():
            for category, n in source.summary(ctx, sid).items():
                key = f"{source.name}:{category}"
                held[key] = held.get(key, 0) + int(n)
    return dict(sorted(held.items()))


def held_categories(ctx: Context, request_id: str) -> dict[str, int]:
    """Category → records held for the verified subjects (helps the person narrow the request)."""
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    req = _load(ctx, request_id)
    ids = _require_verified(ctx, req)
    record_info(ctx, "rights.categories", ids, details={"request_id": req.id})
    return _held(ctx, ids)


def _scope(ctx: Context, req: RightsRequest, categories: Sequence[str]) -> None:
    known = {s.name for s in registry.sources()}
    bad = [c for c in categories if ":" not in c or c.split(":", 1)[0] not in known]
    if bad or not categories:
        raise ValidationFailed(
            "範囲は「データ源:区分」（例 customers:contact）で指定してください。",
            "Give the scope as source:category (e.g. customers:contact).",
            code="bad_category",
        )
    req.categories = ",".join(sorted(set(categories)))
    ctx.session.flush()
    event(ctx, req, "scoped", (R_37_1.id,), categories=req.categories)


def set_scope(ctx: Context, request_id: str, categories: Sequence[str]) -> RequestView:
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    req = _open_request(ctx, request_id)
    _scope(ctx, req, categories)
    return view(ctx, req)


# -- the person's own access (token) ----------------------------------------------------------------------------


def _by_token(ctx: Context, request_id: str, token: str) -> RightsRequest:
    req = ctx.session.execute(queries.request(request_id)).scalar_one_or_none()
    if req is None or not req.token_hash:
        _mac(ctx, KEY_DIGEST, "token", request_id, token)  # same work either way
        raise _not_found()
    if not hmac.compare_digest(_mac(ctx, KEY_DIGEST, "token", req.id, token), bytes(req.token_hash)):
        raise _not_found()
    return req


def public_status(ctx: Context, request_id: str, token: str) -> PublicStatus:
    req = _by_token(ctx, request_id, token)
    idents = _identifiers(ctx, req.id)
    verified = sum(1 for i in idents if i.verified_at is not None)
    held = None
    if verified:
        ids = subject_ids(ctx, req.id)
        record_info(ctx, "rights.categories", ids, details={"request_id": req.id})
        held = _held(ctx, ids)
    return PublicStatus(
        request_id=req.id,
        kind=req.kind,
        status=req.status,
        outcome=req.outcome,
        due_on=req.extended_due_on or req.due_on,
        verified_identifiers=verified,
        categories_held=held,
    )


def public_verify(ctx: Context, request_id: str, token: str, code: str) -> VerifyResult:
    """The person enters the code from the email; tried against each unverified email identifier's code."""
    req = _by_token(ctx, request_id, token)
    if req.status == "closed":
        raise PolicyDenied("この請求は対応済みです。", "This request is closed.", code="request_closed")
    pending = [i for i in _identifiers(ctx, req.id) if i.kind == "email" and i.verified_at is None]
    if not pending:
        return VerifyResult(True, 0, len(subject_ids(ctx, req.id)))
    result = VerifyResult(False, 0)
    for ident in pending:
        if ident.code_hash is None:
            continue
        result = _check_code(ctx, req, ident, code)
        if result.verified:
            return result
    return result


def public_scope(ctx: Context, request_id: str, token: str, categories: Sequence[str]) -> PublicStatus:
    req = _by_token(ctx, request_id, token)
    if req.status == "closed":
        raise PolicyDenied("この請求は対応済みです。", "This request is closed.", code="request_closed")
    _require_verified(ctx, req)
    _scope(ctx, req, categories)
    return public_status(ctx, request_id, token)


# -- throttling of the public endpoints ---------------------------------------------------------------------------


def throttle(
    ctx: Context, keys: Sequence[tuple[str, str, int]], window: timedelta = timedelta(hours=1)
) -> None:
    """Count one attempt under each (kind, value, limit) key (stored as keyed hashes) and refuse beyond the limit.

    Call it in its own transaction before the real work, so refused attempts are still counted."""
    now = ctx.clock.now()
    over = False
    for kind, value, limit in keys:
        digest = throttle_digest(ctx, kind, value)
        ctx.session.add(RightsAttempt(key_digest=digest, at=now))
        ctx.session.flush()
        count = int(ctx.session.execute(queries.attempts_since(digest, now - window)).scalar_one())
        over = over or count > limit
    if over:
        raise TooManyAttempts(
            "試行回数が多すぎます。しばらくしてからやり直してください。",
            "Too many attempts; try again later.",
            code="too_many_attempts",
        )


# -- board, show ------------------------------------------------------------------------------------------------


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
