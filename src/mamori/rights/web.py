"""Web pages of the rights slice (issue 15): requests from the person (本人からの請求) — thin: parse, call the
service, render the template.

- ``GET /rights`` the board by due date (期限超過 in red, 3日以内 in amber, with the words); ``?closed=1`` adds
  the closed requests;
- ``GET /rights/new`` + ``POST /rights/new`` staff intake (phone, letter, counter), like ``rights open``;
- ``GET /rights/{id}`` one request with its handling log and its actions as forms, each posting to
  ``/rights/{id}/<action>`` (identifiers, send-code, verify, scope, fulfil, refuse, extend, fee) and calling the
  same service function as :mod:`mamori.rights.api`. A disclosure is answered as a download (attachment) and never
  stored. Ids in paths are opaque; what the person told us (email, phone, codes) goes in POST bodies only.

The service authorises (RIGHTS_INTAKE / RIGHTS_MANAGE) and audits; a refusal is shown in plain Japanese with its
rule id. A slice may not import the web app (``mamori.web`` is a layer above), so the session, the page context
and the form CSRF check are read here through the kernel's authenticator, as ``mamori.web.app`` does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.kernel import labels, validation
from mamori.kernel.auditing import authorise
from mamori.kernel.clock import today_jst
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.http import pages, templating
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.policy import Resource
from mamori.kernel.policy.actions import scope_for
from mamori.law.rules import R_33_1, R_37_1
from mamori.rights import grounds as grounds_mod
from mamori.rights import service
from mamori.rights.permissions import RIGHTS_INTAKE, RIGHTS_MANAGE
from mamori.rights.schemas import (
    AGENT_DOCUMENTS,
    AGENT_KINDS,
    CHANNELS,
    DISCLOSING,
    FEE_ALLOWED,
    ID_DOCUMENTS,
    KINDS,
    ExtendIn,
    FeeIn,
    IdentifierIn,
    RefuseIn,
    RequestOpen,
    RequestView,
    ScopeIn,
)
from mamori.rights.service import render as package_render

TEMPLATES = Path(__file__).resolve().parent / "templates"
router = APIRouter(include_in_schema=False)

SESSION_COOKIE = "__Host-mamori_session"
_ID = re.compile(r"[0-9a-f]{32}")
SOON_DAYS = 3  # shared/UI.md: 3日以内 in amber
Csrf = Annotated[str, Form(max_length=128)]


# -- the session, the layout's context, the form CSRF check (the kernel's authenticator, as mamori.web.app) -------


_signed_in = pages.signed_in
_page = pages.page_context
_csrf_ok = pages.csrf_ok


def _lang(request: Request) -> str:
    return templating.lang_of(request)


@contextmanager
def _transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    with runtime_of(request).transaction(who.actor, None, lang=_lang(request), readonly=readonly) as ctx:
        yield ctx


def _to_sign_in() -> RedirectResponse:
    return pages.to_sign_in()


def _error_page(request: Request, who: Principal, err: MamoriError) -> HTMLResponse:
    """A refusal in plain words with its rule id small beside it (never a stack trace)."""
    if err.code == "role_not_permitted":  # the engine names codes (「ロール「sales」…」): say it in words
        role_ja, role_en = (labels.value("role", who.actor.role.value, lang) for lang in ("ja", "en"))
        err = PolicyDenied(
            f"{role_ja}には、本人からの請求のこの操作を行う権限がありません。個人情報保護管理者に依頼してください。",
            f"A {role_en.lower()} may not do this with requests from the person. Ask the privacy officer.",
            rule_id=err.rule_id,
            code=err.code,
        )
    return templating.render(
        request,
        "web/error.html",
        _page(request, who, message_ja=err.message_ja, message_en=err.message_en, rule_id=err.rule_id),
        status_code=err.http_status,
    )


def _not_found() -> NotFound:
    return NotFound("請求が見つかりません。", "Request not found.", code="request_not_found")


def _csrf_refused() -> PolicyDenied:
    return PolicyDenied(
        "CSRF トークンがないか一致しません。画面を開き直してから、もう一度操作してください。",
        "Missing or wrong CSRF token. Reload the page and try again.",
        code="csrf_rejected",
    )


def _invalid(exc: ValidationError, lang: str) -> ValidationFailed:
    """A form's bad input as one line in words (no value echoed)."""
    text = validation.message(exc, lang)
    return ValidationFailed(text, validation.message(exc, "en"), code="invalid_input")


def _can_manage(who: Principal) -> bool:
    """Only chooses what to render next (the request page or the intake step); the service still decides."""
    return scope_for(who.actor.role, RIGHTS_MANAGE) is not None


# -- the board ---------------------------------------------------------------------------------------------------


def deadline(v: RequestView) -> str:
    """期限超過 / 3日以内 / 余裕あり / 完了: the word beside the colour (web_rights_deadline)."""
    if v.status == "closed":
        return "closed"
    if v.overdue:
        return "overdue"
    return "soon" if v.days_left <= SOON_DAYS else "ok"


@router.get("/rights", response_class=HTMLResponse)
def board(request: Request, closed: str = "") -> Response:
    who = _signed_in(request)
    if who is None:
        return _to_sign_in()
    try:
        with _transaction(request, who, readonly=True) as ctx:
            rows = service.board(ctx, include_closed=closed == "1")
    except MamoriError as err:
        return _error_page(request, who, err)
    return templating.render(
        request,
        "rights/web_board.html",
        _page(request, who, rows=[(v, deadline(v)) for v in rows], include_closed=closed == "1"),
    )


# -- intake ------------------------------------------------------------------------------------------------------


def _intake_form(request: Request, who: Principal, **more: Any) -> dict[str, Any]:
    return _page(
        request,
        who,
        kinds=KINDS,
        channels=CHANNELS,
        agent_kinds=AGENT_KINDS,
        agent_documents=AGENT_DOCUMENTS,
        chosen={},
        error=None,
        **more,
    )


@router.get("/rights/new", response_class=HTMLResponse)
def new_request_page(request: Request) -> Response:
    who = _signed_in(request)
    if who is None:
        return _to_sign_in()
    try:  # the same check the service makes on intake, audited when it refuses
        with _transaction(request, who, readonly=True) as ctx:
            authorise(ctx, RIGHTS_INTAKE, Resource(kind="rights_request"))
    except MamoriError as err:
        return _error_page(request, who, err)
    return templating.render(request, "rights/web_new.html", _intake_form(request, who))


@router.post("/rights/new", response_class=HTMLResponse)
def new_request(
    request: Request,
    csrf: Csrf = "",
    kind: Annotated[str, Form(max_length=32)] = "",
    regime: Annotated[str, Form(max_length=8)] = "",
    channel: Annotated[str, Form(max_length=16)] = "phone",
    email: Annotated[str, Form(max_length=254)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    agent_kind: Annotated[str, Form(max_length=32)] = "",
    agent_document: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Take a request (the values the person gave go in the body, are sealed, and are never echoed)."""
    who = _signed_in(request)
    if who is None:
        return _to_sign_in()
    if not _csrf_ok(request, who, csrf):
        return _error_page(request, who, _csrf_refused())
    chosen = {
        "kind": kind,
        "regime": regime,
        "channel": channel,
        "agent_kind": agent_kind,
        "agent_document": agent_document,
    }
    try:
        data = RequestOpen.model_validate(
            {
                "kind": kind,
                "regime": regime or None,
                "channel": channel,
                "emails": [email.strip()] if email.strip() else [],
                "phones": [phone.strip()] if phone.strip() else [],
                "agent_kind": agent_kind or None,
                "agent_document": agent_document or None,
            }
        )
        with _transaction(request, who) as ctx:
            v = service.open_request(ctx, data)
    except ValidationError as exc:
        err: MamoriError = _invalid(exc, _lang(request))
        return _intake_error(request, who, err, chosen)
    except PolicyDenied as denied:
        if denied.rule_id == "R-23-2":
            return _error_page(request, who, denied)
        return _intake_error(request, who, denied, chosen)
    except MamoriError as failed:
        return _intake_error(request, who, failed, chosen)
    if _can_manage(who):
        return RedirectResponse(f"/rights/{v.id}?done=opened", status_code=303)
    return templating.render(
        request,
        "rights/web_intake.html",
        _page(request, who, view=v, rid=v.id, identifier_id=None, notice=_OPENED),
    )


def _intake_error(request: Request, who: Principal, err: MamoriError, chosen: dict[str, str]) -> HTMLResponse:
    ctx = _intake_form(request, who)
    ctx.update(error=err, chosen=chosen)
    return templating.render(request, "rights/web_new.html", ctx, status_code=err.http_status)


_OPENED = ("受け付けました。", "The request has been received.")


# -- one request -------------------------------------------------------------------------------------------------


def _request_context(ctx: Context, who: Principal, v: RequestView, lang: str) -> dict[str, Any]:
    """What the request page shows besides the view: the usable grounds, the held categories, the choices."""
    usable = [
        {
            "code": g.code,
            "reason": g.reason(lang),
            "article": grounds_mod.citation(g, v.kind, v.regime, lang, staff=True),
            "needs_alternative": g.needs_alternative,
        }
        for g in grounds_mod.for_request(v.kind, v.regime)
    ]
    names = {who.actor.label: who.actor.name}  # rights may not import staff: other staff by a short id
    held: dict[str, int] = {}
    if v.status != "closed" and any(i.verified for i in v.identifiers):
        held = service.held_categories(ctx, v.id)
    return {
        "v": v,
        "deadline": deadline(v),
        "grounds": usable,
        "held": held,
        "id_documents": ID_DOCUMENTS,
        "formats": package_render.MACHINE_READABLE if v.kind == "portability" else package_render.FORMATS,
        "disclosing": v.kind in DISCLOSING or v.kind == "purpose_notice",
        "fee_allowed": v.kind in FEE_ALLOWED,
        "events": [(e, _event_words(e.details, lang), _who_acted(e.actor, names, lang)) for e in v.events],
        "checked_by": lambda actor: _who_acted(actor, names, lang),
    }


def _who_acted(label: str, names: dict[str, str], lang: str) -> str:
    """The signed-in user by name; other staff as 「担当者 #1a2b3c」 (never the full id); the person and the
    system in words."""
    if label in names:
        return names[label]
    kind, _, ident = label.partition(":")
    if kind in ("person", "system"):
        return labels.value("role", kind, lang)
    return f"{'Staff' if lang == 'en' else '担当者'} #{ident[-6:]}"


def _event_words(details: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """The handling log in words: the few details that say what happened (codes as words, no ids)."""
    out: list[tuple[str, str]] = []
    en = lang == "en"
    if details.get("outcome"):
        out.append(("Outcome" if en else "結果", labels.value("outcome", details["outcome"], lang)))
    if details.get("ground"):
        out.append(("Ground" if en else "事由", labels.value("refusal_ground", details["ground"], lang)))
    if details.get("kind") in ("email", "phone"):
        out.append(("Identifier" if en else "識別情報", labels.value("identifier", details["kind"], lang)))
    if details.get("method"):
        out.append(("Method" if en else "方法", labels.value("verify_method", details["method"], lang)))
    if details.get("document"):
        out.append(("Document" if en else "書類", labels.value("id_document", details["document"], lang)))
    if "attempts_left" in details:
        n = details["attempts_left"]
        out.append(("Attempts left" if en else "残り回数", f"{n}" if en else f"{n}回"))
    if details.get("fee_yen") is not None:
        out.append(("Fee" if en else "手数料", labels.fmt_yen(int(details["fee_yen"]), lang)))
    if details.get("reason") in ("complexity", "volume"):
        out.append(("Reason" if en else "理由", labels.value("extension_reason", details["reason"], lang)))
    if details.get("new_due"):
        out.append(
            (
                "New due date" if en else "新しい回答期限",
                labels.fmt_date(date.fromisoformat(details["new_due"]), lang),
            )
        )
    if details.get("categories"):
        cats = [
            labels.value("record_category", c.split(":", 1)[-1], lang)
            for c in str(details["categories"]).split(",")
        ]
        out.append(("Scope" if en else "範囲", ("、" if not en else ", ").join(cats)))
    if "notified" in details:
        out.append(
            (
                "Notice to the person" if en else "本人への通知",
                labels.value("yesno", "yes" if details["notified"] else "no", lang),
            )
        )
    return out


def _render_request(
    request: Request,
    who: Principal,
    rid: str,
    *,
    notice: tuple[str, str] | None = None,
    error: MamoriError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The request page (or, for htmx, its body fragment) with a success notice or the service's refusal."""
    lang = _lang(request)
    try:
        with _transaction(request, who, readonly=True) as ctx:
            v = service.show(ctx, rid)
            data = _request_context(ctx, who, v, lang)
    except MamoriError as err:
        return _error_page(request, who, error if error is not None else err)
    page = _page(request, who, notice=notice, error=error, **data)
    name = "rights/web_request_body.html" if templating.is_htmx(request) else "rights/web_request.html"
    return templating.render(request, name, page, status_code=status_code)


@router.get("/rights/{rid}", response_class=HTMLResponse)
def show(request: Request, rid: str, done: str = "") -> Response:
    who = _signed_in(request)
    if who is None:
        return _to_sign_in()
    if not _ID.fullmatch(rid):
        return _error_page(request, who, _not_found())
    return _render_request(request, who, rid, notice=_OPENED if done == "opened" else None)


# What an action answers: a message in words, a download, or a refusal to show AFTER committing (a wrong code is
# counted, so its transaction must commit before the refusal is shown).
Result = tuple[str, str] | Response | MamoriError
Action = Callable[[Context], Result]


def _act(
    request: Request,
    rid: str,
    csrf: str,
    action: Action,
    *,
    identifier_id: str | None = None,
    code_form_after: bool = True,
) -> Response:
    """Check the session and the CSRF token, run ``action`` in one transaction, re-render with its message.

    An intake-only role (sales, call center) cannot open the request page (RIGHTS_MANAGE): it gets the intake step
    (the next form) instead."""
    who = _signed_in(request)
    if who is None:
        return _to_sign_in()
    if not _ID.fullmatch(rid):
        return _error_page(request, who, _not_found())
    if not _csrf_ok(request, who, csrf):
        return _error_page(request, who, _csrf_refused())
    try:
        with _transaction(request, who) as ctx:
            result = action(ctx)
    except ValidationError as exc:
        return _after(request, who, rid, error=_invalid(exc, _lang(request)), identifier_id=identifier_id)
    except MamoriError as err:
        if isinstance(err, NotFound) or err.rule_id == "R-23-2":
            return _error_page(request, who, err)
        return _after(request, who, rid, error=err, identifier_id=identifier_id)
    if isinstance(result, Response):
        return result
    if isinstance(result, MamoriError):
        return _after(request, who, rid, error=result, identifier_id=identifier_id)
    next_id = identifier_id if code_form_after else None  # the intake step's next form, if any
    return _after(request, who, rid, notice=result, identifier_id=next_id)


def _after(
    request: Request,
    who: Principal,
    rid: str,
    *,
    notice: tuple[str, str] | None = None,
    error: MamoriError | None = None,
    identifier_id: str | None = None,
) -> HTMLResponse:
    status = error.http_status if error is not None else 200
    if _can_manage(who):
        return _render_request(request, who, rid, notice=notice, error=error, status_code=status)
    return templating.render(
        request,
        "rights/web_intake.html",
        _page(request, who, view=None, rid=rid, identifier_id=identifier_id, notice=notice, error=error),
        status_code=status,
    )


@router.post("/rights/{rid}/identifiers", response_class=HTMLResponse)
def add_identifier(
    request: Request,
    rid: str,
    csrf: Csrf = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    value: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """An email or phone the person gives (it reaches nobody until verified; never shown again)."""

    def run(ctx: Context) -> tuple[str, str]:
        body = IdentifierIn.model_validate({"kind": kind, "value": value})
        service.add_identifier(ctx, rid, body.kind, body.value)
        return (
            "識別情報を追加しました（確認されるまで、どの顧客にも結び付きません）。",
            "Identifier added (it reaches nobody until verified).",
        )

    return _act(request, rid, csrf, run)


@router.post("/rights/{rid}/send-code", response_class=HTMLResponse)
def send_code(
    request: Request,
    rid: str,
    csrf: Csrf = "",
    identifier_id: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    def run(ctx: Context) -> tuple[str, str]:
        if not _ID.fullmatch(identifier_id):
            raise NotFound("識別子が見つかりません。", "Identifier not found.", code="identifier_not_found")
        service.send_code(ctx, rid, identifier_id)
        return (
            "確認コードをメールで送りました。ご本人に読み上げてもらい、下の欄に入力してください（15分有効）。",
            "A one-time code has been e-mailed. Ask the person to read it out and enter it below (valid 15 minutes).",
        )

    return _act(request, rid, csrf, run, identifier_id=identifier_id or None)


@router.post("/rights/{rid}/verify", response_class=HTMLResponse)
def verify(
    request: Request,
    rid: str,
    csrf: Csrf = "",
    method: Annotated[str, Form(max_length=16)] = "",
    identifier_id: Annotated[str, Form(max_length=32)] = "",
    code: Annotated[str, Form(max_length=16)] = "",
    customer_id: Annotated[str, Form(max_length=32)] = "",
    document: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """本人確認 (R-37-1): the code the person read out, a call-back to the registered number, or an ID document."""

    def run(ctx: Context) -> Result:
        if method == "email_code":
            typed = unicodedata.normalize("NFKC", code).strip()  # ０１２３４５ is read out as 012345
            if not _ID.fullmatch(identifier_id) or not re.fullmatch(r"[0-9]{6}", typed):
                raise ValidationFailed(
                    "確認コード（6桁の数字）を入力してください。",
                    "Enter the 6-digit code.",
                    rule_id=R_37_1.id,
                    code="missing",
                )
            result = service.verify_code(ctx, rid, identifier_id, typed)
            if not result.verified:
                left = result.attempts_left
                return PolicyDenied(
                    f"確認コードが一致しないか期限切れです（残り {left} 回）。",
                    f"Wrong or expired code ({left} attempts left).",
                    rule_id=R_37_1.id,
                    code="verification_failed",
                )
            return _reached(result.subjects)
        if method == "callback":
            if not _ID.fullmatch(identifier_id):
                raise ValidationFailed("識別子を選んでください。", "Choose the identifier.", code="missing")
            return _reached(service.verify_callback(ctx, rid, identifier_id))
        if method == "id_document":
            if not _ID.fullmatch(customer_id) or not document:
                raise ValidationFailed(
                    "顧客番号（32桁）と本人確認書類を入力してください。",
                    "Enter the customer number (32 characters) and the identity document.",
                    rule_id=R_37_1.id,
                    code="missing",
                )
            ja, en = _reached(service.verify_document(ctx, rid, customer_id, document))
            if document == "health_insurance_card":
                ja += MASKING_JA
                en += MASKING_EN
            return ja, en
        raise ValidationFailed(
            "本人確認の方法を選んでください。", "Choose how the person is verified.", code="bad_method"
        )

    return _act(request, rid, csrf, run, identifier_id=identifier_id or None, code_form_after=False)


MASKING_JA = (
    "健康保険証は、記号・番号・保険者番号・QRコードを隠した状態で提示してもらい、写しを取る場合もそれらを復元できない"
    "よう塗りつぶしてください（健康保険法の告知要求制限）。"
)
MASKING_EN = (
    " A health insurance card is shown with its symbol, number, insurer number and QR code masked; any copy must "
    "have them blacked out (Health Insurance Act)."
)


def _reached(n: int) -> tuple[str, str]:
    return (f"本人確認が済みました（対象の顧客 {n}人）。", f"Verified ({n} customers reached).")


@router.post("/rights/{rid}/scope", response_class=HTMLResponse)
def scope(
    request: Request, rid: str, csrf: Csrf = "", categories: Annotated[list[str] | None, Form()] = None
) -> Response:
    def run(ctx: Context) -> tuple[str, str]:
        body = ScopeIn.model_validate({"categories": categories or []})
        service.set_scope(ctx, rid, body.categories)
        return ("請求の範囲を絞りました。", "The scope of the request has been narrowed.")

    return _act(request, rid, csrf, run)


@router.post("/rights/{rid}/fulfil", response_class=HTMLResponse)
def fulfil(
    request: Request,
    rid: str,
    csrf: Csrf = "",
    format: Annotated[str, Form(max_length=8)] = "pdf",
    delivery: Annotated[str, Form(max_length=16)] = "electronic",
) -> Response:
    """Carry the request out; for a disclosure the package comes back as a download and is never stored."""

    def run(ctx: Context) -> tuple[str, str] | Response:
        if format not in package_render.FORMATS:
            raise ValidationFailed(
                "形式は html / pdf / json / csv のいずれかです。",
                "Format: html / pdf / json / csv.",
                code="bad_format",
            )
        if delivery not in ("electronic", "paper"):
            raise ValidationFailed(
                "開示の方法は電磁的記録の提供又は書面の交付です。",
                "The method of disclosure is electronic or paper.",
                rule_id=R_33_1.id,
                code="bad_delivery",
            )
        kind = service.show(ctx, rid).kind
        package_render.check_format(kind, format)  # G-20: before fulfilling, not after
        outcome, package = service.fulfil(ctx, rid)
        if package is not None:
            data = package_render.render(
                package, format, today_jst(ctx.clock), settings=ctx.runtime.settings, method=delivery
            )
            name = f"{package.receipt_no or 'answer'}.{format}"
            return Response(
                content=data,
                media_type=package_render.MEDIA_TYPES[format],
                headers={
                    **templating.PAGE_HEADERS,
                    "Content-Disposition": f'attachment; filename="{name}"',
                    "Mamori-Outcome": outcome.outcome,
                },
            )
        rules = "、".join(outcome.rule_ids)
        return (
            f"対応しました: {labels.value('outcome', outcome.outcome, 'ja')}（{rules}）。",
            f"Done: {labels.value('outcome', outcome.outcome, 'en')} ({', '.join(outcome.rule_ids)}).",
        )

    return _act(request, rid, csrf, run)


@router.post("/rights/{rid}/refuse", response_class=HTMLResponse)
def refuse(
    request: Request,
    rid: str,
    csrf: Csrf = "",
    ground: Annotated[str, Form(max_length=32)] = "",
    explanation: Annotated[str, Form(max_length=2000)] = "",
    alternative: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Refuse on a ground of THIS request (kind and regime), with the concrete reason the person is told."""

    def run(ctx: Context) -> tuple[str, str]:
        if not explanation.strip():  # the service says what a refusal needs (法第36条), nothing is changed
            service.refuse(ctx, rid, ground, None, alternative.strip() or None)
        body = RefuseIn.model_validate(
            {"ground": ground, "explanation": explanation, "alternative": alternative.strip() or None}
        )
        service.refuse(ctx, rid, body.ground, body.explanation, body.alternative)
        return (
            f"不対応を決定し、ご本人に通知しました（{labels.value('refusal_ground', body.ground, 'ja')}）。",
            f"Refused and the person notified ({labels.value('refusal_ground', body.ground, 'en')}).",
        )

    return _act(request, rid, csrf, run)


@router.post("/rights/{rid}/extend", response_class=HTMLResponse)
def extend(
    request: Request,
    rid: str,
    csrf: Csrf = "",
    months: Annotated[str, Form(max_length=2)] = "",
    reason: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """GDPR only: one extension by up to two months, notified with its reason (G-12)."""

    def run(ctx: Context) -> tuple[str, str]:
        body = ExtendIn.model_validate({"months": months, "reason": reason})
        v = service.extend(ctx, rid, body.months, body.reason)
        return (
            f"回答期限を {labels.fmt_date(v.extended_due_on, 'ja')} に延長し、ご本人に通知しました。",
            f"Due date extended to {labels.fmt_date(v.extended_due_on, 'en')}; the person has been notified.",
        )

    return _act(request, rid, csrf, run)


@router.post("/rights/{rid}/fee", response_class=HTMLResponse)
def fee(
    request: Request, rid: str, csrf: Csrf = "", yen: Annotated[str, Form(max_length=8)] = ""
) -> Response:
    """手数料 (R-38-1): only for purpose notification and disclosure."""

    def run(ctx: Context) -> tuple[str, str]:
        body = FeeIn.model_validate({"yen": yen})
        service.set_fee(ctx, rid, body.yen)
        return (
            f"手数料を {labels.fmt_yen(body.yen, 'ja')} にしました。",
            f"Fee set to {labels.fmt_yen(body.yen, 'en')}.",
        )

    return _act(request, rid, csrf, run)
