"""The incident page's scope section (issue 22 "Deliver" 2; R-26-1, R-26-7).

- ``GET  /incidents/{key}/scope`` — the fragment: people, the maximum, items and categories by people (never a
  value), 要配慮 / financial / EU / UK counts, the methods used with their parameters and, for the privacy officer,
  the forms to add a method (audit log: account, session or token and two times; provision; handover; ids; an
  estimate) and to withdraw one.
- ``POST /incidents/{key}/scope/{method}`` — adds one method (``audit`` / ``provision`` / ``processor_handover`` /
  ``ids`` / ``estimate``); ``POST /incidents/{key}/scope/remove`` (``scope_id``) withdraws one. An htmx post
  re-renders the fragment; a plain post goes back to ``/incidents/{id}#scope``.

Times from the form (``datetime-local``, no zone) are Japan time. Thin: the service authorises (incident.read to
view, incident.scope to change), checks and audits. Every write needs the session's CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.incidents.scope_schemas import (
    CATEGORY_LABELS,
    METHOD_LABELS,
    AuditScopeIn,
    EstimateScopeIn,
    HandoverScopeIn,
    IdsScopeIn,
    ProvisionScopeIn,
    ScopeRead,
    field_label,
)
from mamori.incidents.service import scope as service
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import is_htmx, lang_of, render

router = APIRouter(include_in_schema=False)
_KEY = re.compile(r"^[A-Za-z0-9-]{1,40}$")
_SPLIT = re.compile(r"[\s,]+")
JST = ZoneInfo("Asia/Tokyo")
Text = Annotated[str, Form()]
FORMS = ("audit", "provision", "processor_handover", "ids", "estimate")


@contextmanager
def _transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    # ids, field names and counts only: no purpose is declared
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=readonly) as ctx:
        yield ctx


def _params(scope: ScopeRead) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(scope.params.items()))


def _fragment(
    request: Request,
    who: Principal,
    key: str,
    *,
    notice: str | None = None,
    failure: str | None = None,
    rule_id: str | None = None,
    status: int = 200,
) -> Response:
    try:
        with _transaction(request, who, readonly=True) as ctx:
            summary = service.summary(ctx, key)
            can_scope = service.can_scope(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/incidents")
    return render(
        request,
        "incidents/_scope.html",
        pages.page_context(
            request,
            who,
            s=summary,
            can_scope=can_scope,
            method_labels=METHOD_LABELS,
            category_labels=CATEGORY_LABELS,
            field_label=field_label,
            params_of=_params,
            notice=notice,
            failure=failure,
            rule_id=rule_id,
        ),
        status_code=status,
    )


@router.get("/incidents/{key}/scope", response_class=HTMLResponse)
def scope_fragment(request: Request, key: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    return _fragment(request, who, key)


def _time(text: str) -> datetime | str:
    """A ``datetime-local`` value (no zone: JST) or an ISO time with its zone; anything else is left for the
    schema to refuse (never echoed)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    return value.replace(tzinfo=JST) if value.tzinfo is None else value


def _fields(text: str) -> list[str]:
    return [f for f in _SPLIT.split(text.strip()) if f]


def _body(method: str, form: dict[str, str]) -> Any:
    if method == "audit":
        who_kind = form.get("actor_kind", "")
        ref = form.get("actor_ref", "").strip()
        return AuditScopeIn.model_validate(
            {
                "username": ref if who_kind == "username" else None,
                "session_id": ref if who_kind == "session" else None,
                "token_id": ref if who_kind == "token" else None,
                "since": _time(form.get("since", "")),
                "until": _time(form.get("until", "")),
            }
        )
    if method == "provision":
        return ProvisionScopeIn(provision_id=form.get("provision_id", "").strip())
    if method == "processor_handover":
        return HandoverScopeIn(handover_id=form.get("handover_id", "").strip())
    if method == "ids":
        return IdsScopeIn(ids=_fields(form.get("ids", "")), fields=_fields(form.get("fields", "")))
    return EstimateScopeIn.model_validate(
        {"maximum": form.get("maximum", "").strip() or 0, "fields": _fields(form.get("fields", ""))}
    )


def _done(request: Request, who: Principal, key: str, incident_id: str, notice: str) -> Response:
    if is_htmx(request):
        return _fragment(request, who, key, notice=notice)
    return RedirectResponse(f"/incidents/{incident_id}#scope", status_code=303)


@router.post("/incidents/{key}/scope/remove", response_class=HTMLResponse)
def remove_scope(request: Request, key: str, csrf: Text = "", scope_id: Text = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    lang = lang_of(request)
    try:
        with _transaction(request, who) as ctx:
            got = service.remove(ctx, key, scope_id)
    except MamoriError as exc:
        if is_htmx(request) and exc.http_status in (404, 409, 422):
            return _fragment(
                request, who, key, failure=exc.message(lang), rule_id=exc.rule_id, status=exc.http_status
            )
        return pages.refusal(request, who, exc, back="/incidents")
    notice = "Scope removed." if lang == "en" else "範囲を取り除きました。"
    return _done(request, who, key, got.incident_id, notice)


@router.post("/incidents/{key}/scope/{method}", response_class=HTMLResponse)
async def add_scope(request: Request, key: str, method: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    form = await request.form(max_files=0, max_fields=20)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if not pages.csrf_ok(request, who, values.get("csrf", "")):
        return pages.csrf_refused(request, who)
    if not _KEY.match(key) or method not in FORMS:
        return pages.not_found(request, who, back="/incidents")
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_add, request, who, key, method, values)


def _add(request: Request, who: Principal, key: str, method: str, values: dict[str, str]) -> Response:
    lang = lang_of(request)
    try:
        body = _body(method, values)
    except ValidationError as exc:
        if is_htmx(request):
            message = "; ".join(e["message"] for e in pages.form_errors(exc, lang))
            return _fragment(request, who, key, failure=message, status=422)
        return pages.invalid(request, who, exc, back="/incidents")
    try:
        with _transaction(request, who) as ctx:
            got = service.add(ctx, key, body)
    except MamoriError as exc:
        if is_htmx(request) and exc.http_status in (404, 409, 422):
            return _fragment(
                request, who, key, failure=exc.message(lang), rule_id=exc.rule_id, status=exc.http_status
            )
        return pages.refusal(request, who, exc, back="/incidents")
    if got.maximum is not None:
        notice = (
            f"Estimate recorded: at most {got.maximum} people."
            if lang == "en"
            else f"見込み（最大 {got.maximum} 人）を登録しました。"
        )
    else:
        notice = (
            f"Scope added: {got.persons} person(s)."
            if lang == "en"
            else f"範囲を登録しました: {got.persons} 人。"
        )
    return _done(request, who, key, got.incident_id, notice)
