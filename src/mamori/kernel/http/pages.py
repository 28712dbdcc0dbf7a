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
from fastapi.responses import RedirectResponse

from mamori.kernel.db import unit_of_work
from mamori.kernel.errors import MamoriError
from mamori.kernel.http.deps import Principal, csrf_token, runtime_of


def signed_in(request: Request) -> Principal | None:
    """The principal of the session cookie, or None (no cookie, revoked, idle too long, expired, a token)."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached if cached.via == "session" else None
    rt = runtime_of(request)
    try:
        with unit_of_work(rt.read_sessions) as session:
            found: Principal | None = request.app.state.authenticate(request, session, rt)
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
