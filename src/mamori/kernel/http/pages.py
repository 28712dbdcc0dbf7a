"""What every page of the staff web app needs: who is signed in, the layout's context, the CSRF check.

Pages use the API's server-side sessions (the ``__Host-mamori_session`` cookie, read by the app's authenticator);
an API token is not a browser session and does not open pages. Every form carries the session's CSRF token
(hidden ``csrf`` field; htmx sends it as ``X-CSRF-Token`` from the layout's meta tag) and cross-site posts are
refused.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from mamori.kernel import validation
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import deps
from mamori.kernel.http.deps import Principal, csrf_token, runtime_of
from mamori.kernel.http.templating import is_htmx, lang_of, render
from mamori.kernel.labels import label, value


def signed_in(request: Request) -> Principal | None:
    """The principal of the session cookie, or None (no cookie, revoked, idle too long, expired, a token)."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached if cached.via == "session" else None
    rt = runtime_of(request)
    try:
        found = deps.authenticate(request, rt)
    except MamoriError:
        return None
    if found is None or found.via != "session":
        return None
    request.state.principal = found
    return found


def csrf_of(request: Request, who: Principal) -> str:
    return csrf_token(runtime_of(request), who.session_token_hash or b"")


def page_context(request: Request, who: Principal, **extra: Any) -> dict[str, Any]:
    """What the layout needs (the user, the CSRF token for forms and htmx, the idle timeout) and the page's data."""
    return {
        "me": who.actor,
        "csrf": csrf_of(request, who),
        "idle_seconds": runtime_of(request).settings.session_idle_minutes * 60,
        **extra,
    }


def csrf_ok(request: Request, who: Principal, sent: str | None) -> bool:
    """A same-site form post (or htmx request) carrying the session's CSRF token."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return False
    token = sent or request.headers.get("x-csrf-token", "")
    return bool(token) and hmac.compare_digest(token, csrf_of(request, who))


def to_sign_in() -> RedirectResponse:
    return RedirectResponse("/sign-in", status_code=303)


# -- error pages every slice shares (a refusal in plain words, its rule id small beside it; never a stack trace) --

#: Error codes that must look exactly like "not found": a record outside the user's scope is not admitted to exist.
NOT_FOUND_CODES = frozenset(
    {"not_found", "out_of_scope", "customer_not_found", "request_not_found", "purpose_not_found"}
)


def error_page(
    request: Request,
    who: Principal | None,
    status: int,
    message: str,
    *,
    rule_id: str | None = None,
    errors: list[dict[str, str]] | None = None,
    back: str = "/",
) -> HTMLResponse:
    """The error page (or, for htmx, the fragment ``#failure`` alone) with the layout around it."""
    ctx = page_context(request, who) if who is not None else {}
    data = {
        **ctx,
        "status": status,
        "message": message,
        "rule_id": rule_id,
        "errors": errors or [],
        "back": back,
    }
    name = "_error.html" if is_htmx(request) else "_error_page.html"
    return render(request, name, data, status_code=status)


def not_found(request: Request, who: Principal | None, message: str | None = None, **kw: Any) -> HTMLResponse:
    """One page for a missing record and one outside the user's scope (the service has audited the denial)."""
    lang = lang_of(request)
    return error_page(request, who, 404, message or label("web.not_found", lang), **kw)


def refusal(
    request: Request,
    who: Principal,
    exc: MamoriError,
    *,
    not_found_message: str | None = None,
    back: str = "/",
) -> HTMLResponse:
    """A service's refusal: out of scope looks like not found; a role refusal names the role in words."""
    lang = lang_of(request)
    if exc.code in NOT_FOUND_CODES or exc.http_status == 404:
        return not_found(request, who, not_found_message, back=back)
    message = exc.message(lang)
    if exc.code == "role_not_permitted":  # the engine names the role by its code: say it in words
        message = label("web.not_permitted", lang).format(role=value("role", who.actor.role.value, lang))
    return error_page(request, who, exc.http_status, message, rule_id=exc.rule_id, back=back)


def form_errors(exc: ValidationError, lang: str) -> list[dict[str, str]]:
    """A form's bad input as ``{field, label, message}`` lines — the item in words and what is wrong with it
    (shown 「生年月日: 日付の形式が正しくありません」), never the value."""
    out = []
    for err in exc.errors(include_input=False, include_url=False):
        entry = validation.entries([err], lang)[0]
        out.append(
            {"field": entry["field"], "label": entry["label"], "message": validation.reason(err, lang)}
        )
    return out


def invalid(request: Request, who: Principal, exc: ValidationError, *, back: str = "/") -> HTMLResponse:
    """Bad form input: 422 with one line per field, in words, never echoing the value."""
    lang = lang_of(request)
    return error_page(request, who, 422, label("web.invalid", lang), errors=form_errors(exc, lang), back=back)


def csrf_refused(request: Request, who: Principal) -> HTMLResponse:
    """A write without (or with a wrong) CSRF token, or from another site: refused, nothing changed."""
    return error_page(request, who, 403, label("web.csrf", lang_of(request)))
