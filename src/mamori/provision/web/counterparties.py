"""The counterparties (提供先): the list with alerts, registering one, information sheets, the yearly review."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal
from mamori.provision import service
from mamori.provision.schemas import (
    COUNTERPARTY_KINDS,
    CounterpartyIn,
    InfoSheetIn,
    ReviewIn,
)
from mamori.provision.web.common import (
    _ID,
    Form_,
    _day,
    _error,
    _errors_of,
    _invalid,
    _lang,
    _may_manage,
    _page,
    _problem,
    _text,
    _transaction,
)

router = APIRouter(include_in_schema=False)

# -- counterparties -------------------------------------------------------------------------------------------------


@router.get("/provision", response_class=HTMLResponse)
def counterparties_page(request: Request, kind: str = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    chosen = kind if kind in COUNTERPARTY_KINDS else ""
    try:
        with _transaction(request, who, readonly=True) as ctx:
            items = service.list_counterparties(ctx, chosen or None)
    except MamoriError as exc:
        return pages.refusal(request, who, exc)
    return _page(request, who, "list.html", items=items, kinds=COUNTERPARTY_KINDS, kind=chosen)


_CP_TEXTS = (
    "kind",
    "name",
    "address",
    "representative",
    "phone",
    "country",
    "system_kind",
    "system_reference",
    "system_reviewed_at",
)


def _cp_form(
    request: Request,
    who: Principal,
    v: dict[str, Any],
    status: int = 200,
    problem: dict[str, Any] | None = None,
) -> HTMLResponse:
    return _page(
        request, who, "counterparty_new.html", status=status, v=v, kinds=COUNTERPARTY_KINDS, problem=problem
    )


@router.get("/provision/counterparties/new", response_class=HTMLResponse)
def new_counterparty_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    refused = _may_manage(request, who)
    if refused is not None:
        return pages.refusal(request, who, refused)
    v: dict[str, Any] = {k: "" for k in _CP_TEXTS}
    v.update(kind="third_party", country="JP", public_body=False)
    return _cp_form(request, who, v)


@router.post("/provision/counterparties/new", response_class=HTMLResponse)
def add_counterparty(request: Request, form: Form_) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, _text(form, "csrf")):
        return pages.csrf_refused(request, who)
    lang = _lang(request)
    v: dict[str, Any] = {k: _text(form, k) for k in _CP_TEXTS}
    v["public_body"] = _text(form, "public_body") == "1"
    errors: list[dict[str, str]] = []
    reviewed = _day(v["system_reviewed_at"], "system_reviewed_at", lang, errors)
    body = {
        "kind": v["kind"],
        "name": v["name"],
        "address": v["address"],
        "representative": v["representative"],
        "phone": v["phone"] or None,
        "country": v["country"] or "JP",
        "public_body": v["public_body"],
        "system_kind": v["system_kind"] or None,
        "system_reference": v["system_reference"] or None,
        "system_reviewed_at": reviewed,
    }
    data: CounterpartyIn | None = None
    try:
        data = CounterpartyIn.model_validate(body)
    except ValidationError as exc:
        errors.extend(_errors_of(exc, lang))
    if errors or data is None:
        return _cp_form(request, who, v, 422, _invalid(request, errors))
    try:
        with _transaction(request, who) as ctx:
            made = service.add_counterparty(ctx, data)
    except MamoriError as exc:
        if exc.http_status in (409, 422):
            return _cp_form(request, who, v, exc.http_status, _problem(request, who, exc))
        return pages.refusal(request, who, exc)
    return RedirectResponse(f"/provision/counterparties/{made.id}?done=added", status_code=303)


_DONE = {"added": "added", "sheet": "sheet_added", "review": "reviewed"}


def _counterparty(
    request: Request,
    who: Principal,
    cid: str,
    *,
    notice: str | None = None,
    problem: dict[str, Any] | None = None,
    status: int = 200,
    v: dict[str, str] | None = None,
) -> HTMLResponse:
    try:
        with _transaction(request, who, readonly=True) as ctx:
            cp = service.get_counterparty(ctx, cid)
            sheets = service.sheets(ctx, cid)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/provision")
    return _page(
        request,
        who,
        "counterparty.html",
        status=status,
        cp=cp,
        sheets=list(reversed(sheets)),
        notice=notice,
        problem=problem,
        v=v or {},
    )


@router.get("/provision/counterparties/{cid}", response_class=HTMLResponse)
def counterparty_page(request: Request, cid: str, done: str = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(cid):
        return pages.not_found(request, who, back="/provision")
    return _counterparty(request, who, cid, notice=_DONE.get(done))


@router.post("/provision/counterparties/{cid}/sheets", response_class=HTMLResponse)
def add_sheet(request: Request, cid: str, form: Form_) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(cid):
        return pages.not_found(request, who, back="/provision")
    if not pages.csrf_ok(request, who, _text(form, "csrf")):
        return pages.csrf_refused(request, who)
    v = {k: _text(form, k) for k in ("protection_system", "recipient_measures")}
    try:
        data = InfoSheetIn.model_validate(v)
    except ValidationError as exc:
        return _counterparty(
            request, who, cid, problem=_invalid(request, _errors_of(exc, _lang(request))), status=422, v=v
        )
    try:
        with _transaction(request, who) as ctx:
            service.add_sheet(ctx, cid, data)
    except MamoriError as exc:
        if exc.http_status in (409, 422):
            return _counterparty(
                request, who, cid, problem=_problem(request, who, exc), status=exc.http_status, v=v
            )
        return pages.refusal(request, who, exc, back="/provision")
    return RedirectResponse(f"/provision/counterparties/{cid}?done=sheet", status_code=303)


@router.post("/provision/counterparties/{cid}/reviews", response_class=HTMLResponse)
def review(request: Request, cid: str, form: Form_) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(cid):
        return pages.not_found(request, who, back="/provision")
    if not pages.csrf_ok(request, who, _text(form, "csrf")):
        return pages.csrf_refused(request, who)
    lang = _lang(request)
    v = {k: _text(form, k) for k in ("reviewed_at", "next_due", "ok")}
    errors: list[dict[str, str]] = []
    reviewed = _day(v["reviewed_at"], "reviewed_at", lang, errors)
    due = _day(v["next_due"], "next_due", lang, errors)
    if v["ok"] not in ("1", "0"):
        errors.append(_error("ok", "bad_choice", lang))
    if errors:
        return _counterparty(request, who, cid, problem=_invalid(request, errors), status=422, v=v)
    data = ReviewIn(reviewed_at=reviewed, ok=v["ok"] == "1", next_due=due)
    try:
        with _transaction(request, who) as ctx:
            service.review(ctx, cid, data)
    except MamoriError as exc:
        if exc.http_status in (409, 422):
            return _counterparty(
                request, who, cid, problem=_problem(request, who, exc), status=exc.http_status, v=v
            )
        return pages.refusal(request, who, exc, back="/provision")
    return RedirectResponse(f"/provision/counterparties/{cid}?done=review", status_code=303)
