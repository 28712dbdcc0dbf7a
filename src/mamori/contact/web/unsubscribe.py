"""The public unsubscribe page of campaign e-mail (issue 20; 特定電子メール法 3条3項 / TE-3, RFC 8058). No sign-in.

- ``GET /u/{token}`` — a short Japanese page with one button (nothing is looked up: the page is the same for every
  token, so it tells nobody whether a token, or a person, exists).
- ``POST /u/{token}`` — the page's button, or a mail client's one-click POST (body ``List-Unsubscribe=One-Click``,
  no cookie, no CSRF token: RFC 8058 §3.2 forbids requiring either) — writes the do-not-contact line for e-mail at
  once (:func:`mamori.contact.service.unsubscribe.unsubscribe`) and answers the same neutral page whether the
  token was good, unknown or already used. Guesses are throttled per IP (unknown tokens only, on the privacy
  center's counters): a real unsubscribe is never refused, even from a mail provider's shared address.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse

from mamori.contact.service import unsubscribe as service
from mamori.contact.service.campaigns import ONE_CLICK
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.http.deps import runtime_of
from mamori.kernel.http.templating import lang_of, render

router = APIRouter(include_in_schema=False)

Token = Annotated[str, Path(max_length=200)]
GUESSES_PER_IP = 30  # unknown tokens per IP and hour before the page answers 429
_HEADERS = {"Referrer-Policy": "no-referrer"}  # the token is in the URL: never sent onwards


def _page(request: Request, *, done: bool, status: int = 200) -> HTMLResponse:
    settings = runtime_of(request).settings
    return render(
        request,
        "contact/unsubscribe.html",
        {
            "done": done,
            "operator_name": settings.operator_name,
            "contact": settings.privacy_contact,
            "switch_path": None,
        },
        status_code=status,
        headers=_HEADERS,
    )


@router.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: Token) -> HTMLResponse:
    """The confirmation page with one button (the same for every token)."""
    return _page(request, done=False)


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/u/{token}", response_class=HTMLResponse)
def unsubscribe(
    request: Request,
    token: Token,
    one_click: Annotated[str, Form(alias="List-Unsubscribe", max_length=32)] = "",
) -> HTMLResponse:
    """Stop campaign e-mail to the person at once; the same answer for every token."""
    method: service.Method = "email" if f"List-Unsubscribe={one_click}" == ONE_CLICK else "button"
    rt = runtime_of(request)
    with rt.transaction(SYSTEM_ACTOR, lang=lang_of(request)) as ctx:
        stopped = service.unsubscribe(ctx, token, method=method)
        guess = not stopped and not service.known(ctx, token)
    if guess:
        from mamori.rights import service as rights_service

        try:
            with rt.transaction(SYSTEM_ACTOR) as ctx:
                rights_service.throttle(ctx, [("unsubscribe-ip", _ip(request), GUESSES_PER_IP)])
        except rights_service.TooManyAttempts:
            return _page(request, done=True, status=429)
    return _page(request, done=True)
