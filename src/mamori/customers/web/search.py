"""Web pages of the customers slice (issue 15): thin — parse, call the service, render the template.

URLs (nothing personal in any of them: search terms travel in POST bodies, customer ids are opaque):

- ``GET  /customers`` — the search form; with ``?purpose=<code>[&after=<id>]`` also the customers in your scope
  (a sales rep's own customers), one page at a time.
- ``POST /customers/search`` — exact match on e-mail / phone / name / kana / 顧客番号 for the purpose chosen
  (htmx: the result list alone).
- ``GET  /customers/{id}`` — first 「この顧客情報を開く目的」, then the customer as that purpose allows.
- ``POST /customers/{id}/open`` — declare the purpose; remembered for this session's work on that customer
  (a cookie signed with the session's CSRF secret, so it is void in any other session).
- ``POST /customers/{id}/notes`` — log a note / call / inquiry through ``service.add_activity``.
- ``POST /customers/{id}/notes/check`` — htmx, as you type: what the text scanner finds (kinds, never values).

The services decide, mask and audit; a view only maps their answer to a page. A customer outside the user's
scope and an unknown one get the same 404 page. Every page carries the CSP and ``no-store`` (``render``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.customers import service
from mamori.customers.schemas import FIELD_CATEGORIES, ActivityIn, CustomerView, FindRequest
from mamori.kernel import registry
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import is_htmx, lang_of, render
from mamori.kernel.labels import fmt_phone, label, value
from mamori.kernel.policy import Category
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeRead

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
NOTE_MAX = 20000  # as ActivityIn.body
PURPOSE_COOKIE = "mamori_customer_purpose"
_ID = re.compile(r"^[0-9a-f]{32}$")
_PURPOSE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
_NOT_FOUND_CODES = frozenset({"customer_not_found", "out_of_scope"})
_NOTE_KINDS = ("note", "call", "inquiry")


# -- the signed-in user (the same server-side session as the API; a Bearer token does not open pages) -----------


_who = pages.signed_in
_csrf = pages.csrf_of
_page = pages.page_context
_csrf_ok = pages.csrf_ok


def _to_sign_in() -> RedirectResponse:
    return pages.to_sign_in()


# -- error pages ------------------------------------------------------------------------------------------------


def _error(
    request: Request,
    who: Principal,
    status: int,
    message: str,
    *,
    rule_id: str | None = None,
    errors: list[dict[str, str]] | None = None,
    **extra: Any,
) -> HTMLResponse:
    name = "customers/_error.html" if is_htmx(request) else "customers/error.html"
    data = _page(request, who, status=status, message=message, rule_id=rule_id, errors=errors or [], **extra)
    return render(request, name, data, status_code=status)


def _not_found(request: Request, who: Principal) -> HTMLResponse:
    """One page for an unknown customer and one outside the user's scope (the service audits the denial)."""
    return _error(request, who, 404, label("web_customers.not_found", lang_of(request)))


def _failure(request: Request, who: Principal, exc: MamoriError, **extra: Any) -> HTMLResponse:
    """A service's refusal in plain words with its rule id; out of scope looks exactly like not found."""
    if exc.code in _NOT_FOUND_CODES:
        return _not_found(request, who)
    return _error(request, who, exc.http_status, exc.message(lang_of(request)), rule_id=exc.rule_id, **extra)


def _invalid(
    request: Request, who: Principal, message: str, errors: list[dict[str, str]] | None = None
) -> HTMLResponse:
    return _error(request, who, 422, message, errors=errors)


def _invalid_model(request: Request, who: Principal, exc: ValidationError) -> HTMLResponse:
    lang = lang_of(request)
    entries = pages.form_errors(exc, lang)
    return _invalid(request, who, label("web_customers.invalid", lang), entries)


# -- purposes ---------------------------------------------------------------------------------------------------


def _purposes(request: Request, who: Principal) -> list[PurposeRead]:
    with runtime_of(request).transaction(who.actor, readonly=True) as ctx:
        return purposes_service.list_purposes(ctx, include_retired=True)


def _purpose_ok(code: str, purposes: list[PurposeRead]) -> bool:
    """A code from the select: well formed and registered (retired ones are refused by the service, R-17-1)."""
    return bool(_PURPOSE.match(code)) and any(p.code == code for p in purposes)


def _bad_purpose(request: Request, who: Principal) -> HTMLResponse:
    return _invalid(request, who, label("web_customers.bad_purpose", lang_of(request)))


def _title(code: str | None, purposes: list[PurposeRead], lang: str) -> str:
    for p in purposes:
        if p.code == code:
            return p.title_en if lang == "en" else p.title_ja
    return code or "—"


# -- the purpose remembered per customer for this session ---------------------------------------------------------


def _sig(secret: str, cid: str, purpose: str) -> str:
    return hmac.new(secret.encode(), f"{cid}:{purpose}".encode(), hashlib.sha256).hexdigest()[:32]


def _remembered(request: Request, who: Principal) -> dict[str, str]:
    secret = _csrf(request, who)
    out: dict[str, str] = {}
    for item in request.cookies.get(PURPOSE_COOKIE, "").split("~"):
        parts = item.split(".")
        if len(parts) != 3 or not _ID.match(parts[0]) or not _PURPOSE.match(parts[1]):
            continue
        if hmac.compare_digest(parts[2], _sig(secret, parts[0], parts[1])):
            out[parts[0]] = parts[1]
    return out


def _remember(response: Response, request: Request, who: Principal, cid: str, purpose: str) -> None:
    secret = _csrf(request, who)
    kept = _remembered(request, who)
    kept.pop(cid, None)
    kept[cid] = purpose
    items = list(kept.items())[-20:]
    response.set_cookie(
        PURPOSE_COOKIE,
        "~".join(f"{c}.{p}.{_sig(secret, c, p)}" for c, p in items),
        path="/customers",
        secure=True,
        httponly=True,
        samesite="strict",
    )


# -- presentation helpers (no rule: the service has decided what is masked) -----------------------------------------


_national = fmt_phone


def _shown_for(view: CustomerView, purposes: list[PurposeRead], lang: str) -> dict[str, str]:
    """For each masked field: the registered purposes whose data categories include it (a hint for the title;
    whether such a purpose may be used for this person is still the service's decision when it is chosen)."""
    categories: dict[str, Category] = dict(FIELD_CATEGORIES)
    categories.update({f"attr:{a.key}": a.category for a in view.attributes})
    categories["external_ids"] = Category.IDENTIFIER  # 顧客番号 (issue 19)
    out: dict[str, str] = {}
    sep = ", " if lang == "en" else "、"
    current = next((p for p in purposes if p.code == view.purpose), None)
    for field in view.masked:
        category = categories.get(field)
        if current is not None and category in current.categories:
            # the purpose covers the field: it was withheld for this person — a do-not-contact on the channel it
            # serves, or an opt-in / consent the channel needs (R-35-1, TE-3) — not for being outside the purpose
            out[field] = label("web_customers.masked_blocked", lang)
            continue
        titles = [
            p.title_en if lang == "en" else p.title_ja
            for p in purposes
            if not p.retired and category in p.categories and p.code != view.purpose
        ]
        hint = label("web_customers.masked", lang)
        if titles:
            hint += f"（{label('web_customers.shown_for', lang)}: {sep.join(titles)}）"
        out[field] = hint
    return out


def _customer_page(
    request: Request,
    who: Principal,
    view: CustomerView,
    purposes: list[PurposeRead],
    *,
    status: int = 200,
    saved: bool = False,
    warnings: list[Any] | None = None,
) -> HTMLResponse:
    lang = lang_of(request)
    data = _page(
        request,
        who,
        c=view,
        cid=view.id,
        purposes=[p for p in purposes if not p.retired],
        current_purpose=view.purpose,
        current_purpose_title=_title(view.purpose, purposes, lang),
        purpose_title=lambda code: _title(code, purposes, lang),
        shown_for=_shown_for(view, purposes, lang),
        phones=[_national(p, lang) for p in view.phones],
        saved=saved,
        warnings=warnings or [],
        note_kinds=_NOTE_KINDS,
        note_max=NOTE_MAX,
    )
    name = "customers/_notes.html" if is_htmx(request) and (saved or warnings) else "customers/show.html"
    return render(request, name, data, status_code=status)


# -- search and list ------------------------------------------------------------------------------------------------


@router.get("/customers", response_class=HTMLResponse)
def search_page(request: Request, purpose: str = "", after: str = "") -> Response:
    """The search form, and with ``purpose`` the customers in the user's scope for it (cursor pages)."""
    who = _who(request)
    if who is None:
        return _to_sign_in()
    purposes = _purposes(request, who)
    data: dict[str, Any] = {
        "purposes": [p for p in purposes if not p.retired],
        "purpose_title": lambda code: _title(code, purposes, lang_of(request)),
        "chosen": purpose,
        "listed": None,
        "results": None,
    }
    if purpose or after:
        if not _purpose_ok(purpose, purposes):
            return _bad_purpose(request, who)
        if after and not _ID.match(after):
            return _invalid(request, who, label("web_customers.invalid", lang_of(request)))
        rt = runtime_of(request)
        try:
            with rt.transaction(who.actor, purpose, lang=lang_of(request), readonly=True) as ctx:
                items, cursor = service.list_page(ctx, after=after or None, limit=PAGE_SIZE)
        except MamoriError as exc:
            return _failure(request, who, exc)
        data.update(listed=items, next_cursor=cursor, after=after)
    return render(request, "customers/search.html", _page(request, who, **data))


@router.post("/customers/search", response_class=HTMLResponse)
def search(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    kana: Annotated[str, Form()] = "",
    customer_no: Annotated[str, Form()] = "",
    system: Annotated[str, Form()] = "",
) -> Response:
    """Exact match on one of e-mail / phone / name / kana / 顧客番号 (with its issuing system or of any system);
    the terms stay in this body (never in a URL)."""
    who = _who(request)
    if who is None:
        return _to_sign_in()
    lang = lang_of(request)
    if not _csrf_ok(request, who, csrf):
        return _error(request, who, 403, label("web_customers.csrf", lang))
    purposes = _purposes(request, who)
    if not _purpose_ok(purpose, purposes):
        return _bad_purpose(request, who)
    try:
        query = FindRequest.model_validate(
            {
                k: v.strip() or None
                for k, v in (
                    ("email", email),
                    ("phone", phone),
                    ("name", name),
                    ("kana", kana),
                    ("customer_no", customer_no),
                    ("system", system),
                )
            }
        )
    except ValidationError as exc:
        return _invalid_model(request, who, exc)
    try:
        with runtime_of(request).transaction(who.actor, purpose, lang=lang, readonly=True) as ctx:
            results = service.find(
                ctx,
                email=query.email,
                phone=query.phone,
                name=query.name,
                kana=query.kana,
                customer_no=query.customer_no,
                system=query.system,
            )
    except MamoriError as exc:
        return _failure(request, who, exc)
    data = _page(
        request,
        who,
        purposes=[p for p in purposes if not p.retired],
        purpose_title=lambda code: _title(code, purposes, lang),
        chosen=purpose,
        results=results,
        listed=None,
    )
    name_ = "customers/_results.html" if is_htmx(request) else "customers/search.html"
    return render(request, name_, data)


# -- one customer -------------------------------------------------------------------------------------------------


def _choose_page(request: Request, who: Principal, cid: str, purposes: list[PurposeRead]) -> HTMLResponse:
    data = _page(request, who, cid=cid, purposes=[p for p in purposes if not p.retired], chosen="")
    return render(request, "customers/open.html", data)


@router.get("/customers/{cid}", response_class=HTMLResponse)
def customer_page(request: Request, cid: str) -> Response:
    """Without a purpose for this customer yet: why are you opening it? With one: the customer for it."""
    who = _who(request)
    if who is None:
        return _to_sign_in()
    if not _ID.match(cid):
        return _not_found(request, who)
    purposes = _purposes(request, who)
    purpose = _remembered(request, who).get(cid)
    if purpose is None:
        return _choose_page(request, who, cid, purposes)
    try:
        with runtime_of(request).transaction(who.actor, purpose, lang=lang_of(request), readonly=True) as ctx:
            view = service.get(ctx, cid, include_activities=True)
    except MamoriError as exc:
        # a refused purpose: the reason with its rule, and the choice again (another purpose may be allowed)
        return _failure(
            request,
            who,
            exc,
            cid=cid,
            purposes=[p for p in purposes if not p.retired],
            current_purpose=purpose,
            current_purpose_title=_title(purpose, purposes, lang_of(request)),
        )
    return _customer_page(request, who, view, purposes)


@router.post("/customers/{cid}/open")
def open_customer(
    request: Request, cid: str, csrf: Annotated[str, Form()] = "", purpose: Annotated[str, Form()] = ""
) -> Response:
    """Declare the purpose of this use; the page then reads the customer for it (the service decides)."""
    who = _who(request)
    if who is None:
        return _to_sign_in()
    if not _ID.match(cid):
        return _not_found(request, who)
    if not _csrf_ok(request, who, csrf):
        return _error(request, who, 403, label("web_customers.csrf", lang_of(request)))
    if not _purpose_ok(purpose, _purposes(request, who)):
        return _bad_purpose(request, who)
    response = RedirectResponse(f"/customers/{cid}", status_code=303)
    _remember(response, request, who, cid, purpose)
    return response


@router.post("/customers/{cid}/notes", response_class=HTMLResponse)
def add_note(
    request: Request,
    cid: str,
    csrf: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "note",
    body: Annotated[str, Form()] = "",
) -> Response:
    """Log a note, call or inquiry (``customers note`` / ``POST /api/v1/customers/{id}/activities``)."""
    who = _who(request)
    if who is None:
        return _to_sign_in()
    if not _ID.match(cid):
        return _not_found(request, who)
    lang = lang_of(request)
    if not _csrf_ok(request, who, csrf):
        return _error(request, who, 403, label("web_customers.csrf", lang))
    purposes = _purposes(request, who)
    if not _purpose_ok(purpose, purposes):
        return _bad_purpose(request, who)
    if kind not in _NOTE_KINDS:
        return _invalid(request, who, label("web_customers.invalid", lang))
    if not body.strip():
        return _invalid(request, who, label("web_customers.note_empty", lang))
    try:
        activity = ActivityIn.model_validate({"kind": kind, "body": body})
    except ValidationError as exc:
        return _invalid_model(request, who, exc)
    try:
        with runtime_of(request).transaction(who.actor, purpose, lang=lang) as ctx:
            _aid, warnings = service.add_activity(ctx, cid, activity)
            view = service.get(ctx, cid, include_activities=True)
    except MamoriError as exc:
        return _failure(request, who, exc)
    return _customer_page(request, who, view, purposes, saved=True, warnings=warnings)


@router.post("/customers/{cid}/notes/check", response_class=HTMLResponse)
def check_note(
    request: Request, cid: str, csrf: Annotated[str, Form()] = "", body: Annotated[str, Form()] = ""
) -> Response:
    """As you type (htmx): the kinds of personal and 要配慮 information the scanner finds — never the values.
    Nothing is stored or read; saving the note is where the service decides (R-18-1 warning, R-20-2 refusal)."""
    who = _who(request)
    if who is None:
        return _to_sign_in()
    if not _ID.match(cid):
        return _not_found(request, who)
    lang = lang_of(request)
    if not _csrf_ok(request, who, csrf):
        return _error(request, who, 403, label("web_customers.csrf", lang))
    if len(body) > NOTE_MAX:
        return _invalid(request, who, label("web_customers.too_long", lang))
    available = registry.text_scanning_available()
    findings = registry.scan_text(body) if available and body.strip() else []
    kinds: list[str] = []
    sensitive: list[str] = []
    for f in findings:
        if f.sensitive:
            word = value("web_customers_sensitive", f.type.removeprefix("sensitive:"), lang)
            if word not in sensitive:
                sensitive.append(word)
        else:
            word = value("web_customers_finding", f.type.removeprefix("flag:"), lang)
            if word not in kinds:
                kinds.append(word)
    data = _page(
        request, who, available=available, kinds=kinds, sensitive=sensitive, typed=bool(body.strip())
    )
    return render(request, "customers/_check.html", data)
