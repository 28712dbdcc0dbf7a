"""The provide wizard (入力 → 確認 → 完了) and the result page of one provision."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from mamori.customers.service.subjects import FIELD_NAMES
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal
from mamori.provision import service
from mamori.provision.schemas import (
    EXCEPTION_CODES,
    ProvideIn,
)
from mamori.provision.service import joint_use, opt_out, providing
from mamori.provision.service import records as records_service
from mamori.provision.service.common import can_manage
from mamori.provision.web import exports
from mamori.provision.web.common import (
    _ID,
    BASES,
    MAX_TEXT,
    Form_,
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

# -- the provide wizard: 入力 → 確認 → 完了 --------------------------------------------------------------------------

_PROVIDE_TEXTS = (
    "counterparty_id",
    "purpose",
    "basis",
    "selection",
    "customer_ids",
    "notified_purpose",
    "other_items",
    "exception_code",
    "decided_by",
    "exception_reason",
    "opt_out_filing_id",
    "joint_use_id",
)


def _provide_values(form: FormData) -> dict[str, Any]:
    v: dict[str, Any] = {
        k: _text(form, k, limit=5_000_000 if k == "customer_ids" else MAX_TEXT) for k in _PROVIDE_TEXTS
    }
    v["fields"] = [f for f in form.getlist("fields") if isinstance(f, str)]
    v["continuous"] = _text(form, "continuous") == "1"
    v["contract_record"] = _text(form, "contract_record") == "1"
    v["selection"] = v["selection"] if v["selection"] in ("ids", "notified") else "ids"
    v["basis"] = v["basis"] or "consent"
    return v


def _parse_provide(
    v: dict[str, Any], lang: str, *, skip_refused: bool = False
) -> tuple[ProvideIn | None, list[dict[str, str]]]:
    """The wizard's values as the service's input, or the errors in words (never a value)."""
    errors: list[dict[str, str]] = []
    ids: list[str] | None = None
    notified: str | None = None
    if v["selection"] == "ids":
        ids = []
        for n, line in enumerate(v["customer_ids"].split("\n"), start=1):
            for token in re.split(r"[\s,、，]+", line.strip()):
                if not token:
                    continue
                if not _ID.match(token.lower()):
                    errors.append(_error("customer_ids", "bad_ids", lang, n=n))
                    break
                ids.append(token.lower())
        if not ids and not errors:
            errors.append(_error("customer_ids", "no_ids", lang))
    else:
        notified = v["notified_purpose"] or None
    extra = [i.strip() for i in re.split(r"[,、，\s]+", v["other_items"]) if i.strip()]
    body: dict[str, Any] = {
        "counterparty_id": v["counterparty_id"],
        "purpose": v["purpose"],
        "fields": [*v["fields"], *extra],
        "customer_ids": ids,
        "notified_purpose": notified,
        "basis": v["basis"],
        "exception": (
            {"code": v["exception_code"], "decided_by": v["decided_by"], "reason": v["exception_reason"]}
            if v["basis"] == "exception"
            else None
        ),
        "opt_out_filing_id": (v["opt_out_filing_id"] or None) if v["basis"] == "opt_out" else None,
        "joint_use_id": (v["joint_use_id"] or None) if v["basis"] == "joint_use" else None,
        "continuous": v["continuous"],
        "medium": "contract" if v["contract_record"] else "system",
        "skip_refused": skip_refused,
        "out_format": "json",
    }
    if errors:
        return None, errors
    try:
        return ProvideIn.model_validate(body), []
    except ValidationError as exc:
        return None, _errors_of(exc, lang)


def _provide_form(
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
            counterparties = service.list_counterparties(ctx)
            purposes = purposes_service.list_purposes(ctx, include_retired=False)
            filings = opt_out.list_filings(ctx)
            joint_uses = joint_use.list_declarations(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/provision")
    lang = _lang(request)
    return _page(
        request,
        who,
        "provide.html",
        status=status,
        v=v,
        problem=problem,
        counterparties=counterparties,
        purposes=[(p.code, p.title_en if lang == "en" else p.title_ja) for p in purposes],
        field_names=FIELD_NAMES,
        bases=BASES,
        exceptions=EXCEPTION_CODES,
        filings=filings,
        joint_uses=joint_uses,
    )


@router.get("/provision/provide", response_class=HTMLResponse)
def provide_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    v: dict[str, Any] = {k: "" for k in _PROVIDE_TEXTS}
    v.update(basis="consent", selection="ids", fields=[], continuous=False, contract_record=False)
    return _provide_form(request, who, v)


@router.post("/provision/provide", response_class=HTMLResponse)
def provide(request: Request, form: Form_) -> Response:
    """``step=preview`` (the default) a dry run; ``step=edit`` the form again; ``step=confirm`` provides."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, _text(form, "csrf")):
        return pages.csrf_refused(request, who)
    lang = _lang(request)
    v = _provide_values(form)
    step = _text(form, "step") or "preview"
    if step == "edit":
        return _provide_form(request, who, v)
    skip = step == "confirm" and _text(form, "skip_refused") == "1"
    data, errors = _parse_provide(v, lang, skip_refused=skip)
    if data is None:
        refused = _may_manage(
            request, who
        )  # a role that may not provide learns that first, not the form's errors
        if refused is not None:
            return pages.refusal(request, who, refused, back="/provision")
        return _provide_form(request, who, v, status=422, problem=_invalid(request, errors))
    if step != "confirm":
        try:
            with _transaction(request, who, readonly=True) as ctx:
                result = providing.preview(ctx, data)
                cp = service.get_counterparty(ctx, data.counterparty_id)
                titles = _purpose_titles(ctx, lang)
        except MamoriError as exc:
            return _provide_refused(request, who, v, exc)
        return _page(request, who, "preview.html", v=v, p=result, cp=cp, data=data, titles=titles)
    try:
        with _transaction(request, who) as ctx:
            done = service.provide(ctx, data)
    except service.ProvisionRefused as exc:
        # all-or-nothing and someone is refused: nothing was provided; show who and why again
        try:
            with _transaction(request, who, readonly=True) as ctx:
                again = providing.preview(ctx, data)
                cp = service.get_counterparty(ctx, data.counterparty_id)
                titles = _purpose_titles(ctx, lang)
        except MamoriError as exc2:
            return _provide_refused(request, who, v, exc2)
        problem = _problem(request, who, exc)
        problem["message"] = exc.summary_en if lang == "en" else exc.summary_ja
        return _page(
            request,
            who,
            "preview.html",
            status=exc.http_status,
            v=v,
            p=again,
            cp=cp,
            data=data,
            problem=problem,
            titles=titles,
        )
    except MamoriError as exc:
        return _provide_refused(request, who, v, exc)
    if done.provision_id is not None and done.rows:
        # the export is handed over once from the result page (memory only, this user, 30 minutes)
        exports.hold(who, done.provision_id, done.fields, done.rows)
    # Post/Redirect/Get: reloading the result page shows it again and never provides a second time.
    return RedirectResponse(f"/provision/provisions/{done.provision_id}", status_code=303)


@router.get("/provision/provisions/{pid}", response_class=HTMLResponse)
def provided_page(request: Request, pid: str) -> Response:
    """The result of one provision (完了): counts, the record ids (R-29-1), how many were skipped."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(pid):
        return pages.not_found(request, who, back="/provision/records")
    try:
        with _transaction(request, who, readonly=True) as ctx:
            done = records_service.show_provision(ctx, pid)
            cp = service.get_counterparty(ctx, done.counterparty_id)
            titles = _purpose_titles(ctx, _lang(request))
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/provision/records")
    return _page(
        request, who, "provided.html", r=done, cp=cp, titles=titles, export=exports.state_of(pid, who)
    )


def _provide_refused(request: Request, who: Principal, v: dict[str, Any], exc: MamoriError) -> HTMLResponse:
    """A refusal of the whole provision: a role refusal as the shared page; anything about the input (an unknown
    counterparty or purpose, a basis that does not apply, missing customers) on the form with its rule id."""
    if exc.code == "role_not_permitted" or exc.rule_id == "R-23-2":
        return pages.refusal(request, who, exc, back="/provision")
    return _provide_form(request, who, v, status=exc.http_status, problem=_problem(request, who, exc))
