"""Web pages of the incidents slice: the board, registering, the incident page (issue 22; R-26-1, R-26-2/3, G-33).

- ``GET /incidents`` — the board, sorted by the nearest deadline, overdue first (in red) — privacy officer, admin.
- ``GET /incidents/new`` · ``POST /incidents`` — register (every member of staff). A reader of the board goes to
  the incident page; anyone else sees a confirmation with the 事案番号.
- ``GET /incidents/mine`` — what the caller registered (number and status).
- ``GET /incidents/{key}`` — the register, the classification and deadlines (``/incidents/{key}/classification``,
  a fragment) and the four sections owned by the other parts, each loaded by htmx from its own fragment route
  (``/scope``, ``/report``, ``/notices``, ``/containment``) with a plain link without JavaScript.
- ``GET|POST /incidents/{key}/edit`` — change the register; ``POST /incidents/{key}/filings`` — record a filing;
  ``POST /incidents/{key}/close`` — close.

The services authorise and audit. Every write needs the session's CSRF token; URLs carry ids or 事案番号 only.
This router is mounted LAST so ``/incidents/{key}`` never shadows the other parts' routes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.incidents.board_schemas import CLOSE_REASON_LABELS, FILING_LABELS, CloseIn, FilingIn
from mamori.incidents.permissions import INCIDENT_MANAGE, INCIDENT_READ
from mamori.incidents.schemas import CAUSE_LABELS, KIND_LABELS, IncidentIn, IncidentRead, IncidentUpdate
from mamori.incidents.scope_schemas import field_label
from mamori.incidents.service import register as service
from mamori.incidents.service.classify import TRIGGER_LABELS
from mamori.incidents.service.clock import DEADLINE_LABELS
from mamori.kernel.clock import JST
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import is_htmx, lang_of, render
from mamori.kernel.labels import era_year
from mamori.kernel.policy.actions import scope_for

router = APIRouter(include_in_schema=False)

_KEY = re.compile(r"^(?:[0-9a-f]{32}|(?:INC-|inc-)?[0-9]{1,9})$")
Csrf = Annotated[str, Form()]
Text = Annotated[str, Form()]
SECTIONS = (
    ("scope", ("影響範囲", "Scope")),
    ("report", ("個人情報保護委員会への報告", "Report to the PPC")),
    ("notices", ("本人への通知", "Notices to the people")),
    ("containment", ("封じ込め", "Containment")),
)
TEXT_FIELDS = (
    "title",
    "known_by",
    "discovered_by",
    "cause_detail",
    "entrustor_name",
    "counterparty_id",
    "contract_id",
    "encryption_reason",
    "gdpr_reason",
    "secondary_damage",
    "actions_to_persons",
    "publication",
    "prevention",
    "other",
)


@contextmanager
def _transaction(request: Request, who: Principal) -> Iterator[Context]:
    # the register holds no personal value: no purpose is declared
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request)) as ctx:
        yield ctx


def _can(who: Principal, action: Any) -> bool:
    """Only chooses what to show; the service still decides."""
    return scope_for(who.actor.role, action) is not None


def wareki(day: date | datetime | None, lang: str) -> str:
    """2027年1月4日（令和9年） — the deadline as Japanese forms show it; English: the Gregorian date only."""
    from mamori.kernel.labels import fmt_date

    if day is None:
        return "—"
    if lang == "en":
        return fmt_date(day, "en")
    local = day.astimezone(JST).date() if isinstance(day, datetime) else day
    era = era_year(local)
    return f"{fmt_date(local)}（{era}）" if era else fmt_date(local)


def _helpers(**extra: Any) -> dict[str, Any]:
    return {
        "wareki": wareki,
        "kinds": KIND_LABELS,
        "causes": CAUSE_LABELS,
        "trigger_labels": TRIGGER_LABELS,
        "deadline_labels": DEADLINE_LABELS,
        "filing_labels": FILING_LABELS,
        "close_reasons": CLOSE_REASON_LABELS,
        "sections": SECTIONS,
        "field_label": field_label,
        **extra,
    }


def _when(value: str) -> datetime | None:
    """A ``datetime-local`` field (``2026-12-04T10:00``) is Japan time; empty is None. A bad value is left to
    the model to refuse (it is kept as text)."""
    text = value.strip()
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=JST)


def _without_refused(chosen: dict[str, str], exc: MamoriError) -> dict[str, str]:
    """The form's values without the text refused for personal data (it is never shown back)."""
    refused = exc.details.get("fields") if exc.code == "personal_data_in_text" else None
    if not isinstance(refused, list):
        return chosen
    return {k: ("" if k in refused else v) for k, v in chosen.items()}


def _refuse(request: Request, who: Principal, exc: MamoriError, back: str = "/") -> Response:
    return pages.refusal(request, who, exc, back=back)


# -- the board ---------------------------------------------------------------------------------------------------


@router.get("/incidents", response_class=HTMLResponse)
def board_page(request: Request, status: str = "open") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    chosen = status if status in ("open", "closed", "all") else "open"
    try:
        with _transaction(request, who) as ctx:
            rows = service.board(ctx, None if chosen == "all" else chosen)
    except MamoriError as exc:
        return _refuse(request, who, exc)
    data = _helpers(rows=rows, status=chosen)
    return render(request, "incidents/board.html", pages.page_context(request, who, **data))


# -- registering (every member of staff) -------------------------------------------------------------------------


def _new_page(
    request: Request,
    who: Principal,
    *,
    errors: list[dict[str, str]] | None = None,
    failure: MamoriError | None = None,
    chosen: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    data = _helpers(
        errors=errors or [],
        failure=failure.message(lang_of(request)) if failure else None,
        rule_id=failure.rule_id if failure else None,
        chosen=chosen or {},
    )
    return render(request, "incidents/new.html", pages.page_context(request, who, **data), status_code=status)


@router.get("/incidents/new", response_class=HTMLResponse)
def new_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    return _new_page(request, who)


@router.post("/incidents", response_class=HTMLResponse)
def register(
    request: Request,
    csrf: Csrf = "",
    title: Text = "",
    kind: Text = "",
    suspected: Text = "",
    occurred_at: Text = "",
    known_at: Text = "",
    known_by: Text = "",
    discovered_by: Text = "",
    cause: Text = "",
    cause_detail: Text = "",
    role: Text = "operator",
    entrustor_name: Text = "",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    # kept for the form on a refusal; the narrative text is shown back to its own author only
    chosen = {
        "title": title,
        "kind": kind,
        "suspected": suspected,
        "occurred_at": occurred_at,
        "known_at": known_at,
        "known_by": known_by,
        "discovered_by": discovered_by,
        "cause": cause,
        "cause_detail": cause_detail,
        "role": role,
        "entrustor_name": entrustor_name,
    }
    try:
        data = IncidentIn.model_validate(
            {
                "title": title,
                "kind": kind,
                "suspected": bool(suspected),
                "occurred_at": _when(occurred_at) if occurred_at.strip() else None,
                "known_at": _when(known_at) or known_at,
                "known_by": known_by,
                "discovered_by": discovered_by,
                "cause": cause,
                "cause_detail": cause_detail or None,
                "role": role or "operator",
                "entrustor_name": entrustor_name or None,
            }
        )
    except ValidationError as exc:
        errors = pages.form_errors(exc, lang_of(request))
        return _new_page(request, who, errors=errors, chosen=chosen, status=422)
    try:
        with _transaction(request, who) as ctx:
            read = service.register(ctx, data)
    except MamoriError as exc:
        if exc.code == "role_not_permitted":
            return _refuse(request, who, exc)
        return _new_page(
            request, who, failure=exc, chosen=_without_refused(chosen, exc), status=exc.http_status
        )
    if _can(who, INCIDENT_READ):
        return RedirectResponse(f"/incidents/{read.id}", status_code=303)
    data_out = _helpers(made=read)
    return render(request, "incidents/registered.html", pages.page_context(request, who, **data_out))


@router.get("/incidents/mine", response_class=HTMLResponse)
def mine_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    try:
        with _transaction(request, who) as ctx:
            rows = service.mine(ctx)
    except MamoriError as exc:
        return _refuse(request, who, exc)
    return render(request, "incidents/mine.html", pages.page_context(request, who, **_helpers(rows=rows)))


# -- one incident ------------------------------------------------------------------------------------------------


def _incident_page(
    request: Request,
    who: Principal,
    key: str,
    *,
    failure: MamoriError | None = None,
    status: int = 200,
) -> Response:
    try:
        with _transaction(request, who) as ctx:
            detail = service.detail(ctx, key, lang_of(request))
    except MamoriError as exc:
        return _refuse(request, who, exc, back="/incidents")
    data = _helpers(
        d=detail,
        i=detail.incident,
        c=detail.classification,
        dl=detail.deadlines,
        can_manage=_can(who, INCIDENT_MANAGE),
        failure=failure.message(lang_of(request)) if failure else None,
        rule_id=failure.rule_id if failure else None,
        now_local=runtime_of(request).clock.now().astimezone(JST).strftime("%Y-%m-%dT%H:%M"),
    )
    return render(
        request, "incidents/incident.html", pages.page_context(request, who, **data), status_code=status
    )


@router.get("/incidents/{key}", response_class=HTMLResponse)
def incident_page(request: Request, key: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    return _incident_page(request, who, key)


@router.get("/incidents/{key}/classification", response_class=HTMLResponse)
def classification_fragment(request: Request, key: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    if not is_htmx(request):
        return RedirectResponse(f"/incidents/{key}#classification", status_code=303)
    try:
        with _transaction(request, who) as ctx:
            detail = service.detail(ctx, key, lang_of(request))
    except MamoriError as exc:
        return _refuse(request, who, exc, back="/incidents")
    data = _helpers(d=detail, i=detail.incident, c=detail.classification, dl=detail.deadlines)
    return render(request, "incidents/_classification.html", pages.page_context(request, who, **data))


def _write(request: Request, who: Principal, key: str, call: Callable[[Context], IncidentRead]) -> Response:
    try:
        with _transaction(request, who) as ctx:
            read = call(ctx)
    except MamoriError as exc:
        if exc.code == "role_not_permitted" or exc.http_status == 404:
            return _refuse(request, who, exc, back="/incidents")
        return _incident_page(request, who, key, failure=exc, status=exc.http_status)
    return RedirectResponse(f"/incidents/{read.id}#deadlines", status_code=303)


@router.post("/incidents/{key}/filings", response_class=HTMLResponse)
def filing(request: Request, key: str, csrf: Csrf = "", what: Text = "", at: Text = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    try:
        data = FilingIn.model_validate({"what": what, "at": _when(at) if at.strip() else None})
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back=f"/incidents/{key}")
    return _write(request, who, key, lambda ctx: service.record_filing(ctx, key, data.what, data.at))


@router.post("/incidents/{key}/close", response_class=HTMLResponse)
def close(request: Request, key: str, csrf: Csrf = "", force: Text = "", reason: Text = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    try:
        data = CloseIn.model_validate({"force": bool(force), "reason": reason or None})
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back=f"/incidents/{key}")
    return _write(request, who, key, lambda ctx: service.close(ctx, key, data))


# -- editing -----------------------------------------------------------------------------------------------------


def _local(value: datetime | None) -> str:
    return value.astimezone(JST).strftime("%Y-%m-%dT%H:%M") if value else ""


def _edit_page(
    request: Request,
    who: Principal,
    key: str,
    *,
    chosen: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    failure: MamoriError | None = None,
    status: int = 200,
) -> Response:
    try:
        with _transaction(request, who) as ctx:
            row = service.authorise_manage(ctx, key)
            read = service.to_read(row)
    except MamoriError as exc:
        return _refuse(request, who, exc, back="/incidents")
    values: dict[str, str] = {name: str(getattr(read, name) or "") for name in TEXT_FIELDS}
    values.update(
        kind=read.kind,
        cause=read.cause,
        role=read.role,
        suspected="1" if read.suspected else "",
        occurred_at=_local(read.occurred_at),
        known_at=_local(read.known_at),
        wrongful={True: "yes", False: "no", None: "auto"}[read.wrongful_purpose],
        encryption_exempt="1" if read.encryption_exempt else "",
        pseudonymised="1" if read.pseudonymised else "",
        gdpr_risk=read.gdpr_risk or "",
        version=str(read.version),
    )
    values.update(chosen or {})
    data = _helpers(
        i=read,
        v=values,
        errors=errors or [],
        failure=failure.message(lang_of(request)) if failure else None,
        rule_id=failure.rule_id if failure else None,
    )
    return render(
        request, "incidents/edit.html", pages.page_context(request, who, **data), status_code=status
    )


@router.get("/incidents/{key}/edit", response_class=HTMLResponse)
def edit_page(request: Request, key: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    return _edit_page(request, who, key)


@router.post("/incidents/{key}/edit", response_class=HTMLResponse)
async def edit(request: Request, key: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    form = await request.form()
    sent = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    if not pages.csrf_ok(request, who, sent.get("csrf")):
        return pages.csrf_refused(request, who)
    chosen = {k: v for k, v in sent.items() if k != "csrf"}
    fields: dict[str, Any] = {name: (sent.get(name) or None) for name in TEXT_FIELDS if name in sent}
    for name in ("title", "known_by", "discovered_by"):
        if fields.get(name) is None:
            fields.pop(name, None)  # required: left as it is
    for name in ("kind", "cause", "role"):
        if sent.get(name):
            fields[name] = sent[name]
    fields["gdpr_risk"] = sent.get("gdpr_risk") or None
    fields["suspected"] = bool(sent.get("suspected"))
    fields["encryption_exempt"] = bool(sent.get("encryption_exempt"))
    fields["pseudonymised"] = bool(sent.get("pseudonymised"))
    wrongful = sent.get("wrongful", "auto")
    fields["wrongful_purpose"] = {"yes": True, "no": False}.get(wrongful)
    fields["occurred_at"] = _when(sent.get("occurred_at", "")) if sent.get("occurred_at") else None
    if sent.get("known_at"):
        fields["known_at"] = _when(sent["known_at"]) or sent["known_at"]
    if (sent.get("version") or "").isdigit():
        fields["expect_version"] = int(sent["version"])
    try:
        data = IncidentUpdate.model_validate(fields)
    except ValidationError as exc:
        errors = pages.form_errors(exc, lang_of(request))
        return _edit_page(request, who, key, chosen=chosen, errors=errors, status=422)
    try:
        with _transaction(request, who) as ctx:
            read = service.update(ctx, key, data)
    except MamoriError as exc:
        if exc.code == "role_not_permitted" or exc.http_status == 404:
            return _refuse(request, who, exc, back="/incidents")
        chosen = _without_refused(chosen, exc)
        return _edit_page(request, who, key, chosen=chosen, failure=exc, status=exc.http_status)
    return RedirectResponse(f"/incidents/{read.id}", status_code=303)
