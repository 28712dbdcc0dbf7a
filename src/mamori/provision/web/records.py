"""Provision and receipt records, and receiving a file from a provider (R-30-1, R-30-2)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.uploads import BadUpload, UploadTooLarge, is_multipart, read_multipart
from mamori.kernel.labels import label
from mamori.provision import jobs, service
from mamori.provision.schemas import (
    RECEIPT_VARIANTS,
    ReceiveIn,
)
from mamori.provision.service import receiving
from mamori.provision.service.common import can_manage
from mamori.provision.web.common import (
    _ID,
    DIRECTIONS,
    MAX_FILE,
    SHOWN,
    _day,
    _error,
    _errors_of,
    _invalid,
    _lang,
    _may_manage,
    _page,
    _problem,
    _purpose_titles,
    _text,
    _transaction,
)
from mamori.purposes import service as purposes_service

router = APIRouter(include_in_schema=False)

MAX_FORM = 256 * 1024  # the receive form's other fields together

# -- records ----------------------------------------------------------------------------------------------------------


@router.get("/provision/records", response_class=HTMLResponse)
def records_page(
    request: Request, counterparty: str = "", direction: str = "", since: str = "", until: str = ""
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    lang = _lang(request)
    errors: list[dict[str, str]] = []
    if counterparty and not _ID.match(counterparty):
        errors.append(_error("counterparty_id", "bad_id", lang))
    if direction and direction not in DIRECTIONS:
        errors.append(_error("direction", "bad_choice", lang))
    start = _day(since[:20], "since", lang, errors)
    end = _day(until[:20], "until", lang, errors, end=True)
    if errors:
        return pages.error_page(
            request, who, 422, label("web.invalid", lang), errors=errors, back="/provision/records"
        )
    try:
        with _transaction(request, who, readonly=True) as ctx:
            items = service.list_records(
                ctx, counterparty_id=counterparty or None, direction=direction or None, since=start, until=end
            )
            parties = service.list_counterparties(ctx)
            titles = _purpose_titles(ctx, lang)
    except MamoriError as exc:
        if exc.http_status == 422:
            return pages.error_page(
                request, who, 422, exc.message(lang), rule_id=exc.rule_id, back="/provision/records"
            )
        return pages.refusal(request, who, exc)
    chosen = {"counterparty": counterparty, "direction": direction, "since": since[:20], "until": until[:20]}
    return _page(
        request,
        who,
        "records.html",
        items=list(reversed(items))[:SHOWN],
        total=len(items),
        parties=parties,
        chosen=chosen,
        directions=DIRECTIONS,
        titles=titles,
    )


@router.get("/provision/records/{rid}", response_class=HTMLResponse)
def record_page(request: Request, rid: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(rid):
        return pages.not_found(request, who, back="/provision/records")
    try:
        with _transaction(request, who, readonly=True) as ctx:
            r = service.show_record(ctx, rid)
            titles = _purpose_titles(ctx, _lang(request))
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/provision/records")
    return _page(request, who, "record.html", r=r, titles=titles)


# -- receipts -------------------------------------------------------------------------------------------------------


@router.get("/provision/receipts", response_class=HTMLResponse)
def receipts_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    try:
        with _transaction(request, who, readonly=True) as ctx:
            items = receiving.list_receipts(ctx)
            names = {c.id: c.name for c in service.list_counterparties(ctx)}
    except MamoriError as exc:
        return pages.refusal(request, who, exc)
    return _page(request, who, "receipts.html", items=items, names=names)


_RECEIVE_TEXTS = ("counterparty_id", "variant", "identity_confirmed_by", "acquisition")
_RECEIVE_FLAGS = ("acquisition_lawful", "ppc_publication_confirmed", "consent_confirmed", "skip_bad_rows")


def _receive_values(form: FormData) -> dict[str, Any]:
    v: dict[str, Any] = {k: _text(form, k) for k in _RECEIVE_TEXTS}
    v.update({k: _text(form, k) == "1" for k in _RECEIVE_FLAGS})
    v["purposes"] = [p for p in form.getlist("purposes") if isinstance(p, str)]
    v["prior_purposes"] = [p for p in form.getlist("prior_purposes") if isinstance(p, str)]
    return v


def _parse_receive(v: dict[str, Any], lang: str) -> tuple[ReceiveIn | None, list[dict[str, str]]]:
    errors: list[dict[str, str]] = []
    if not v["purposes"] or any(not re.fullmatch(r"[a-z][a-z0-9_-]{1,63}", p) for p in v["purposes"]):
        errors.append(_error("purposes", "bad_choice", lang))
    try:
        data = ReceiveIn.model_validate(
            {k: v[k] for k in (*_RECEIVE_TEXTS, *_RECEIVE_FLAGS[:3], "prior_purposes")}
        )
    except ValidationError as exc:
        return None, errors + _errors_of(exc, lang)
    return (None, errors) if errors else (data, [])


def _receive_form(
    request: Request,
    who: Principal,
    v: dict[str, Any],
    *,
    status: int = 200,
    problem: dict[str, Any] | None = None,
) -> HTMLResponse:
    try:
        with _transaction(request, who, readonly=True) as ctx:
            can_manage(ctx)
            providers = [
                c for c in service.list_counterparties(ctx) if c.kind in ("third_party", "succession")
            ]
            purposes = purposes_service.list_purposes(ctx, include_retired=False)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/provision/receipts")
    lang = _lang(request)
    return _page(
        request,
        who,
        "receive.html",
        status=status,
        v=v,
        problem=problem,
        providers=providers,
        variants=RECEIPT_VARIANTS,
        purposes=[(p.code, p.title_en if lang == "en" else p.title_ja) for p in purposes],
    )


@router.get("/provision/receipts/new", response_class=HTMLResponse)
def receive_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    v: dict[str, Any] = {k: "" for k in _RECEIVE_TEXTS}
    v.update({k: False for k in _RECEIVE_FLAGS}, purposes=[], prior_purposes=[])
    return _receive_form(request, who, v)


@router.post("/provision/receipts/new", response_class=HTMLResponse)
async def receive(request: Request) -> Response:
    """``step=confirm`` (the default): the R-30-1 confirmation, nothing written; ``step=edit`` the form again;
    ``step=record``: the file, imported and recorded in one transaction (R-30-2). The multipart upload is parsed
    into memory only (``kernel.http.uploads``: Starlette's parser would spool a file over 1 MB to disk) and the
    bytes go to the job runner as they are: the file is never written to disk."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    content: bytes | None = None
    if is_multipart(request):
        try:
            form, content = await read_multipart(request, max_file_bytes=MAX_FILE, max_form_bytes=MAX_FORM)
        except UploadTooLarge:
            lang = _lang(request)
            message = label("web_provision.file_too_large", lang)
            return pages.error_page(request, who, 413, message, back="/provision/receipts/new")
        except BadUpload:
            return pages.error_page(
                request, who, 400, label("web.invalid", _lang(request)), back="/provision/receipts/new"
            )
    else:
        form = await request.form(max_files=0, max_fields=1000)
    return await run_in_threadpool(_receive, request, who, form, content)


def _receive(request: Request, who: Principal, form: FormData, content: bytes | None) -> Response:
    if not pages.csrf_ok(request, who, _text(form, "csrf")):
        return pages.csrf_refused(request, who)
    lang = _lang(request)
    v = _receive_values(form)
    step = _text(form, "step") or "confirm"
    if step == "edit":
        return _receive_form(request, who, v)
    data, errors = _parse_receive(v, lang)
    if data is None:
        refused = _may_manage(request, who)
        if refused is not None:
            return pages.refusal(request, who, refused, back="/provision/receipts")
        return _receive_form(request, who, v, status=422, problem=_invalid(request, errors))
    try:
        with _transaction(request, who, readonly=True) as ctx:
            cp = receiving.confirm(ctx, data)  # R-30-1: writes nothing
            provider = service.get_counterparty(ctx, cp.id)
            titles = _purpose_titles(ctx, lang)
    except MamoriError as exc:
        if exc.code == "role_not_permitted" or exc.rule_id == "R-23-2":
            return pages.refusal(request, who, exc, back="/provision/receipts")
        return _receive_form(request, who, v, status=exc.http_status, problem=_problem(request, who, exc))
    if step != "record":
        return _page(request, who, "receive_confirm.html", v=v, provider=provider, titles=titles)
    if not content:
        problem = _invalid(request, [_error("file", "no_file", lang)])
        return _page(
            request,
            who,
            "receive_confirm.html",
            status=422,
            v=v,
            provider=provider,
            problem=problem,
            titles=titles,
        )
    try:
        report, receipt = jobs.receive_file(
            runtime_of(request),
            who.actor,
            content,  # the bytes in memory: never written to disk
            data,
            purposes=v["purposes"],
            skip_bad_rows=v["skip_bad_rows"],
        )
    except MamoriError as exc:
        if exc.code == "role_not_permitted" or exc.rule_id == "R-23-2":
            return pages.refusal(request, who, exc, back="/provision/receipts")
        return _page(
            request,
            who,
            "receive_confirm.html",
            status=exc.http_status,
            v=v,
            provider=provider,
            problem=_problem(request, who, exc),
            titles=titles,
        )
    lines = [(e.line, e.text(lang)) for e in report.errors]
    status = 201 if receipt is not None else 422
    return _page(
        request,
        who,
        "received.html",
        status=status,
        report=report,
        receipt=receipt,
        lines=lines,
        provider=provider,
    )


@router.get("/provision/receipts/{receipt_id}", response_class=HTMLResponse)
def receipt_page(request: Request, receipt_id: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(receipt_id):
        return pages.not_found(request, who, back="/provision/receipts")
    try:
        with _transaction(request, who, readonly=True) as ctx:
            r = receiving.show_receipt(ctx, receipt_id)
            cp = service.get_counterparty(ctx, r.counterparty_id)
            titles = _purpose_titles(ctx, _lang(request))
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/provision/receipts")
    return _page(request, who, "receipt.html", r=r, cp=cp, titles=titles)
