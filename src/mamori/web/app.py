"""The staff web app (issue 15): sign-in, the shell every page shares, static files and /docs offline.

Server-rendered (Jinja2 + htmx) in the API's FastAPI process, on the same server-side sessions as the API
(``__Host-mamori_session``). Every form carries the session's CSRF token (htmx sends it in ``X-CSRF-Token`` from
the page's meta tag); cross-site posts are refused. Browser code comes from pinned packages and is served here:
htmx from ``django-js-lib-htmx`` (no Django dependency), Swagger UI from ``fastapi-offline`` (PyPI), Chart.js from
a pinned npm package that ``make install`` puts in ``web-vendor/`` (ADR 0024) — no CDN.
Each slice's pages live in its own ``web.py`` and ``templates/<slice>/`` and are mounted by :func:`mount`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import fastapi_offline
import js_lib_htmx
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import MamoriError, PolicyDenied
from mamori.kernel.http import pages, templating
from mamori.kernel.http.deps import runtime_of
from mamori.kernel.http.pages import signed_in
from mamori.staff import service as staff_service

SESSION_COOKIE = "__Host-mamori_session"
_HTTP = Path(templating.__file__).resolve().parent
router = APIRouter(include_in_schema=False)


# -- who is signed in ------------------------------------------------------------------------------------------


def idle_timeout(request: Request) -> timedelta:
    return timedelta(minutes=runtime_of(request).settings.session_idle_minutes)


# -- sign-in, sign-out, language, idle lock ----------------------------------------------------------------------


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    if signed_in(request) is not None:
        return RedirectResponse("/", status_code=303)
    return templating.render(request, "web/sign_in.html", {"failed": False})


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    totp: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    """Password and (where required) the 6-digit code; one message for every failure (no enumeration).

    An account that must enrol a second factor (first sign-in, or after an admin's 2FA reset) and gave the right
    password gets the enrolment page instead (QR code; ``mamori.staff.web``), still without a session."""
    from mamori.staff import web as staff_web
    from mamori.staff.schemas import EnrolmentStarted

    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return templating.render(request, "web/sign_in.html", {"failed": True}, status_code=403)
    rt = runtime_of(request)
    try:
        signed = staff_service.sign_in(
            rt, username, password, totp or None, idle_timeout=idle_timeout(request), enrol=True
        )
    except MamoriError:
        return templating.render(request, "web/sign_in.html", {"failed": True}, status_code=401)
    if isinstance(signed, EnrolmentStarted):
        return staff_web.enrolment_page(request, signed)
    response = RedirectResponse("/", status_code=303)
    max_age = int((signed.expires_at - rt.clock.now()).total_seconds())
    response.set_cookie(
        SESSION_COOKIE, signed.token, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict"
    )
    return response


def _end_session(request: Request) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with runtime_of(request).transaction(SYSTEM_ACTOR) as ctx:
            staff_service.sign_out(ctx, token)


def _cleared(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    who = signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    _end_session(request)
    return _cleared(RedirectResponse("/sign-in", status_code=303))


@router.get("/locked", response_class=HTMLResponse)
def locked(request: Request) -> Response:
    """The idle lock: the session ends on the server too, then the sign-in form (seed 001 case 5)."""
    _end_session(request)
    return _cleared(templating.render(request, "web/sign_in.html", {"failed": False, "locked": True}))


@router.get("/ping")
def ping(request: Request) -> Response:
    """Activity on the page: a request the server sees, so its idle clock restarts with the page's."""
    return Response(status_code=204 if signed_in(request) is not None else 401)


@router.post("/lang")
def switch_language(
    request: Request,
    lang: Annotated[str, Form(pattern="^(ja|en)$")] = "ja",
    next: Annotated[str, Form(max_length=200)] = "/",
) -> Response:
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie("mamori_lang", lang, path="/", samesite="strict", secure=True, httponly=True)
    return response


# -- home ---------------------------------------------------------------------------------------------------------


def _section(fn: Any) -> Any:
    """One part of the home page, or None when the user's role may not see it (the service decides)."""
    try:
        return fn()
    except PolicyDenied:
        return None


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """Home: requests due soon and overdue, overdue outsourcee audits, counterparties whose 基準適合体制 review is
    due — each shown only to roles the services allow, each number linked to the list behind it."""
    from mamori.processors import service as processors_service
    from mamori.provision.service import counterparties as counterparty_service
    from mamori.purposes import service as purposes_service
    from mamori.rights import service as rights_service

    who = signed_in(request)
    if who is None:
        return pages.to_sign_in()
    with runtime_of(request).transaction(who.actor, lang=templating.lang_of(request), readonly=True) as ctx:
        board = _section(lambda: rights_service.board(ctx))
        contracts = _section(lambda: processors_service.list_contracts(ctx))
        counterparties = _section(lambda: counterparty_service.list_counterparties(ctx))
        purposes = [p for p in purposes_service.list_purposes(ctx) if not p.retired]
    data = {
        "purposes": purposes if who.actor.role.value in ("sales", "support", "privacy_officer") else [],
        **pages.page_context(request, who),
        "requests_overdue": [r for r in board or [] if r.overdue],
        "requests_soon": [r for r in board or [] if not r.overdue and r.days_left <= 3],
        "board_visible": board is not None,
        "audits_overdue": [c for c in contracts or [] if c.overdue_audits],
        "contracts_visible": contracts is not None,
        "reviews_due": [c for c in counterparties or [] if any(a.startswith("R-28-3") for a in c.alerts)],
        "counterparties_visible": counterparties is not None,
    }
    return templating.render(request, "web/home.html", data)


# -- /docs without the internet -----------------------------------------------------------------------------------


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> Response:
    """Swagger UI from the fastapi-offline package's static files, served here (no CDN)."""
    return templating.render(request, "web/docs.html", {})


def mount(app: FastAPI) -> None:
    from mamori.analytics import web as analytics_web
    from mamori.consent import web as consent_web
    from mamori.contact import web as contact_web
    from mamori.customers import web as customers_web
    from mamori.incidents import web as incidents_web
    from mamori.lifecycle import web as lifecycle_web
    from mamori.monitoring import web as monitoring_web
    from mamori.notice import web as notice_web
    from mamori.processors import web as processors_web
    from mamori.provision import web as provision_web
    from mamori.purposes import web as purposes_web
    from mamori.rights import web as rights_web
    from mamori.staff import web as staff_web
    from mamori.web import audit as audit_pages

    templating.add_template_dir(Path(__file__).resolve().parent / "templates")
    app.include_router(audit_pages.router)
    slices = (
        staff_web,
        purposes_web,
        customers_web,
        consent_web,
        contact_web,
        lifecycle_web,
        incidents_web,
        provision_web,
        processors_web,
        rights_web,
        notice_web,
        analytics_web,
        monitoring_web,
    )
    for slice_web in slices:  # each slice's pages, like its api.py routers
        templating.add_template_dir(slice_web.TEMPLATES)
        app.include_router(slice_web.router)
    app.mount("/static/htmx", StaticFiles(directory=Path(js_lib_htmx.__file__).parent / "static" / "htmx"))
    app.mount("/static/swagger", StaticFiles(directory=Path(fastapi_offline.__file__).parent / "static"))
    app.mount("/static/mamori", StaticFiles(directory=_HTTP / "static"))
    if (chart_js := analytics_web.chart_js_dir()) is not None:  # npm ci by `make install` (ADR 0024)
        app.mount(analytics_web.CHART_JS_URL, StaticFiles(directory=chart_js))
    app.include_router(router)
