"""The call center's inbound screen (issue 20, seed 003 Q1/Q2). Thin: parse the form, call
:mod:`mamori.contact.service.inbound`, render.

URLs (nothing personal in any of them: the number travels in a POST body, customer ids are opaque):

- ``GET  /contact/inbound`` — the search form: the purpose of this use and the number the person calls from.
- ``POST /contact/inbound/find`` — the people the number belongs to (htmx: the results alone): name and kana as
  the purpose allows, the purposes they were notified of, where their data came from, do-not-contact and stop-use,
  and one form per person to record 「もう連絡しないで」.
- ``POST /contact/inbound/dnc`` — record do-not-contact for the channels ticked (method: oral), then the person's
  card again with the new state (htmx: the card alone; an error goes to the card's message area).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from mamori.consent.schemas import CHANNELS
from mamori.contact.service import inbound as service
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import is_htmx, lang_of, render
from mamori.kernel.labels import label
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeRead

router = APIRouter(include_in_schema=False)

_ID = re.compile(r"^[0-9a-f]{32}$")
_PURPOSE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
DEFAULT_PURPOSE = "support"  # the call center's usual purpose, preselected when it is registered


def _purposes(request: Request, who: Principal) -> list[PurposeRead]:
    with runtime_of(request).transaction(who.actor, readonly=True) as ctx:
        return [p for p in purposes_service.list_purposes(ctx, include_retired=False)]


def _title(code: str, purposes: list[PurposeRead], lang: str) -> str:
    for p in purposes:
        if p.code == code:
            return p.title_en if lang == "en" else p.title_ja
    return code


def _data(
    request: Request, who: Principal, purposes: list[PurposeRead], chosen: str, **extra: Any
) -> dict[str, Any]:
    lang = lang_of(request)
    return pages.page_context(
        request,
        who,
        purposes=purposes,
        chosen=chosen,
        chosen_title=_title(chosen, purposes, lang),
        channels=CHANNELS,
        reference_max=service.REFERENCE_MAX,
        **extra,
    )


def _bad_purpose(request: Request, who: Principal) -> HTMLResponse:
    lang = lang_of(request)
    return pages.error_page(
        request,
        who,
        422,
        label("web_customers.bad_purpose", lang),
        back="/contact/inbound",
    )


def _failure(request: Request, who: Principal, exc: MamoriError) -> HTMLResponse:
    return pages.refusal(request, who, exc, back="/contact/inbound")


@router.get("/contact/inbound", response_class=HTMLResponse)
def inbound_page(request: Request) -> Response:
    """The search form (nothing personal: no lookup happens here)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    try:
        with runtime_of(request).transaction(who.actor, lang=lang_of(request), readonly=True) as ctx:
            service.may_use(ctx)
    except MamoriError as exc:
        return _failure(request, who, exc)
    purposes = _purposes(request, who)
    chosen = DEFAULT_PURPOSE if any(p.code == DEFAULT_PURPOSE for p in purposes) else ""
    return render(request, "contact/inbound.html", _data(request, who, purposes, chosen, result=None))


@router.post("/contact/inbound/find", response_class=HTMLResponse)
def inbound_find(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
) -> Response:
    """The people the number belongs to; the number stays in this body (never in a URL, a log or the audit)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    purposes = _purposes(request, who)
    if not _PURPOSE.match(purpose) or not any(p.code == purpose for p in purposes):
        return _bad_purpose(request, who)
    try:
        with runtime_of(request).transaction(who.actor, purpose, lang=lang_of(request), readonly=True) as ctx:
            result = service.find(ctx, phone)
    except MamoriError as exc:
        return _failure(request, who, exc)
    data = _data(request, who, purposes, purpose, result=result, saved=None)
    name = "contact/_inbound_results.html" if is_htmx(request) else "contact/inbound.html"
    return render(request, name, data)


@router.post("/contact/inbound/dnc", response_class=HTMLResponse)
def inbound_dnc(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    customer_id: Annotated[str, Form()] = "",
    channel: Annotated[list[str] | None, Form()] = None,
    reference: Annotated[str, Form()] = "",
) -> Response:
    """「もう連絡しないで」 in one step: do-not-contact for the channels ticked (R-35-1), then the card again."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return _retarget(pages.csrf_refused(request, who), customer_id)
    purposes = _purposes(request, who)
    if not _PURPOSE.match(purpose) or not any(p.code == purpose for p in purposes):
        return _retarget(_bad_purpose(request, who), customer_id)
    if not _ID.match(customer_id):
        return _retarget(pages.not_found(request, who, back="/contact/inbound"), "")
    try:
        with runtime_of(request).transaction(who.actor, purpose, lang=lang_of(request)) as ctx:
            card = service.record_do_not_contact(ctx, customer_id, list(channel or []), reference=reference)
    except MamoriError as exc:
        return _retarget(_failure(request, who, exc), customer_id)
    result = service.InboundFind(purpose=purpose, callers=[card])
    data = _data(request, who, purposes, purpose, result=result, saved=customer_id, c=card)
    name = "contact/_inbound_caller.html" if is_htmx(request) else "contact/inbound.html"
    return render(request, name, data)


def _retarget(response: HTMLResponse, customer_id: str) -> HTMLResponse:
    """An htmx error of the request form goes to the card's message area, keeping the card and its form."""
    if _ID.match(customer_id):
        response.headers["HX-Retarget"] = f"#dnc-message-{customer_id}"
        response.headers["HX-Reswap"] = "innerHTML"
    return response
