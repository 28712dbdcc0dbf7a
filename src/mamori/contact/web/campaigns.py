"""Web pages of e-mail campaigns (issue 20): thin — parse, call :mod:`mamori.contact.service.campaigns`, render.

- ``GET  /contact/campaigns`` — the campaigns (name, purpose, status, how many were queued).
- ``GET  /contact/campaigns/new`` — the draft form (purposes that name e-mail only); ``POST /contact/campaigns``
  creates it → the campaign page.
- ``GET  /contact/campaigns/{id}`` — the campaign: its text, a preview of the message as recipients see it (the
  sender's name and address, the complaint contact, the unsubscribe link and headers: TE-4), the counts and, for a
  draft, the send button; ``POST /contact/campaigns/{id}/send`` sends it once. A sent campaign lists its sends
  (ids, status, and for a measured campaign the first open and click times and the click count).
- The draft form has a ``tracking`` select (計測なし / クリック / 開封とクリック, brief T).

The service authorises (contact.campaign / contact.campaign_send), checks (R-18-1, TE-3, TE-4) and audits. Every
write needs the session's CSRF token; no URL carries anything but opaque ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.contact.campaign_schemas import CampaignCreate
from mamori.contact.service import campaigns as service
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import lang_of, render
from mamori.purposes import service as purposes_service

router = APIRouter(include_in_schema=False)

_ID = re.compile(r"^[0-9a-f]{32}$")
Csrf = Annotated[str, Form()]
Text = Annotated[str, Form()]
BACK = "/contact/campaigns"


@contextmanager
def _transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    # drafts hold no personal data: no purpose is declared (the service declares the campaign's own when sending)
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=readonly) as ctx:
        yield ctx


def _email_purposes(ctx: Context) -> list[tuple[str, str]]:
    lang = ctx.lang
    return [
        (p.code, p.title_en if lang == "en" else p.title_ja)
        for p in sorted(purposes_service.list_purposes(ctx, include_retired=False), key=lambda p: p.code)
        if "email" in (getattr(p, "channels", None) or ())
    ]


@router.get("/contact/campaigns", response_class=HTMLResponse)
def campaign_list(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    try:
        with _transaction(request, who, readonly=True) as ctx:
            rows = service.list_campaigns(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc)
    return render(request, "contact/campaigns.html", pages.page_context(request, who, campaigns=rows))


def _form(
    request: Request,
    who: Principal,
    *,
    chosen: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    failure: str | None = None,
    rule_id: str | None = None,
    status: int = 200,
) -> Response:
    try:
        with _transaction(request, who, readonly=True) as ctx:
            service.list_campaigns(ctx, limit=1)  # the role check (contact.campaign), audited on refusal
            purposes = _email_purposes(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=BACK)
    return render(
        request,
        "contact/campaign_new.html",
        pages.page_context(
            request,
            who,
            purposes=purposes,
            chosen=chosen or {},
            errors=errors or [],
            failure=failure,
            rule_id=rule_id,
        ),
        status_code=status,
    )


@router.get("/contact/campaigns/new", response_class=HTMLResponse)
def new_campaign(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    return _form(request, who)


@router.post("/contact/campaigns", response_class=HTMLResponse)
def create_campaign(
    request: Request,
    csrf: Csrf = "",
    name: Text = "",
    purpose: Text = "",
    subject: Text = "",
    body: Text = "",
    tracking: Annotated[str, Form(max_length=32)] = "none",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    chosen = {"name": name, "purpose": purpose, "subject": subject, "body": body, "tracking": tracking}
    try:
        data = CampaignCreate.model_validate(
            {"name": name, "purpose": purpose, "subject": subject, "body": body, "tracking": tracking}
        )
    except ValidationError as exc:
        return _form(request, who, chosen=chosen, errors=pages.form_errors(exc, lang_of(request)), status=422)
    try:
        with _transaction(request, who) as ctx:
            made = service.create(ctx, data)
    except MamoriError as exc:
        if exc.http_status in (403,) and exc.code == "role_not_permitted":
            return pages.refusal(request, who, exc, back=BACK)
        return _form(
            request,
            who,
            chosen=chosen,
            failure=exc.message(lang_of(request)),
            rule_id=exc.rule_id,
            status=exc.http_status,
        )
    return RedirectResponse(f"/contact/campaigns/{made.id}", status_code=303)


def _campaign_page(request: Request, who: Principal, campaign_id: str, *, status: int = 200) -> Response:
    if not _ID.match(campaign_id):
        return pages.not_found(request, who, back=BACK)
    try:
        with _transaction(request, who, readonly=True) as ctx:
            found = service.show(ctx, campaign_id)
            shown = service.preview(ctx, campaign_id)
            sent_rows = service.sends(ctx, campaign_id) if found.status == "sent" else []
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=BACK)
    return render(
        request,
        "contact/campaign.html",
        pages.page_context(request, who, campaign=found, preview=shown, sends=sent_rows),
        status_code=status,
    )


@router.get("/contact/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(request: Request, campaign_id: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    return _campaign_page(request, who, campaign_id)


@router.post("/contact/campaigns/{campaign_id}/send", response_class=HTMLResponse)
def send_campaign(request: Request, campaign_id: str, csrf: Csrf = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _ID.match(campaign_id):
        return pages.not_found(request, who, back=BACK)
    try:
        with _transaction(request, who) as ctx:
            service.send(ctx, campaign_id)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=f"/contact/campaigns/{campaign_id}")
    return RedirectResponse(f"/contact/campaigns/{campaign_id}", status_code=303)
