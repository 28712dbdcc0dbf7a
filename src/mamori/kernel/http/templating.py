"""Server-rendered pages: one Jinja2 environment for the staff web app (issue 15).

Templates live beside the code that renders them: the shared layout in ``kernel/http/templates/`` and each
slice's pages in ``<slice>/templates/<slice>/`` (registered with :func:`add_template_dir` by the web app). The
label dictionary and its formats are template globals, so a page says 「開示」 and 2026年12月6日 the way the CLI
does. One view renders a full page or, for an htmx request (``HX-Request``), the fragment alone.

Pages carry no inline script or style (the Content-Security-Policy forbids them): behaviour is in
``/static/mamori/mamori.js`` and htmx, both served by the app.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from mamori.kernel import labels

_SHARED = Path(__file__).resolve().parent / "templates"
_dirs: list[Path] = [_SHARED]

# Pages show personal data: never cached, never framed, no script or style but the app's own files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def add_template_dir(path: Path) -> None:
    """Make a slice's ``templates/`` directory visible (``customers/search.html`` → ``customers/templates``)."""
    if path not in _dirs:
        _dirs.append(path)
        environment.cache_clear()


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in _dirs]),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        label=labels.label,
        value=labels.value,
        fmt_date=labels.fmt_date,
        fmt_datetime=labels.fmt_datetime,
        fmt_birth_date=labels.fmt_birth_date,
        fmt_yen=labels.fmt_yen,
        fmt_count=labels.fmt_count,
    )
    return env


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request", "").lower() == "true"


def lang_of(request: Request) -> str:
    """The page language: ``?lang=`` (the privacy center's switch: it sets no cookie), the ``mamori_lang`` cookie
    (the staff app's switch), else Accept-Language, else ja."""
    asked = request.query_params.get("lang")
    if asked in ("ja", "en"):
        return asked
    chosen = request.cookies.get("mamori_lang")
    if chosen in ("ja", "en"):
        return chosen
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "ja"


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``name`` with the request's language and ``t(ja, en)``; with the page headers (CSP, no-store)."""
    lang = lang_of(request)

    def t(ja: str, en: str) -> str:
        return en if lang == "en" else ja

    data: dict[str, Any] = {"request": request, "lang": lang, "t": t, "htmx": is_htmx(request)}
    data.update(context or {})
    html = environment().get_template(name).render(data)
    return HTMLResponse(html, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})
