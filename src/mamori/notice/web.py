"""Web pages of the notice slice (issue 18): the privacy center's front page and the published notice (public, no
staff login, no cookie), and the privacy officer's page to review the draft and publish it.

URLs (nothing personal in any of them):

- ``GET  /privacy`` — the privacy center's front page: the notice, making a request, checking a request.
- ``GET  /privacy/notice`` — the version in force: a table of contents, the version and the date it took effect,
  every section, and 「改定履歴」 with every version (R-32-1). Nothing published yet: a page saying the notice is
  being prepared, with the contact point.
- ``GET  /privacy/notice/{version}`` — a version as it was published (404 page for an unknown version).
- ``GET  /notice`` — staff (privacy officer): the draft against the published version section by section, the
  settings not set, the 公表する button, the history.
- ``POST /notice/publish`` — publish the draft the page showed (its sha256; CSRF as every staff form).

Public pages are Japanese by default, English with ``?lang=en`` (never a cookie), with the page headers (CSP,
no-store) of every page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import lang_of, render
from mamori.kernel.labels import fmt_date
from mamori.notice import service

TEMPLATES = Path(__file__).resolve().parent / "templates"
router = APIRouter(include_in_schema=False)

_VERSION = re.compile(r"^[1-9][0-9]{0,8}$")
_SHA = re.compile(r"^[0-9a-f]{64}$")


def _public(request: Request, **extra: Any) -> dict[str, Any]:
    settings = runtime_of(request).settings
    return {
        "operator_name": settings.operator_name,
        "q": "?lang=en" if lang_of(request) == "en" else "",
        **extra,
    }


# -- public: the privacy center ------------------------------------------------------------------------------------


@router.get("/privacy", response_class=HTMLResponse)
def front(request: Request) -> Response:
    return render(request, "notice/front.html", _public(request))


def _notice_page(request: Request, version: int | None) -> Response:
    with runtime_of(request).transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        latest = service.current(ctx)
        shown = (
            latest if version is None or (latest and latest.version == version) else service.get(ctx, version)
        )
        history = service.history(ctx) if shown is not None else []
    if shown is None:
        if version is not None:
            return render(request, "notice/not_found.html", _public(request), status_code=404)
        contact = runtime_of(request).settings.privacy_contact
        return render(request, "notice/preparing.html", _public(request, contact=contact))
    is_current = latest is not None and shown.version == latest.version
    return render(
        request,
        "notice/notice.html",
        _public(request, notice=shown, history=history, is_current=is_current),
    )


@router.get("/privacy/notice", response_class=HTMLResponse)
def notice(request: Request) -> Response:
    """The published notice in force (R-32-1)."""
    return _notice_page(request, None)


@router.get("/privacy/notice/{version}", response_class=HTMLResponse)
def notice_version(request: Request, version: str) -> Response:
    """A version as it was published; anything but a version number is the 404 page."""
    if not _VERSION.match(version):
        return render(request, "notice/not_found.html", _public(request), status_code=404)
    return _notice_page(request, int(version))


# -- staff: review and publish (privacy officer) -------------------------------------------------------------------

CHANGE_WORDS = {
    "ja": {"added": "追加", "removed": "削除", "changed": "変更"},
    "en": {"added": "Added", "removed": "Removed", "changed": "Changed"},
}


def _staff_page(request: Request, who: Principal, *, done: str | None = None, status: int = 200) -> Response:
    lang = lang_of(request)
    try:
        with runtime_of(request).transaction(who.actor, lang=lang) as ctx:
            draft = service.draft(ctx, lang)
            history = service.history(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc)
    data = pages.page_context(
        request, who, draft=draft, history=history, done=done, change_words=CHANGE_WORDS[lang]
    )
    return render(request, "notice/staff.html", data, status_code=status)


@router.get("/notice", response_class=HTMLResponse)
def staff_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    return _staff_page(request, who)


@router.post("/notice/publish", response_class=HTMLResponse)
def publish(
    request: Request,
    csrf: Annotated[str, Form(max_length=128)] = "",
    sha256: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Publish the draft the page showed: a draft that changed since is refused (review it again)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    lang = lang_of(request)
    try:
        with runtime_of(request).transaction(who.actor, lang=lang) as ctx:
            result = service.publish(ctx, expected_sha256=sha256 if _SHA.match(sha256) else "-")
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/notice")
    when = fmt_date(result.published_at, lang)
    if result.published:
        done = (
            f"Published version {result.version} ({when})."
            if lang == "en"
            else f"第{result.version}版を公表しました（{when}）。"
        )
    else:
        done = (
            f"Unchanged: version {result.version} is in force."
            if lang == "en"
            else f"変更はありません（公表中は第{result.version}版）。"
        )
    return _staff_page(request, who, done=done)
