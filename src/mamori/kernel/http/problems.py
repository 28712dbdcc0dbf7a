"""RFC 9457 problem+json for every error; 422 bodies never echo the submitted values."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope, Send

from mamori.kernel import validation
from mamori.kernel.errors import MamoriError, cite
from mamori.kernel.labels import label

log = logging.getLogger("mamori.http")
PROBLEM = "application/problem+json"


class Problem(BaseModel):
    """RFC 9457 problem details with mamori's stable `code` and the rule that refused the request."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    rule_id: str | None = None
    article: str | None = None  # the article the rule implements (「法第21条第1項」), for staff
    detail_en: str | None = None
    errors: list[dict[str, str]] | None = None


def problem_response(
    status: int,
    code: str,
    detail_ja: str,
    detail_en: str,
    *,
    rule_id: str | None = None,
    article: str | None = None,
    lang: str = "ja",
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    title_ja: str | None = None,
    title_en: str | None = None,
    echo: Sequence[str] = (),
) -> JSONResponse:
    """``echo``: values the request carried (see :func:`request_values`); any of them in a message is replaced by
    「…」, so no answer repeats what was sent, whichever service wrote the message (issue 17)."""
    if echo:
        detail_ja, detail_en = scrub(detail_ja, echo), scrub(detail_en, echo)
    title = title_en if lang == "en" else title_ja
    body = Problem(
        type=f"https://mamori.invalid/problems/{code}",
        title=title or code.replace("_", " "),
        status=status,
        detail=detail_en if lang == "en" else detail_ja,
        detail_en=detail_en,
        code=code,
        rule_id=rule_id,
        article=article,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


# Values shorter than this are not scrubbed from messages (they would match ordinary words and numbers).
MIN_ECHO = 3
# mamori's own record ids (32 hex digits, issued by the server, never personal): a refusal may name the records it
# concerns (「<id> [R-27-1]」: which customers a provision refused), so they are not scrubbed.
_RECORD_ID = re.compile(r"[0-9a-f]{32}")
REQUEST_STRINGS = "mamori.request_strings"  # scope key: the string values of a JSON or form body (middleware)


def request_values(request: Request) -> tuple[str, ...]:
    """What the client sent that a message might repeat: path parameters, query values, the declared purpose
    and the string values of a JSON or urlencoded body (kept in the scope by ``RequestLimits``); longest first.
    mamori's own record ids are left out (see ``_RECORD_ID``)."""
    values: list[str] = [str(v) for v in request.path_params.values()]
    values += [v for _, v in request.query_params.multi_items()]
    purpose = request.headers.get("mamori-purpose")
    if purpose:
        values.append(purpose)
    values += list(request.scope.get(REQUEST_STRINGS) or ())
    kept = {v for v in values if len(v) >= MIN_ECHO and not _RECORD_ID.fullmatch(v)}
    return tuple(sorted(kept, key=len, reverse=True))


def scrub(text: str, values: Sequence[str]) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, "…")
    return text


def _known_names(request: Request) -> frozenset[str]:
    """Every property and parameter name the API declares (from its OpenAPI schema, once per app)."""
    app = request.app
    known = getattr(app.state, "problem_known_names", None)
    if known is None:
        names: set[str] = set()
        try:
            spec = app.openapi()
        except Exception:
            spec = {}
        for schema in (spec.get("components") or {}).get("schemas", {}).values():
            names.update((schema.get("properties") or {}).keys())
        for item in (spec.get("paths") or {}).values():
            for op in item.values():
                if isinstance(op, dict):
                    names.update(p.get("name", "") for p in op.get("parameters", []))
        known = frozenset(names)
        app.state.problem_known_names = known
    return frozenset(known)


def _declared_locations(errors: Sequence[Any], known: frozenset[str]) -> list[Any]:
    """Each error's location with anything the API does not declare (a key the client chose for a mapping, such
    as ``items.<key>``) replaced by ``*``: a 422 names fields, never a submitted key."""
    out = []
    for err in errors:
        loc = err.get("loc", ()) if isinstance(err, dict) else ()
        if isinstance(loc, list | tuple):
            loc = tuple(
                p
                if isinstance(p, int)
                or p in known
                or p in ("body", "query", "path", "header", "cookie")
                or "[" in str(p)
                else "*"
                for p in loc
            )
            err = {**err, "loc": loc}
        out.append(err)
    return out


def lang_of_scope(scope: Scope) -> str:
    """The answer's language from a raw ASGI scope (Accept-Language ``en…`` → English, else Japanese)."""
    for name, value in scope.get("headers") or ():
        if name == b"accept-language":
            return "en" if value.decode("latin-1").strip().lower().startswith("en") else "ja"
    return "ja"


async def send_problem(
    send: Send,
    status: int,
    code: str,
    detail_ja: str,
    detail_en: str,
    *,
    lang: str = "ja",
    headers: dict[str, str] | None = None,
) -> None:
    """A problem+json answer sent straight from an ASGI middleware (before any route, dependency or sign-in).
    Fixed texts only: nothing of the request is echoed. ``Connection: close`` because the rest of the body may
    be left unread."""
    response = problem_response(status, code, detail_ja, detail_en, lang=lang, headers=headers)
    raw = [(k, v) for k, v in response.raw_headers if k.lower() != b"content-length"]
    body = bytes(response.body)
    raw += [
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def route_of(request: Request) -> str:
    """The matched route's template, never the raw path (see ``observability.route_template``)."""
    from mamori.kernel.observability import route_template

    return route_template(request.scope)


def invalid_response(errors: Sequence[Any], lang: str, request: Request | None = None) -> JSONResponse:
    """422 problem+json for validation errors: title, detail and each error's ``message`` in ``lang`` (Japanese
    unless the caller asked for English); ``errors`` = ``[{field, code, type, label, message}]``; no value, and
    (given the request) no key the client chose."""
    if request is not None:
        errors = _declared_locations(errors, _known_names(request))
    return problem_response(
        422,
        "invalid_input",
        label("validation.invalid_detail", "ja"),
        label("validation.invalid_detail", "en"),
        lang=lang,
        errors=validation.entries(errors, lang),
        title_ja=label("validation.invalid_input", "ja"),
        title_en=label("validation.invalid_input", "en"),
    )


def _lang(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "ja"


def install(app: FastAPI) -> None:
    @app.exception_handler(MamoriError)
    async def _mamori(request: Request, exc: MamoriError) -> JSONResponse:
        return problem_response(
            exc.http_status,
            exc.code,
            exc.message_ja,
            exc.message_en,
            rule_id=exc.rule_id,
            article=cite(exc.rule_id, _lang(request)),
            lang=_lang(request),
            echo=request_values(request),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default 422 echoes `input` (the whole body for a missing field, passwords included).
        return invalid_response(exc.errors(), _lang(request), request)

    @app.exception_handler(ValidationError)
    async def _invalid_model(request: Request, exc: ValidationError) -> JSONResponse:
        # a model validated inside an endpoint (a body re-shaped for the service) fails like the request itself
        log.warning(
            "validation error inside %s %s (%d errors)", request.method, route_of(request), exc.error_count()
        )
        return invalid_response(exc.errors(include_input=False, include_url=False), _lang(request), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers or {})
        return problem_response(
            exc.status_code,
            code,
            str(exc.detail),
            str(exc.detail),
            lang=_lang(request),
            headers=headers,
            echo=request_values(request),
        )

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> JSONResponse:
        if "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower():
            return problem_response(
                503,
                "store_busy",
                "データベースが混み合っています。少し待って再試行してください。",
                "The store is busy; retry shortly.",
                lang=_lang(request),
                headers={"Retry-After": "1"},
            )
        log.error("database error on %s %s", request.method, route_of(request))
        return problem_response(
            500, "internal_error", "内部エラーが発生しました。", "Internal error.", lang=_lang(request)
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s: %s", request.method, route_of(request), type(exc).__name__)
        return problem_response(
            500, "internal_error", "内部エラーが発生しました。", "Internal error.", lang=_lang(request)
        )


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the problem+json errors an endpoint may return."""
    return {s: {"model": Problem, "content": {PROBLEM: {}}} for s in statuses}
