"""Web pages of the incidents slice: notices to the people (R-26-6, G-34). Thin — parse, call the services,
render.

- ``GET  /incidents/{key}/notices`` — the fragment of the incident page (loaded by htmx into its notices
  section): the plan counts, the 通知する button, the send log, the people without contact with the
  substitute-measure form, the letters to print.
- ``POST /incidents/{key}/notices`` — send (re-renders the fragment for htmx; else back to the incident page).
- ``POST /incidents/{key}/substitute`` — a publication or an inquiry line for the people without contact.
- ``GET  /incidents/{key}/letters`` — the letters for printing (names and postal addresses: read for the legal
  duty, audited, never stored); ``POST /incidents/{key}/letters/sent`` records them posted.

The services authorise (incident.read for the fragment, incident.notify for the rest) and audit. Every write
needs the session's CSRF token; URLs carry the 事案番号 or the opaque id only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.incidents.notice_schemas import (
    CHANNEL_LABELS,
    STATUS_LABELS,
    SUBSTITUTE_LABELS,
    SubstituteIn,
)
from mamori.incidents.service import notices as service
from mamori.incidents.service.register import find
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import PAGE_HEADERS, is_htmx, lang_of, render

router = APIRouter(include_in_schema=False)

_KEY = re.compile(r"^(?:[0-9a-f]{32}|(?:INC-|inc-)?[0-9]{1,9})$")
# The printable letters: the app's CSP unchanged (their print style comes from /static/mamori/mamori.css; the inline
# copy in the template serves the downloaded file).
LETTER_HEADERS = PAGE_HEADERS
Csrf = Annotated[str, Form()]
Text = Annotated[str, Form()]


@contextmanager
def _transaction(request: Request, who: Principal) -> Iterator[Context]:
    # a notice is a legal duty, not a use for a business purpose: no purpose is declared
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request)) as ctx:
        yield ctx


def _back(incident_id: str) -> str:
    return f"/incidents/{incident_id}#notices"


def _fragment(
    request: Request,
    who: Principal,
    key: str,
    *,
    result: Any = None,
    failure: MamoriError | None = None,
    errors: list[dict[str, str]] | None = None,
    chosen: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    try:
        with _transaction(request, who) as ctx:
            plan = service.plan(ctx, key)
            log = service.log(ctx, key)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/incidents")
    data = {
        "plan": plan,
        "log": log,
        "no_contact": [n for n in log if n.status in ("no_contact", "failed")],
        "letters_queued": sum(1 for n in log if n.channel == "letter" and n.status == "queued"),
        "channel_labels": CHANNEL_LABELS,
        "status_labels": STATUS_LABELS,
        "substitute_labels": SUBSTITUTE_LABELS,
        "result": result,
        "failure": failure.message(lang_of(request)) if failure else None,
        "rule_id": failure.rule_id if failure else None,
        "errors": errors or [],
        "chosen": chosen or {},
    }
    # htmx loads the fragment into the incident page; a plain request (no JavaScript) gets it as a page
    name = "incidents/_notices.html" if is_htmx(request) else "incidents/notices_page.html"
    return render(request, name, pages.page_context(request, who, **data), status_code=status)


def _guard(request: Request, key: str, csrf: str | None = None) -> Principal | Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if csrf is not None and not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    return who


@router.get("/incidents/{key}/notices", response_class=HTMLResponse)
def notices_fragment(request: Request, key: str) -> Response:
    who = _guard(request, key)
    if not isinstance(who, Principal):
        return who
    return _fragment(request, who, key)


def _write(
    request: Request, who: Principal, key: str, call: Callable[[Context], Any], chosen: dict[str, str]
) -> Response:
    try:
        with _transaction(request, who) as ctx:
            result = call(ctx)
            incident_id = find(ctx, key).id
    except MamoriError as exc:
        if exc.http_status in (403, 404):
            return pages.refusal(request, who, exc, back="/incidents")
        return _fragment(request, who, key, failure=exc, chosen=chosen, status=exc.http_status)
    if is_htmx(request):
        return _fragment(request, who, key, result=result)
    return RedirectResponse(_back(incident_id), status_code=303)


@router.post("/incidents/{key}/notices", response_class=HTMLResponse)
def send(
    request: Request, key: str, csrf: Csrf = "", email_only: Text = "", hold_back: Text = ""
) -> Response:
    who = _guard(request, key, csrf)
    if not isinstance(who, Principal):
        return who
    prefs = ("email",) if email_only else ("email", "letter")
    return _write(
        request,
        who,
        key,
        lambda ctx: service.send(ctx, key, channel_preference=prefs, hold_back=bool(hold_back)),
        {},
    )


@router.post("/incidents/{key}/substitute", response_class=HTMLResponse)
def substitute(request: Request, key: str, csrf: Csrf = "", kind: Text = "", note: Text = "") -> Response:
    who = _guard(request, key, csrf)
    if not isinstance(who, Principal):
        return who
    chosen = {"kind": kind}  # the note is not echoed back
    try:
        data = SubstituteIn.model_validate({"kind": kind, "note": note})
    except ValidationError as exc:
        return _fragment(
            request, who, key, errors=pages.form_errors(exc, lang_of(request)), chosen=chosen, status=422
        )
    return _write(request, who, key, lambda ctx: service.substitute(ctx, key, data.kind, data.note), chosen)


@router.get("/incidents/{key}/letters", response_class=HTMLResponse)
def letters(request: Request, key: str, format: str = "html") -> Response:  # noqa: A002
    """The letters to print, one after the other (each starts a new page); ``?format=pdf`` as one PDF."""
    who = _guard(request, key)
    if not isinstance(who, Principal):
        return who
    try:
        with _transaction(request, who) as ctx:
            if format == "pdf":
                data, ref, _count = service.letters_pdf(ctx, key)
                return Response(
                    data,
                    media_type="application/pdf",
                    headers={
                        **PAGE_HEADERS,
                        "Content-Disposition": f'attachment; filename="{ref}-letters.pdf"',
                    },
                )
            html, _count = service.letters_document(ctx, key)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/incidents")
    return HTMLResponse(html, headers=LETTER_HEADERS)


@router.post("/incidents/{key}/letters/sent", response_class=HTMLResponse)
def letters_sent(request: Request, key: str, csrf: Csrf = "") -> Response:
    who = _guard(request, key, csrf)
    if not isinstance(who, Principal):
        return who
    return _write(request, who, key, lambda ctx: service.mark_letters_sent(ctx, key), {})
