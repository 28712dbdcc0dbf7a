"""The person's request pages in the privacy center (issue 18): public, no staff login, Japanese by default and
English with ``?lang=en`` (a link, never a cookie). Thin: parse, call the same services as the public API
(:mod:`mamori.rights.api`), render.

- ``GET /privacy/requests/new`` the form (入力): the kind, the regime, the registered e-mail address and what the
  kind needs. Before submission it states what the address is used for and shows the published notice's version
  in force, sent back as a hidden field (R-21-2; the service refuses a request without it). With no notice
  published the form tells the person to write to the contact point and does not submit.
- ``POST /privacy/requests/new`` → 確認 (what will be sent, a back button that keeps the input); ``POST
  /privacy/requests/send`` files the request and sets the request token as a cookie (HttpOnly, SameSite=Strict,
  Secure on https, Path=/privacy/requests/<id>) — the only cookie of the privacy center, set only now, never in
  a URL — then 303 → ``GET /privacy/requests/<id>/received`` (完了).
- ``GET /privacy/requests/<id>`` the status (the cookie authorises; without it or with a wrong one the same
  "not found" page), the code form, the categories held and the scope after verification, the downloads after
  the answer (``GET /privacy/requests/<id>/package?format=pdf|html|csv|json``, an attachment, never cached).

Every POST must come from this site (Origin, else Referer, else Sec-Fetch-Site; no cookie is needed for that)
and, once the request has a token, carry a form token bound to it. Throttles are the API's, on the same counters.
No page echoes what the person typed except the 確認 page (their own input, to check), and no URL carries it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.kernel import labels
from mamori.kernel import notice as kernel_notice
from mamori.kernel.clock import today_jst
from mamori.kernel.errors import MamoriError, ValidationFailed
from mamori.kernel.http import pages, templating
from mamori.kernel.http.deps import runtime_of
from mamori.kernel.notice import NoticeVersion
from mamori.law.rules import R_21_2
from mamori.purposes import service as purposes_service
from mamori.rights import service
from mamori.rights.schemas import DISCLOSING, GDPR_ONLY, KINDS, PublicRequestIn, PublicStatus, RequestOpen
from mamori.rights.service import render as package_render
from mamori.rights.service.core import (
    FILE_PER_IDENTIFIER,
    FILE_PER_IP,
    PACKAGE_PER_REQUEST,
    STATUS_PER_IP,
    VERIFY_PER_IP,
    VERIFY_PER_REQUEST,
    _check_open,
)
from mamori.rights.service.core import person as _person

router = APIRouter(include_in_schema=False)

COOKIE = "mamori_request"
COOKIE_DAYS = 60
RequestId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
Text = Annotated[str, Form(max_length=254)]
Short = Annotated[str, Form(max_length=64)]
#: What a correction request may name at intake (the customer record's categories; narrowed after verification).
CORRECTABLE = ("customers:profile", "customers:contact", "customers:attribute")
FORMATS = ("pdf", "html", "csv", "json")
# Referrer-Policy same-origin: a same-site form post then carries its Origin (no-referrer would send "null"); the
# paths hold no personal data.
HEADERS = {"Referrer-Policy": "same-origin"}


# -- helpers ------------------------------------------------------------------------------------------------------


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"  # as the API counts it


def _lang(request: Request) -> str:
    return templating.lang_of(request)


def _q(request: Request) -> str:
    return "?lang=en" if _lang(request) == "en" else ""


def _page(request: Request, name: str, data: dict[str, Any], status: int = 200) -> HTMLResponse:
    settings = runtime_of(request).settings
    base = {
        "operator_name": settings.operator_name,
        "contact": settings.privacy_contact,
        "q": _q(request),
    }
    return templating.render(request, f"rights/{name}", {**base, **data}, status_code=status, headers=HEADERS)


def _error(
    request: Request, status: int, message: str, *, rule_id: str | None = None, **extra: Any
) -> HTMLResponse:
    return _page(
        request,
        "public_error.html",
        {"status": status, "message": message, "rule_id": rule_id, **extra},
        status,
    )


def _not_found(request: Request) -> HTMLResponse:
    """One page for an unknown request, a wrong or missing cookie and a request of another browser."""
    return _page(request, "public_error.html", {"status": 404, "message": None, "rule_id": None}, 404)


def _too_many(request: Request) -> HTMLResponse:
    return _error(
        request,
        429,
        _t(
            request,
            "短い時間に操作が続いたため、しばらく受け付けを止めています。1時間ほど待ってからもう一度お試しください。",
            "There were too many attempts in a short time. Please wait about an hour and try again.",
        ),
    )


def _t(request: Request, ja: str, en: str) -> str:
    return en if _lang(request) == "en" else ja


def _refused(request: Request, exc: MamoriError) -> HTMLResponse:
    if exc.http_status == 404 or exc.code in pages.NOT_FOUND_CODES:
        return _not_found(request)
    if exc.http_status == 429:
        return _too_many(request)
    return _error(request, exc.http_status, exc.message(_lang(request)), rule_id=exc.rule_id)


def _own_origins(request: Request) -> set[str]:
    own = {f"{request.url.scheme}://{request.url.netloc}"}
    base = urlsplit(runtime_of(request).settings.public_base_url or "")
    if base.scheme and base.netloc:
        own.add(f"{base.scheme}://{base.netloc}")
    return own


def same_origin(request: Request) -> bool:
    """A form post from this site: its Origin, else its Referer, else the browser's Sec-Fetch-Site says so. A post
    saying nothing of where it came from is refused too (no cookie is needed for this check)."""
    own = _own_origins(request)
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return origin in own
    referer = request.headers.get("referer")
    if referer:
        return any(referer == o or referer.startswith(o + "/") for o in own)
    return request.headers.get("sec-fetch-site", "").lower() == "same-origin"


def _cross_site(request: Request) -> HTMLResponse:
    return _error(
        request,
        403,
        _t(
            request,
            "このページからの送信として確認できなかったため、受け付けませんでした。請求のページを開き直して、もう一度送信してください。",
            "This form could not be confirmed as sent from this site, so nothing was done. Open the page again and resend.",
        ),
    )


def form_token(request_id: str, token: str) -> str:
    """A per-form token bound to the request token (a page without the cookie cannot compute it)."""
    return hmac.new(token.encode(), f"privacy-center-form:{request_id}".encode(), hashlib.sha256).hexdigest()


def _token(request: Request) -> str | None:
    value = request.cookies.get(COOKIE)
    return value if value and 16 <= len(value) <= 64 else None


def _throttle(request: Request, actor_id: str, keys: Iterable[tuple[str, str, int]]) -> HTMLResponse | None:
    """The API's throttles on the same counters (:func:`mamori.rights.service.throttle`); a 429 page beyond them."""
    rt = runtime_of(request)
    try:
        with rt.transaction(_person(actor_id), lang=_lang(request)) as ctx:
            service.throttle(ctx, list(keys))
    except service.TooManyAttempts:
        return _too_many(request)
    return None


# -- the form: 入力 → 確認 → 完了 -----------------------------------------------------------------------------------


def _notice(request: Request) -> NoticeVersion | None:
    with runtime_of(request).transaction(_person(), lang=_lang(request), readonly=True) as ctx:
        return kernel_notice.current_notice(ctx)


def _notice_exists(request: Request, version: int | None) -> bool:
    if version is None:
        return False
    with runtime_of(request).transaction(_person(), lang=_lang(request), readonly=True) as ctx:
        return kernel_notice.notice_version(ctx, version) is not None


def _purposes(request: Request) -> list[tuple[str, str]]:
    """The purposes in force (code, title): published in the notice, so a person may name one to stop."""
    lang = _lang(request)
    with runtime_of(request).transaction(_person(), lang=lang, readonly=True) as ctx:
        rows = purposes_service.list_purposes(ctx, include_retired=False)
    return [(p.code, p.title_en if lang == "en" else p.title_ja) for p in sorted(rows, key=lambda p: p.code)]


def _form(
    request: Request,
    chosen: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    notice = _notice(request)
    return _page(
        request,
        "public_new.html",
        {
            "notice": notice,
            "kinds": KINDS,
            "gdpr_only": GDPR_ONLY,
            "purposes": _purposes(request) if notice else [],
            "correctable": CORRECTABLE,
            "chosen": chosen or {},
            "errors": errors or [],
        },
        status,
    )


@router.get("/privacy/requests/new", response_class=HTMLResponse)
def new(request: Request) -> Response:
    """The request form (no cookie is set: the person has started nothing yet)."""
    return _form(request)


def _parse(
    kind: str,
    regime: str,
    email: str,
    purpose: str,
    stop_scope: str,
    categories: list[str] | None,
    notice_version: str,
) -> PublicRequestIn:
    body = PublicRequestIn.model_validate(
        {
            "kind": kind,
            "regime": regime or None,
            "email": email.strip(),
            "purpose": purpose or None,
            "stop_scope": stop_scope or None,
            "categories": categories or None,
            "notice_version": notice_version or None,
        }
    )
    if any(c not in CORRECTABLE for c in body.categories or []):
        raise ValidationFailed(
            "訂正を求める情報は、一覧から選んでください。",
            "Choose the information to correct from the list.",
            code="bad_category",
        )
    # The checks the service makes on the kind's needs (a purpose for one purpose's stop, GDPR-only kinds), on
    # the confirmation step already, so the person corrects them before sending.
    _check_open(_open_data(body))
    return body


def _open_data(body: PublicRequestIn) -> RequestOpen:
    return RequestOpen.model_validate(
        {
            "kind": body.kind,
            "regime": body.regime,
            "channel": "web",
            "emails": [body.email],
            "categories": body.categories,
            "purpose": body.purpose,
            "stop_scope": body.stop_scope,
            "notice_version": body.notice_version,
        }
    )


def _kept(body: PublicRequestIn) -> dict[str, Any]:
    return {
        "kind": body.kind,
        "regime": body.regime or "",
        "email": str(body.email),
        "purpose": body.purpose or "",
        "stop_scope": body.stop_scope or "",
        "categories": list(body.categories or []),
        "notice_version": body.notice_version,
    }


def _safe_choices(kind: str, regime: str, stop_scope: str, categories: list[str] | None) -> dict[str, Any]:
    """What a form shown again after an error keeps: only choices from fixed lists (never typed text)."""
    return {
        "kind": kind if kind in KINDS else "",
        "regime": regime if regime in ("appi", "gdpr") else "",
        "stop_scope": stop_scope if stop_scope in ("purpose", "all", "provision") else "",
        "categories": [c for c in categories or [] if c in CORRECTABLE],
    }


def _bad_input(request: Request, exc: ValidationError | MamoriError, chosen: dict[str, Any]) -> HTMLResponse:
    lang = _lang(request)
    if isinstance(exc, ValidationError):
        errors = pages.form_errors(exc, lang)
        for e in errors:
            if e["field"] == "notice_version":
                e["message"] = _notice_missing(request)
    else:
        errors = [
            {
                "field": "",
                "label": "",
                "message": exc.message(lang) + (f"（{exc.rule_id}）" if exc.rule_id else ""),
            }
        ]
    return _form(request, chosen, errors, 422)


def _notice_missing(request: Request) -> str:
    return _t(
        request,
        f"送信前に表示した公表事項の版が確認できません。このページを開き直してから送信してください（{R_21_2.id}）。",
        f"The notice shown before submission could not be confirmed. Reload this page and send again ({R_21_2.id}).",
    )


@router.post("/privacy/requests/new", response_class=HTMLResponse)
def confirm(
    request: Request,
    kind: Short = "",
    regime: Short = "",
    email: Text = "",
    purpose: Short = "",
    stop_scope: Short = "",
    notice_version: Short = "",
    categories: Annotated[list[str] | None, Form(max_length=20)] = None,
    back: Short = "",
) -> Response:
    """確認: what will be sent; or, from the 確認 page's back button, the form again with the input kept."""
    if not same_origin(request):
        return _cross_site(request)
    chosen = _safe_choices(kind, regime, stop_scope, categories)
    try:
        body = _parse(kind, regime, email, purpose, stop_scope, categories, notice_version)
    except (ValidationError, ValidationFailed, MamoriError) as exc:
        return _bad_input(request, exc, chosen)
    if not _notice_exists(request, body.notice_version):
        return _form(request, chosen, [{"field": "", "label": "", "message": _notice_missing(request)}], 422)
    if back:
        return _form(request, _kept(body))
    return _page(
        request,
        "public_confirm.html",
        {"body": _kept(body), "purposes": dict(_purposes(request)), "switch_path": "/privacy/requests/new"},
    )


@router.post("/privacy/requests/send", response_class=HTMLResponse)
def send(
    request: Request,
    kind: Short = "",
    regime: Short = "",
    email: Text = "",
    purpose: Short = "",
    stop_scope: Short = "",
    notice_version: Short = "",
    categories: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> Response:
    """完了: file the request (as POST /privacy-requests does), set the token cookie, then the receipt page."""
    if not same_origin(request):
        return _cross_site(request)
    chosen = _safe_choices(kind, regime, stop_scope, categories)
    try:
        body = _parse(kind, regime, email, purpose, stop_scope, categories, notice_version)
    except (ValidationError, MamoriError) as exc:
        return _bad_input(request, exc, chosen)
    refused = _throttle(
        request,
        "new",
        [("file-ip", _ip(request), FILE_PER_IP), ("file-id", str(body.email), FILE_PER_IDENTIFIER)],
    )
    if refused is not None:
        return refused
    rt = runtime_of(request)
    try:
        with rt.transaction(_person(), lang=_lang(request)) as ctx:
            v, token = service.open_public(ctx, _open_data(body))
    except MamoriError as exc:
        if exc.rule_id == R_21_2.id:
            return _form(
                request, chosen, [{"field": "", "label": "", "message": _notice_missing(request)}], 422
            )
        return _bad_input(request, exc, chosen)
    response = RedirectResponse(f"/privacy/requests/{v.id}/received{_q(request)}", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_DAYS * 86400,
        path=f"/privacy/requests/{v.id}",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


# -- the request: 完了, status, code, scope, package ---------------------------------------------------------------


def _status(request: Request, rid: str, token: str | None) -> PublicStatus | HTMLResponse:
    refused = _throttle(request, rid, [("status-ip", _ip(request), STATUS_PER_IP)])
    if refused is not None:
        return refused
    if token is None:
        # Same work as a wrong token: the answer says nothing of whether the id exists.
        token = "-" * 32
    try:
        with runtime_of(request).transaction(_person(rid), lang=_lang(request)) as ctx:
            return service.public_status(ctx, rid, token)
    except MamoriError as exc:
        return _refused(request, exc)


@router.get("/privacy/requests/{rid}/received", response_class=HTMLResponse)
def received(request: Request, rid: RequestId) -> Response:
    """完了: the receipt number, the due date, what was sent and where to follow the request."""
    st = _status(request, rid, _token(request))
    if isinstance(st, HTMLResponse):
        return st
    return _page(request, "public_received.html", {"st": st})


def _status_page(
    request: Request,
    st: PublicStatus,
    token: str,
    *,
    code_error: str | None = None,
    scope_error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return _page(
        request,
        "public_status.html",
        {
            "st": st,
            "form_token": form_token(st.request_id, token),
            "code_error": code_error,
            "scope_error": scope_error,
            "downloadable": st.kind in DISCLOSING and st.answered and st.outcome in ("fulfilled", "partial"),
            # G-20: a portability answer is machine-readable only (json, csv)
            "formats": [
                f for f in FORMATS if st.kind != "portability" or f in package_render.MACHINE_READABLE
            ],
            "held": _held_words(st.categories_held or {}, _lang(request)),
            "switch_path": f"/privacy/requests/{st.request_id}",
        },
        status,
    )


def _held_words(held: dict[str, int], lang: str) -> list[tuple[str, str, int]]:
    out = []
    for key, n in held.items():
        category = key.split(":", 1)[-1]
        name = labels.value("record_category", category, lang)
        out.append((key, name, n))
    return out


@router.get("/privacy/requests/{rid}", response_class=HTMLResponse)
def status_page(request: Request, rid: RequestId) -> Response:
    token = _token(request)
    st = _status(request, rid, token)
    if isinstance(st, HTMLResponse):
        return st
    assert token is not None  # a status is only found with the right token
    return _status_page(request, st, token)


def _form_ok(request: Request, rid: str, token: str | None, sent: str) -> bool:
    return token is not None and bool(sent) and hmac.compare_digest(sent, form_token(rid, token))


@router.post("/privacy/requests/{rid}/verify", response_class=HTMLResponse)
def verify(request: Request, rid: RequestId, code: Short = "", form: Short = "") -> Response:
    """The one-time code from the e-mail (R-37-1): a wrong code says how many tries are left; the fifth locks."""
    token = _token(request)
    if not same_origin(request):
        return _cross_site(request)
    if token is None:
        return _not_found(request)
    if not _form_ok(request, rid, token, form):
        return _cross_site(request)
    refused = _throttle(
        request, rid, [("verify-ip", _ip(request), VERIFY_PER_IP), ("verify-req", rid, VERIFY_PER_REQUEST)]
    )
    if refused is not None:
        return refused
    rt = runtime_of(request)
    code = code.strip()
    try:
        if not code.isascii() or not code.isdigit() or len(code) != 6:
            with rt.transaction(_person(rid), lang=_lang(request)) as ctx:
                st = service.public_status(ctx, rid, token)
            message = _t(request, "確認コードは6桁の数字です。", "The code is 6 digits.")
            return _status_page(request, st, token, code_error=message, status=422)
        with rt.transaction(_person(rid), lang=_lang(request)) as ctx:
            result = service.public_verify(ctx, rid, token, code)
        with rt.transaction(_person(rid), lang=_lang(request)) as ctx:
            st = service.public_status(ctx, rid, token)
    except MamoriError as exc:
        return _refused(request, exc)
    if result.verified:
        return RedirectResponse(f"/privacy/requests/{rid}{_q(request)}", status_code=303)
    if result.attempts_left > 0:
        message = _t(
            request,
            f"確認コードが違うか、有効期限が切れています。あと{result.attempts_left}回入力できます。",
            f"Wrong or expired code. {result.attempts_left} {'try' if result.attempts_left == 1 else 'tries'} left.",
        )
        return _status_page(request, st, token, code_error=message, status=422)
    return _status_page(request, st, token, status=403)


@router.post("/privacy/requests/{rid}/scope", response_class=HTMLResponse)
def scope(
    request: Request,
    rid: RequestId,
    form: Short = "",
    categories: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> Response:
    """Narrow the request to some of the categories held (after verification)."""
    token = _token(request)
    if not same_origin(request):
        return _cross_site(request)
    if token is None:
        return _not_found(request)
    if not _form_ok(request, rid, token, form):
        return _cross_site(request)
    rt = runtime_of(request)
    try:
        with rt.transaction(_person(rid), lang=_lang(request)) as ctx:
            service.public_scope(ctx, rid, token, categories or [])
    except ValidationFailed:
        try:
            with rt.transaction(_person(rid), lang=_lang(request)) as ctx:
                st = service.public_status(ctx, rid, token)
        except MamoriError as exc:
            return _refused(request, exc)
        message = _t(request, "対象にする区分を1つ以上選んでください。", "Choose at least one category.")
        return _status_page(request, st, token, scope_error=message, status=422)
    except MamoriError as exc:
        return _refused(request, exc)
    return RedirectResponse(f"/privacy/requests/{rid}{_q(request)}", status_code=303)


@router.get("/privacy/requests/{rid}/package")
def package(
    request: Request, rid: RequestId, format: Annotated[str, Query(max_length=8)] = "pdf"
) -> Response:
    """The answer to a disclosure request as a download (attachment, never cached, never stored)."""
    if format not in FORMATS:
        return _error(
            request,
            422,
            _t(
                request,
                "形式は PDF・HTML・CSV・JSON のいずれかです。",
                "The format is PDF, HTML, CSV or JSON.",
            ),
        )
    token = _token(request)
    refused = _throttle(
        request, rid, [("package-ip", _ip(request), VERIFY_PER_IP), ("package-req", rid, PACKAGE_PER_REQUEST)]
    )
    if refused is not None:
        return refused
    if token is None:
        return _not_found(request)
    rt = runtime_of(request)
    try:
        with rt.transaction(_person(rid), lang=_lang(request)) as ctx:
            pkg = service.public_package(ctx, rid, token)
            data = package_render.render(
                pkg, format, today_jst(ctx.clock), settings=ctx.runtime.settings, lang=_lang(request)
            )
            receipt = pkg.receipt_no
    except MamoriError as exc:
        return _refused(request, exc)
    name = f"{receipt or 'disclosure'}.{format}"
    return Response(
        content=data,
        media_type=package_render.MEDIA_TYPES[format],
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
