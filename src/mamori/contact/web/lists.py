"""Web pages of call and mailing lists (issue 20) — thin: parse, call ``contact.service.lists``, render.

- ``GET  /contact/lists`` — the form: the purpose (with the channels it names), the channel, the segment.
- ``POST /contact/lists`` — builds the list (audited) and shows the counts: how many people are included and how
  many were left out, by reason in words; a download button posts the same choices to
- ``POST /contact/lists/download`` — builds the list again (a new, audited build) and answers the CSV (UTF-8
  with BOM) as an attachment.

Nothing personal is in any URL: the choices travel in POST bodies, the names and numbers only in the CSV. Every
POST needs the session's CSRF token; every page carries the CSP and ``no-store``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from mamori.contact.schemas import EXCLUSION_LABELS, ContactList
from mamori.contact.service import lists
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import PAGE_HEADERS, lang_of, render
from mamori.kernel.policy import CHANNELS
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeRead

router = APIRouter(include_in_schema=False)

_PURPOSE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
MAX_SEGMENT = 400
Csrf = Annotated[str, Form()]
Short = Annotated[str, Form()]
CHANNEL_WORDS = {
    "phone": ("電話", "phone"),
    "email": ("メール", "e-mail"),
    "post": ("郵送", "post"),
    "sms": ("SMS", "SMS"),
    "visit": ("訪問", "visit"),
}


def _purposes(request: Request, who: Principal) -> list[PurposeRead]:
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=True) as ctx:
        return [p for p in purposes_service.list_purposes(ctx, include_retired=False) if p.channels]


def _page(request: Request, who: Principal, status: int = 200, **extra: Any) -> HTMLResponse:
    data = pages.page_context(
        request,
        who,
        purposes=_purposes(request, who),
        channels=CHANNELS,
        channel_words=CHANNEL_WORDS,
        reasons=EXCLUSION_LABELS,
        **extra,
    )
    return render(request, "contact/lists.html", data, status_code=status)


@router.get("/contact/lists", response_class=HTMLResponse)
def form(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    return _page(request, who)


def _checked(
    request: Request, who: Principal, purpose: str, channel: str, segment: str
) -> HTMLResponse | None:
    """A choice that cannot be right: 422 in words, never echoing the value."""
    lang = lang_of(request)
    if not _PURPOSE.match(purpose):
        return pages.error_page(
            request,
            who,
            422,
            "利用目的を選んでください。" if lang == "ja" else "Choose a purpose.",
            back="/contact/lists",
        )
    if channel not in CHANNELS:
        return pages.error_page(
            request,
            who,
            422,
            "連絡手段を選んでください。" if lang == "ja" else "Choose a channel.",
            back="/contact/lists",
        )
    if len(segment) > MAX_SEGMENT:
        return pages.error_page(
            request,
            who,
            422,
            "条件が長すぎます。" if lang == "ja" else "The segment is too long.",
            back="/contact/lists",
        )
    return None


def _build(
    request: Request, who: Principal, purpose: str, channel: str, segment: str, *, csv: bool = False
) -> tuple[ContactList, bytes]:
    with runtime_of(request).transaction(who.actor, purpose, lang=lang_of(request)) as ctx:
        built = lists.build(ctx, channel=channel, segment=segment.strip() or None)
        return lists.export_csv(ctx, built) if csv else (built, b"")


@router.post("/contact/lists", response_class=HTMLResponse)
def build(
    request: Request, csrf: Csrf = "", purpose: Short = "", channel: Short = "", segment: Short = ""
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    bad = _checked(request, who, purpose, channel, segment)
    if bad is not None:
        return bad
    try:
        built, _ = _build(request, who, purpose, channel, segment)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/contact/lists")
    return _page(
        request, who, built=built, chosen={"purpose": purpose, "channel": channel, "segment": segment}
    )


@router.post("/contact/lists/download")
def download(
    request: Request, csrf: Csrf = "", purpose: Short = "", channel: Short = "", segment: Short = ""
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    bad = _checked(request, who, purpose, channel, segment)
    if bad is not None:
        return bad
    try:
        built, data = _build(request, who, purpose, channel, segment, csv=True)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/contact/lists")
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={
            **PAGE_HEADERS,
            "Content-Disposition": f'attachment; filename="contact-{built.channel}-{built.build_id}.csv"',
        },
    )
