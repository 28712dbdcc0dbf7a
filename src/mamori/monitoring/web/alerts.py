"""Web pages of the alert queue and the thresholds (issue 25 "Deliver" 1 and 2) — thin: parse, call the services,
render.

- ``GET /monitoring[?status=&signal=&severity=&before=]`` — the queue: tabs by status with their counts, a filter
  by signal and severity, newest first, a severity badge; 「今すぐ評価」 (``POST /monitoring/evaluate``) runs the
  signals over the audit log now.
- ``GET /monitoring/alerts/{key}`` — one alert: what was seen against the threshold and the baseline (the
  person's own or their role's), the audit entries behind it (how many people, never whom), its history, and the
  forms 確認中にする (``POST …/look``) / 対応不要（理由） (``POST …/dismiss``) / 事案として登録
  (``POST …/incident``; the page then links to the incident).
- ``GET /monitoring/settings`` — the thresholds, a form per signal (``POST /monitoring/settings/signals/{code}``)
  and working hours, the access-review interval and limits (``POST /monitoring/settings``).

The services authorise and audit (``monitoring.read`` / ``.handle`` / ``.evaluate`` / ``.settings``: the privacy
officer; another role gets the refusal page with R-23-2). Every write needs the session's CSRF token; URLs carry
alert ids, numbers and codes only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import lang_of, render
from mamori.kernel.policy.actions import scope_for
from mamori.monitoring.alert_schemas import (
    BASELINE_LABELS,
    DISMISS_REASONS,
    EVENT_LABELS,
    NOTE_MAX,
    SEVERITY_LABELS,
    STATUS_LABELS,
    AlertIncidentIn,
    DismissIn,
)
from mamori.monitoring.models import SEVERITIES
from mamori.monitoring.permissions import (
    MONITORING_EVALUATE,
    MONITORING_HANDLE,
    MONITORING_SETTINGS,
)
from mamori.monitoring.schemas import SettingsIn, SignalSettingIn
from mamori.monitoring.service import alerts as service
from mamori.monitoring.service import settings as settings_service
from mamori.monitoring.signals import BY_CODE, DETAIL_LABELS, SIGNALS

router = APIRouter()

_KEY = re.compile(r"^(?:[0-9a-f]{32}|(?:ALT-|alt-)?[0-9]{1,9})$")
_CODE = re.compile(r"^[a-z_]{1,32}$")
TABS = ("open", "new", "looking", "dismissed", "incident", "all")
TAB_LABELS = {"open": ("未対応", "open"), "all": ("すべて", "all"), **STATUS_LABELS}
Csrf = Annotated[str, Form()]
Text = Annotated[str, Form()]


@contextmanager
def _transaction(request: Request, who: Principal) -> Iterator[Context]:
    # alerts and thresholds hold no personal value: no purpose is declared
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request)) as ctx:
        yield ctx


def _can(who: Principal, action: Any) -> bool:
    """Only chooses what to show; the service still decides."""
    return scope_for(who.actor.role, action) is not None


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def _helpers(**extra: Any) -> dict[str, Any]:
    return {
        "signals": SIGNALS,
        "by_code": BY_CODE,
        "severities": SEVERITIES,
        "status_labels": STATUS_LABELS,
        "severity_labels": SEVERITY_LABELS,
        "event_labels": EVENT_LABELS,
        "baseline_labels": BASELINE_LABELS,
        "detail_labels": DETAIL_LABELS,
        "dismiss_reasons": DISMISS_REASONS,
        "tab_labels": TAB_LABELS,
        "tabs": TABS,
        "note_max": NOTE_MAX,
        "num": _number,
        **extra,
    }


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) <= 9 else None


# -- the queue ---------------------------------------------------------------------------------------------------


@router.get("/monitoring", response_class=HTMLResponse)
def queue_page(
    request: Request,
    status: str = "open",
    signal: str = "",
    severity: str = "",
    before: str = "",
    raised: str = "",
    updated: str = "",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    tab = status if status in TABS else "open"
    chosen_signal = signal if signal in BY_CODE else ""
    chosen_severity = severity if severity in SEVERITIES else ""
    try:
        with _transaction(request, who) as ctx:
            got = service.list_alerts(
                ctx,
                status=None if tab == "all" else tab,
                signal=chosen_signal or None,
                severity=chosen_severity or None,
                before=_int(before),
            )
    except MamoriError as exc:
        return pages.refusal(request, who, exc)
    evaluated = None
    if _int(raised) is not None:
        evaluated = {"raised": _int(raised), "updated": _int(updated) or 0}
    data = _helpers(
        here="queue",
        got=got,
        tab=tab,
        signal=chosen_signal,
        severity=chosen_severity,
        evaluated=evaluated,
        can_evaluate=_can(who, MONITORING_EVALUATE),
        can_settings=_can(who, MONITORING_SETTINGS),
    )
    return render(request, "monitoring/alerts.html", pages.page_context(request, who, **data))


@router.post("/monitoring/evaluate", response_class=HTMLResponse)
def evaluate_now(request: Request, csrf: Csrf = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    from mamori.monitoring.service import evaluate as evaluate_service  # the evaluation is the lead's module

    try:
        with _transaction(request, who) as ctx:
            result = evaluate_service.evaluate(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/monitoring")
    return RedirectResponse(
        f"/monitoring?raised={int(result.raised)}&updated={int(result.updated)}", status_code=303
    )


# -- one alert ---------------------------------------------------------------------------------------------------


def _alert_page(
    request: Request,
    who: Principal,
    key: str,
    *,
    failure: MamoriError | None = None,
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> Response:
    try:
        with _transaction(request, who) as ctx:
            detail = service.get(ctx, key)
            got = service.entries(ctx, key)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/monitoring")
    lang = lang_of(request)
    a = detail.alert
    data = _helpers(
        here="alert",
        a=a,
        events=detail.events,
        entries=got.entries,
        sig=BY_CODE.get(a.signal),
        can_handle=_can(who, MONITORING_HANDLE) and a.status in ("new", "looking"),
        own=a.actor == who.actor.label,
        failure=failure.message(lang) if failure else None,
        rule_id=failure.rule_id if failure else None,
        errors=errors or [],
    )
    return render(
        request, "monitoring/alert.html", pages.page_context(request, who, **data), status_code=status
    )


@router.get("/monitoring/alerts/{key}", response_class=HTMLResponse)
def alert_page(request: Request, key: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/monitoring")
    return _alert_page(request, who, key)


def _handle(request: Request, who: Principal, key: str, call: Callable[[Context], str]) -> Response:
    try:
        with _transaction(request, who) as ctx:
            alert_id = call(ctx)
    except MamoriError as exc:
        if exc.code == "role_not_permitted" or exc.http_status == 404:
            return pages.refusal(request, who, exc, back="/monitoring")
        return _alert_page(request, who, key, failure=exc, status=exc.http_status)
    return RedirectResponse(f"/monitoring/alerts/{alert_id}", status_code=303)


def _checked(request: Request, who: Principal, key: str, csrf: str) -> Response | None:
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/monitoring")
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    return None


@router.post("/monitoring/alerts/{key}/look", response_class=HTMLResponse)
def look(request: Request, key: str, csrf: Csrf = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    refused = _checked(request, who, key, csrf)
    if refused is not None:
        return refused
    return _handle(request, who, key, lambda ctx: service.look(ctx, key).id)


@router.post("/monitoring/alerts/{key}/dismiss", response_class=HTMLResponse)
def dismiss(request: Request, key: str, csrf: Csrf = "", reason: Text = "", note: Text = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    refused = _checked(request, who, key, csrf)
    if refused is not None:
        return refused
    try:
        data = DismissIn.model_validate({"reason": reason, "note": note.strip() or None})
    except ValidationError as exc:
        errors = pages.form_errors(exc, lang_of(request))
        return _alert_page(request, who, key, errors=errors, status=422)
    return _handle(request, who, key, lambda ctx: service.dismiss(ctx, key, data.reason, data.note).id)


@router.post("/monitoring/alerts/{key}/incident", response_class=HTMLResponse)
def incident(request: Request, key: str, csrf: Csrf = "", title: Text = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    refused = _checked(request, who, key, csrf)
    if refused is not None:
        return refused
    try:
        data = AlertIncidentIn.model_validate({"title": title.strip() or None})
    except ValidationError as exc:
        errors = pages.form_errors(exc, lang_of(request))
        return _alert_page(request, who, key, errors=errors, status=422)
    return _handle(request, who, key, lambda ctx: service.open_incident(ctx, key, data.title).alert.id)


# -- thresholds and settings -------------------------------------------------------------------------------------


def _settings_page(
    request: Request,
    who: Principal,
    *,
    saved: str | None = None,
    failure: MamoriError | None = None,
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> Response:
    try:
        with _transaction(request, who) as ctx:
            current = settings_service.get(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/monitoring")
    lang = lang_of(request)
    data = _helpers(
        here="settings",
        s=current,
        saved=saved,
        can_settings=_can(who, MONITORING_SETTINGS),
        failure=failure.message(lang) if failure else None,
        rule_id=failure.rule_id if failure else None,
        errors=errors or [],
    )
    return render(
        request, "monitoring/settings.html", pages.page_context(request, who, **data), status_code=status
    )


@router.get("/monitoring/settings", response_class=HTMLResponse)
def settings_page(request: Request, saved: str = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    return _settings_page(request, who, saved=saved if _CODE.match(saved) else None)


def _save(request: Request, who: Principal, call: Callable[[Context], object], saved: str) -> Response:
    try:
        with _transaction(request, who) as ctx:
            call(ctx)
    except MamoriError as exc:
        if exc.code == "role_not_permitted" or exc.http_status == 404:
            return pages.refusal(request, who, exc, back="/monitoring/settings")
        return _settings_page(request, who, failure=exc, status=exc.http_status)
    return RedirectResponse(f"/monitoring/settings?saved={saved}", status_code=303)


@router.post("/monitoring/settings/signals/{code}", response_class=HTMLResponse)
def save_signal(
    request: Request,
    code: str,
    csrf: Csrf = "",
    enabled: Text = "",
    threshold: Text = "",
    severity: Text = "",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if code not in BY_CODE:
        return pages.not_found(request, who, back="/monitoring/settings")
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    try:
        data = SignalSettingIn.model_validate(
            {
                "enabled": bool(enabled),
                "threshold": threshold.strip() or None,
                "severity": severity or None,
            }
        )
    except ValidationError as exc:
        errors = pages.form_errors(exc, lang_of(request))
        return _settings_page(request, who, errors=errors, status=422)
    return _save(request, who, lambda ctx: settings_service.set_signal(ctx, code, data), code)


@router.post("/monitoring/settings", response_class=HTMLResponse)
def save_settings(
    request: Request,
    csrf: Csrf = "",
    hours_start: Text = "",
    hours_end: Text = "",
    review_interval_months: Text = "",
    unused_days: Text = "",
    read_floor: Text = "",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    sent = {
        "hours_start": hours_start,
        "hours_end": hours_end,
        "review_interval_months": review_interval_months,
        "unused_days": unused_days,
        "read_floor": read_floor,
    }
    try:
        data = SettingsIn.model_validate({k: (v.strip() or None) for k, v in sent.items()})
    except ValidationError as exc:
        errors = pages.form_errors(exc, lang_of(request))
        return _settings_page(request, who, errors=errors, status=422)
    return _save(request, who, lambda ctx: settings_service.update(ctx, data), "general")
