"""One request: its page, its handling log and its actions, each calling the same service as the API."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from mamori.kernel import labels
from mamori.kernel.clock import today_jst
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.http import templating
from mamori.kernel.http.deps import Principal
from mamori.law.rules import R_33_1, R_37_1
from mamori.rights import grounds as grounds_mod
from mamori.rights import service
from mamori.rights.schemas import (
    DISCLOSING,
    FEE_ALLOWED,
    ID_DOCUMENTS,
    ExtendIn,
    FeeIn,
    FulfilIn,
    IdentifierIn,
    RefuseIn,
    RequestView,
    ScopeIn,
)
from mamori.rights.service import delivery as answers
from mamori.rights.service import render as package_render
from mamori.rights.web.common import (
    ID,
    OPENED,
    Csrf,
    can_manage,
    csrf_ok,
    csrf_refused,
    deadline,
    error_page,
    invalid,
    lang_of,
    not_found,
    page_ctx,
    signed_in,
    to_sign_in,
    transaction,
)
from mamori.rights.web.words import MASKING_EN, MASKING_JA, event_words, reached, who_acted
from mamori.staff import service as staff_service

router = APIRouter(include_in_schema=False)

# -- one request -------------------------------------------------------------------------------------------------


def _request_context(ctx: Context, who: Principal, v: RequestView, lang: str) -> dict[str, Any]:
    """What the request page shows besides the view: the usable grounds, the held categories, the choices."""
    usable = [
        {
            "code": g.code,
            "reason": g.reason(lang),
            "article": grounds_mod.citation(g, v.kind, v.regime, lang, staff=True),
            "needs_alternative": g.needs_alternative,
            "partial": g.partial,
        }
        for g in grounds_mod.for_request(v.kind, v.regime)
    ]
    names = {f"staff:{s.id}": s.display_name or s.username for s in staff_service.list_staff(ctx)}
    held: dict[str, int] = {}
    if v.status != "closed" and any(i.verified for i in v.identifiers) and not v.outcome:
        held = service.held_categories(ctx, v.id)
    answer_state = answers.answer_states(ctx, [v.id]).get(v.id)
    return {
        "v": v,
        "deadline": deadline(v),
        "answer_state": answer_state,
        "answer_word": answers.state_word(answer_state, lang),
        "workable": v.status != "closed" and not answer_state,  # answered: only the delivery actions remain
        "waiting": v.status != "closed" and answer_state in answers.WAITING,
        "today_iso": today_jst(ctx.clock).isoformat(),
        "grounds": usable,
        "partial_grounds": [g for g in usable if g["partial"]],
        "sources": sorted({key.split(":", 1)[0] for key in held}),
        "held": held,
        "id_documents": ID_DOCUMENTS,
        "formats": package_render.MACHINE_READABLE if v.kind == "portability" else package_render.FORMATS,
        "disclosing": v.kind in DISCLOSING or v.kind == "purpose_notice",
        "fee_allowed": v.kind in FEE_ALLOWED,
        "events": [(e, event_words(e.details, lang), who_acted(e.actor, names, lang)) for e in v.events],
        "checked_by": lambda actor: who_acted(actor, names, lang),
    }


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
    lang = lang_of(request)
    try:
        with transaction(request, who, readonly=True) as ctx:
            v = service.show(ctx, rid)
            data = _request_context(ctx, who, v, lang)
    except MamoriError as err:
        return error_page(request, who, error if error is not None else err)
    page = page_ctx(request, who, notice=notice, error=error, **data)
    name = "rights/web_request_body.html" if templating.is_htmx(request) else "rights/web_request.html"
    return templating.render(request, name, page, status_code=status_code)


@router.get("/rights/{rid}", response_class=HTMLResponse)
def show(request: Request, rid: str, done: str = "") -> Response:
    who = signed_in(request)
    if who is None:
        return to_sign_in()
    if not ID.fullmatch(rid):
        return error_page(request, who, not_found())
    return _render_request(request, who, rid, notice=OPENED if done == "opened" else None)


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
    who = signed_in(request)
    if who is None:
        return to_sign_in()
    if not ID.fullmatch(rid):
        return error_page(request, who, not_found())
    if not csrf_ok(request, who, csrf):
        return error_page(request, who, csrf_refused())
    try:
        with transaction(request, who) as ctx:
            result = action(ctx)
    except ValidationError as exc:
        return _after(request, who, rid, error=invalid(exc, lang_of(request)), identifier_id=identifier_id)
    except MamoriError as err:
        if isinstance(err, NotFound) or err.rule_id == "R-23-2":
            return error_page(request, who, err)
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
    if can_manage(who):
        return _render_request(request, who, rid, notice=notice, error=error, status_code=status)
    return templating.render(
        request,
        "rights/web_intake.html",
        page_ctx(request, who, view=None, rid=rid, identifier_id=identifier_id, notice=notice, error=error),
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
        if not ID.fullmatch(identifier_id):
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
            if not ID.fullmatch(identifier_id) or not re.fullmatch(r"[0-9]{6}", typed):
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
            return reached(result.subjects)
        if method == "callback":
            if not ID.fullmatch(identifier_id):
                raise ValidationFailed("識別子を選んでください。", "Choose the identifier.", code="missing")
            return reached(service.verify_callback(ctx, rid, identifier_id))
        if method == "id_document":
            if not ID.fullmatch(customer_id) or not document:
                raise ValidationFailed(
                    "顧客番号（32桁）と本人確認書類を入力してください。",
                    "Enter the customer number (32 characters) and the identity document.",
                    rule_id=R_37_1.id,
                    code="missing",
                )
            ja, en = reached(service.verify_document(ctx, rid, customer_id, document))
            if document == "health_insurance_card":
                ja += MASKING_JA
                en += MASKING_EN
            return ja, en
        raise ValidationFailed(
            "本人確認の方法を選んでください。", "Choose how the person is verified.", code="bad_method"
        )

    return _act(request, rid, csrf, run, identifier_id=identifier_id or None, code_form_after=False)


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
    partial: Annotated[list[str] | None, Form(max_length=20)] = None,
    refusal_explanation: Annotated[str, Form(max_length=2000)] = "",
    cor_source: Annotated[list[str] | None, Form(max_length=20)] = None,
    cor_record: Annotated[list[str] | None, Form(max_length=20)] = None,
    cor_field: Annotated[list[str] | None, Form(max_length=20)] = None,
    cor_value: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> Response:
    """Carry the request out; for a disclosure the package comes back as a download and is never stored.

    ``partial`` holds 「データ源:区分|事由」 for each category refused in part (R-33-2, with the concrete reason in
    ``refusal_explanation``, 法第36条); the ``cor_*`` lists are the rows of a correction (R-34-1), an empty
    value deleting the item. Both are checked by the service as the API's FulfilIn is."""

    def run(ctx: Context) -> tuple[str, str] | Response:
        body = FulfilIn.model_validate(
            {
                "format": format if format in package_render.FORMATS else "json",
                "partial_refusals": dict(p.split("|", 1) for p in partial or [] if "|" in p),
                "refusal_explanation": refusal_explanation.strip() or None,
                "corrections": correction_rows(cor_source, cor_record, cor_field, cor_value),
            }
        )
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
        outcome, package = service.fulfil(
            ctx,
            rid,
            partial_refusals=dict(body.partial_refusals),
            refusal_explanation=body.refusal_explanation,
            corrections=[(c.source, c.record_id, dict(c.changes)) for c in body.corrections],
        )
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
        state = answers.answer_states(ctx, [rid]).get(rid)
        then = (
            f"回答の送付: {answers.state_word(state, 'ja')}（届いた時点、又は郵送を記録した時点で完了します）。",
            f" Answer: {answers.state_word(state, 'en')} (closed once delivered, or once the posting is recorded).",
        )
        if outcome.corrections:
            n = len(outcome.corrections)
            return (
                f"{n}件を訂正しました（{rules}）。" + then[0],
                f"Corrected {n} item(s) ({', '.join(outcome.rule_ids)})." + then[1],
            )
        return (
            f"対応しました: {labels.value('outcome', outcome.outcome, 'ja')}（{rules}）。" + then[0],
            f"Done: {labels.value('outcome', outcome.outcome, 'en')} ({', '.join(outcome.rule_ids)})."
            + then[1],
        )

    return _act(request, rid, csrf, run)


@router.post("/rights/{rid}/resend", response_class=HTMLResponse)
def resend(request: Request, rid: str, csrf: Csrf = "") -> Response:
    """回答未送達: e-mail the answer again (a new message to the request's current address)."""

    def run(ctx: Context) -> tuple[str, str]:
        answers.resend(ctx, rid)
        return (
            "回答のメールをもう一度送りました。届いた時点で請求は完了します。",
            "The answer has been e-mailed again; the request closes once it is delivered.",
        )

    return _act(request, rid, csrf, run)


@router.post("/rights/{rid}/posted", response_class=HTMLResponse)
def posted(
    request: Request, rid: str, csrf: Csrf = "", posted_on: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    """郵送で回答済みにする: the privacy officer records the day the answer letter was posted; the request closes."""

    def run(ctx: Context) -> tuple[str, str]:
        try:
            day = date.fromisoformat(posted_on.strip())
        except ValueError:
            raise ValidationFailed(
                "郵送した日を入力してください（例: 2026-12-06）。",
                "Enter the date the answer was posted (e.g. 2026-12-06).",
                code="bad_posted_on",
            ) from None
        answers.record_posted(ctx, rid, day)
        return (
            f"{labels.fmt_date(day, 'ja')}に郵送で回答したことを記録し、請求を完了しました。",
            f"Recorded as answered by post on {labels.fmt_date(day, 'en')}; the request is closed.",
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


def correction_rows(
    sources: list[str] | None, records: list[str] | None, fields: list[str] | None, values: list[str] | None
) -> list[dict[str, Any]]:
    """The correction form's rows (source, record, item, new value) as the API's CorrectionIn; blank rows skipped,
    rows of one record merged (an empty new value deletes the item)."""
    rows: dict[tuple[str, str], dict[str, str | None]] = {}
    for src, rec, fld, val in zip(sources or [], records or [], fields or [], values or [], strict=False):
        if not (src.strip() or rec.strip() or fld.strip()):
            continue
        rows.setdefault((src.strip(), rec.strip()), {})[fld.strip()] = val.strip() or None
    return [{"source": s, "record_id": r, "changes": ch} for (s, r), ch in rows.items()]
