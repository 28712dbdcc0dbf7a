"""RFC 9457 problem+json for every error; 422 bodies never echo the submitted values."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

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
) -> JSONResponse:
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


def invalid_response(errors: Sequence[Any], lang: str) -> JSONResponse:
    """422 problem+json for validation errors: title, detail and each error's ``message`` in ``lang`` (Japanese
    unless the caller asked for English); ``errors`` = ``[{field, code, type, label, message}]``; no value."""
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
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default 422 echoes `input` (the whole body for a missing field, passwords included).
        return invalid_response(exc.errors(), _lang(request))

    @app.exception_handler(ValidationError)
    async def _invalid_model(request: Request, exc: ValidationError) -> JSONResponse:
        # a model validated inside an endpoint (a body re-shaped for the service) fails like the request itself
        log.warning(
            "validation error inside %s %s (%d errors)", request.method, request.url.path, exc.error_count()
        )
        return invalid_response(exc.errors(include_input=False, include_url=False), _lang(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers or {})
        return problem_response(
            exc.status_code, code, str(exc.detail), str(exc.detail), lang=_lang(request), headers=headers
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
        log.error("database error on %s %s", request.method, request.url.path)
        return problem_response(
            500, "internal_error", "内部エラーが発生しました。", "Internal error.", lang=_lang(request)
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem_response(
            500, "internal_error", "内部エラーが発生しました。", "Internal error.", lang=_lang(request)
        )


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the problem+json errors an endpoint may return."""
    return {s: {"model": Problem, "content": {PROBLEM: {}}} for s in statuses}
