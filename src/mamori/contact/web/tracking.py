"""The public measurement routes of campaign e-mail (brief T, issue 24 item 4). No sign-in, no CSRF (a mail
client follows them), like ``/u/{token}``; the token is random and only its sha256 is stored.

- ``GET /c/{token}/{n}`` — records the click (:func:`mamori.contact.service.tracking.click`) and answers 302 to the
  campaign's n-th stored link; the target never comes from the request. An unknown token or index gets a neutral
  404 page; unknown tokens are throttled per IP on the privacy center's counters, as ``/u/`` does.
- ``GET /o/{token}.gif`` — a 1×1 transparent GIF, the same bytes for every token (``Cache-Control: no-store``);
  the first fetch for a send measuring opens records its open time.

The access log holds the route template only (``/c/{token}/{n}``), never the path; the audit entries name the
campaign, the send and the link index, never the token; ``Referrer-Policy: no-referrer`` keeps the token from
being sent onwards.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.contact.service import tracking as service
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.http.deps import runtime_of
from mamori.kernel.http.templating import lang_of, render

router = APIRouter(include_in_schema=False)

Token = Annotated[str, Path(max_length=200)]
Index = Annotated[str, Path(max_length=6)]
GUESSES_PER_IP = 30  # unknown links per IP and hour before the page answers 429
_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _not_found(request: Request, status: int = 404) -> HTMLResponse:
    return render(
        request,
        "contact/link_not_found.html",
        {"contact": runtime_of(request).settings.privacy_contact, "switch_path": None},
        status_code=status,
        headers=_HEADERS,
    )


@router.get("/c/{token}/{n}", response_model=None)
def tracked_link(request: Request, token: Token, n: Index) -> Response:
    """Record the click and redirect to the stored link; a neutral 404 for anything unknown."""
    rt = runtime_of(request)
    target: str | None = None
    if n.isdigit() and n.isascii():
        with rt.transaction(SYSTEM_ACTOR, lang=lang_of(request)) as ctx:
            target = service.click(ctx, token, int(n))
    if target is not None:
        return RedirectResponse(target, status_code=302, headers=_HEADERS)
    from mamori.rights import service as rights_service

    try:
        with rt.transaction(SYSTEM_ACTOR) as ctx:
            rights_service.throttle(ctx, [("tracked-link-ip", _ip(request), GUESSES_PER_IP)])
    except rights_service.TooManyAttempts:
        return _not_found(request, status=429)
    return _not_found(request)


@router.get("/o/{token}.gif", response_model=None)
def open_pixel(request: Request, token: Token) -> Response:
    """The 1×1 image of a measured message: the first fetch records the open; the same bytes for every token."""
    with runtime_of(request).transaction(SYSTEM_ACTOR, lang=lang_of(request)) as ctx:
        service.opened(ctx, token)
    return Response(service.PIXEL, media_type="image/gif", headers=_HEADERS)
