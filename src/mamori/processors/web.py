"""Web pages of the processors slice (issue 15): outsourcees (委託先) — thin: parse, call the service, render.

URLs (nothing personal in any of them: contract, audit and sub-outsourcing ids are opaque; customer ids travel in
POST bodies only):

- ``GET  /outsourcees`` — the contracts (outsourcee, status in words, purposes, next audit, overdue audits in red
  with R-25-1), ``?status=<code>`` filters; the form to record a contract (draft).
- ``POST /outsourcees`` — record a contract (``service.add_contract``), then the contract page.
- ``GET  /outsourcees/{id}`` — one contract: its clauses, the selection evaluation (GL-T 10 items), start and
  end, covered customers (a count), audits, sub-outsourcing, operators and handovers, each with its form.
- ``POST /outsourcees/{id}/evaluate`` · ``/activate`` · ``/end`` · ``/customers`` · ``/customers/remove`` ·
  ``/audits`` · ``/audits/{audit}/result`` · ``/audits/{audit}/remedy`` · ``/subcontracts`` ·
  ``/subcontracts/{sub}/approve`` · ``/subcontracts/{sub}/refuse`` · ``/operators`` — the same service calls as
  :mod:`mamori.processors.api`; each answers with a redirect to the contract page and a notice (post/redirect/get).
- ``POST /outsourcees/{id}/handover`` — the handover file (CSV) as the response, an attachment never stored on the
  server; the service logs the handover without values (R-25-1, R-27-2).

The service authorises (PROCESSOR_READ / PROCESSOR_MANAGE; the privacy officer), checks (R-25-1: the checklist
and a passed evaluation before a contract starts) and audits. A refusal is the shared error page with its rule id;
a write without the session's CSRF token is refused and changes nothing.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from mamori.kernel import files, validation
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError, NotFound
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import PAGE_HEADERS, lang_of, render
from mamori.kernel.labels import has, label
from mamori.kernel.policy import Action
from mamori.processors import service
from mamori.processors.schemas import (
    AUDIT_METHODS,
    CLAUSES,
    CONTRACT_FIELDS,
    CONTRACT_STATUSES,
    EVALUATION_ITEMS,
    HANDOVER_FIELDS,
    AuditResultIn,
    AuditScheduleIn,
    ContractCreate,
    ContractDetail,
    CustomersIn,
    DecisionIn,
    EndIn,
    EvaluationIn,
    HandoverIn,
    OperatorCreate,
    RemedyIn,
    SubcontractIn,
)
from mamori.processors.service.common import authorise_processor
from mamori.provision import service as provision_service
from mamori.purposes import service as purposes_service
from mamori.staff import service as staff_service

TEMPLATES = Path(__file__).resolve().parent / "templates"
router = APIRouter(include_in_schema=False)

_ID = re.compile(r"^[0-9a-f]{32}$")
_SPLIT = re.compile(r"[\s,、，]+")
MAX_FIELD = 20000  # a form field longer than this is refused before it reaches a model
DONE = frozenset(
    {
        "added",
        "evaluated",
        "activated",
        "ended",
        "assigned",
        "removed",
        "audit_scheduled",
        "audit_recorded",
        "audit_remedied",
        "sub_requested",
        "sub_approved",
        "sub_refused",
        "operator_added",
    }
)


# -- the signed-in user, transactions, the form ------------------------------------------------------------------


@contextmanager
def _transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=readonly) as ctx:
        yield ctx


async def _form(request: Request) -> FormData:
    return await request.form()


Form_ = Annotated[FormData, Depends(_form)]


def _text(form: FormData, name: str) -> str:
    raw = form.get(name)
    return raw.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(raw, str) else ""


def _list(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def _present(body: dict[str, Any]) -> dict[str, Any]:
    """The form's values without the empty ones, so a field left empty is "required", not "badly formed"."""
    return {k: v for k, v in body.items() if v != "" and v is not None}


def _date(form: FormData, name: str) -> str:
    """A date as typed: full-width digits and 2026/12/06 are accepted (the model parses and checks it)."""
    return unicodedata.normalize("NFKC", _text(form, name)).replace("/", "-")


def _ids(text: str) -> list[str]:
    """Customer ids pasted one per line (or separated by commas, spaces): full-width and upper case accepted."""
    return [p for p in _SPLIT.split(unicodedata.normalize("NFKC", text).lower()) if p]


def _back(cid: str | None) -> str:
    return f"/outsourcees/{cid}" if cid else "/outsourcees"


def _field_word(field: str, lang: str) -> str:
    head = field.split(".", 1)[0]
    if has(f"web_processors_input.{head}"):
        return label(f"web_processors_input.{head}", lang)
    return validation.field_name(head, lang) if head else label("validation.request", lang)


def item_word(name: str, lang: str) -> str:
    """A contract item in words: 氏名, 電話番号, 対応履歴, 属性「…」."""
    if name.startswith("attr:"):
        word = label("web_processors_item.attr", lang)
        return f"{word} {name[5:]}" if lang == "en" else f"{word}「{name[5:]}」"
    if has(f"web_processors_item.{name}"):
        return label(f"web_processors_item.{name}", lang)
    return validation.field_name(name, lang)


def in_order(names: list[str]) -> list[str]:
    """Contract items in the order of the customer record (氏名, フリガナ, …), attributes last."""
    rank = {f: i for i, f in enumerate(CONTRACT_FIELDS)}
    return sorted(names, key=lambda f: (rank.get(f, len(rank)), f))


def _invalid(
    request: Request, who: Principal, exc: ValidationError | list[dict[str, str]], cid: str | None
) -> HTMLResponse:
    """Bad form input: the shared 422 page, one line per field in this page's words, never the value.

    Only someone who may manage outsourcees is told what is wrong with the input; anyone else gets the refusal
    (audited), as a valid form would."""
    refused = _may_manage(request, who)
    if refused is not None:
        return pages.refusal(request, who, refused, back=_back(cid))
    lang = lang_of(request)
    if isinstance(exc, ValidationError):
        errors = []
        for err in exc.errors(include_input=False, include_url=False):
            field = validation.field_path(err.get("loc", ()))
            errors.append(
                {"field": field, "label": _field_word(field, lang), "message": validation.reason(err, lang)}
            )
    else:
        errors = exc
    return pages.error_page(request, who, 422, label("web.invalid", lang), errors=errors, back=_back(cid))


def _too_long(form: FormData, lang: str) -> list[dict[str, str]]:
    msg = label("pydantic.string_too_long", lang).format(max_length=MAX_FIELD)
    return [
        {"field": k, "label": _field_word(k, lang), "message": msg}
        for k, v in form.multi_items()
        if isinstance(v, str) and len(v) > MAX_FIELD and k != "customer_ids"
    ]


def _may_manage(request: Request, who: Principal) -> MamoriError | None:
    """The check the service makes on every write (audited when it refuses), for the paths that stop earlier."""
    try:
        with _transaction(request, who, readonly=True) as ctx:
            authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    except MamoriError as exc:
        return exc
    return None


def _done(cid: str, what: str, **numbers: int) -> RedirectResponse:
    query = "&".join(f"{k}={v}" for k, v in numbers.items())
    return RedirectResponse(f"/outsourcees/{cid}?done={what}{'&' + query if query else ''}", status_code=303)


# -- presentation helpers (no rule: the service has decided) ------------------------------------------------------


def _names(ctx: Context, who: Principal) -> dict[str, str]:
    """Staff by name (actor label → display name) for who evaluated, decided, handed over."""
    names = {f"staff:{s.id}": s.display_name or s.username for s in staff_service.list_staff(ctx)}
    names[who.actor.label] = who.actor.name
    return names


def _who_acted(actor: str | None, names: dict[str, str], lang: str) -> str:
    if not actor:
        return "—"
    if actor in names:
        return names[actor]
    kind, _, ident = actor.partition(":")
    return f"{label('web_processors.staff_short', lang)} #{ident[-6:]}" if kind == "staff" else actor


def _purpose_titles(ctx: Context, lang: str) -> dict[str, str]:
    return {
        p.code: (p.title_en if lang == "en" else p.title_ja)
        for p in purposes_service.list_purposes(ctx, include_retired=True)
    }


def _common(request: Request, who: Principal, **extra: Any) -> dict[str, Any]:
    lang = lang_of(request)
    return pages.page_context(
        request,
        who,
        item_word=lambda name: item_word(name, lang),
        in_order=in_order,
        clauses=CLAUSES,
        evaluation_items=EVALUATION_ITEMS,
        audit_methods=AUDIT_METHODS,
        statuses=CONTRACT_STATUSES,
        **extra,
    )


# -- the contracts ------------------------------------------------------------------------------------------------


@router.get("/outsourcees", response_class=HTMLResponse)
def contracts_page(request: Request, status: str = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    lang = lang_of(request)
    chosen = status if status in CONTRACT_STATUSES else None
    try:
        with _transaction(request, who, readonly=True) as ctx:
            rows = service.list_contracts(ctx, chosen)
            outsourcees = provision_service.list_counterparties(ctx, "outsourcee")
            titles = _purpose_titles(ctx, lang)
            live = purposes_service.list_purposes(ctx, include_retired=False)
    except MamoriError as exc:
        return pages.refusal(request, who, exc)
    data = _common(
        request,
        who,
        rows=rows,
        status=chosen or "",
        outsourcees=outsourcees,
        titles=titles,
        purposes=live,
        contract_fields=CONTRACT_FIELDS,
        overdue_total=sum(r.overdue_audits for r in rows),
    )
    return render(request, "processors/contracts.html", data)


@router.post("/outsourcees", response_class=HTMLResponse)
def add_contract(request: Request, form: Form_) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, _text(form, "csrf")):
        return pages.csrf_refused(request, who)
    long = _too_long(form, lang_of(request))
    if long:
        return _invalid(request, who, long, None)
    try:
        data = ContractCreate.model_validate(
            _present(
                {
                    "counterparty_id": _text(form, "counterparty_id"),
                    "work": _text(form, "work"),
                    "purposes": _list(form, "purposes"),
                    "fields": _list(form, "fields"),
                    "clauses": _list(form, "clauses"),
                    "starts_on": _date(form, "starts_on"),
                    "ends_on": _date(form, "ends_on"),
                    "activity_write": _text(form, "activity_write") == "1",
                    "reference": _text(form, "reference") or None,
                }
            )
        )
    except ValidationError as exc:
        return _invalid(request, who, exc, None)
    try:
        with _transaction(request, who) as ctx:
            made = service.add_contract(ctx, data)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/outsourcees")
    return _done(made.id, "added")


# -- one contract -------------------------------------------------------------------------------------------------


def _count(raw: str) -> int:
    return int(raw) if raw.isdigit() and len(raw) < 10 else 0


def _handover_fields(d: ContractDetail) -> list[str]:
    return [f for f in in_order(d.fields) if f in HANDOVER_FIELDS or f.startswith("attr:")]


@router.get("/outsourcees/{cid}", response_class=HTMLResponse)
def contract_page(request: Request, cid: str, done: str = "", n: str = "0", unknown: str = "0") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(cid):
        return pages.not_found(request, who, back="/outsourcees")
    lang = lang_of(request)
    try:
        with _transaction(request, who, readonly=True) as ctx:
            d = service.show_contract(ctx, cid)
            operators = service.list_operators(ctx, cid)
            handovers = service.list_handovers(ctx, cid)
            titles = _purpose_titles(ctx, lang)
            names = _names(ctx, who)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/outsourcees")
    notice = None
    if done in DONE:
        notice = label(f"web_processors_done.{done}", lang).format(n=_count(n), unknown=_count(unknown))
    data = _common(
        request,
        who,
        d=d,
        operators=operators,
        handovers=handovers,
        titles=titles,
        notice=notice,
        who_acted=lambda actor: _who_acted(actor, names, lang),
        handover_fields=_handover_fields(d),
        latest=d.evaluations[-1] if d.evaluations else None,
    )
    return render(request, "processors/contract.html", data)


def _write(
    request: Request,
    cid: str,
    form: FormData,
    parse: Any,
    act: Any,
) -> Response:
    """The shape of every write on a contract: session, opaque id, CSRF, input, one transaction, redirect.

    ``parse(form)`` builds the service's input (a pydantic model, or None when it takes none); ``act(ctx, body)``
    calls the service and returns the redirect to show."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(cid):
        return pages.not_found(request, who, back="/outsourcees")
    if not pages.csrf_ok(request, who, _text(form, "csrf")):
        return pages.csrf_refused(request, who)
    long = _too_long(form, lang_of(request))
    if long:
        return _invalid(request, who, long, cid)
    try:
        body = parse(form)
    except ValidationError as exc:
        return _invalid(request, who, exc, cid)
    try:
        with _transaction(request, who) as ctx:
            result: Response = act(ctx, body)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=_back(cid))
    return result


def _none(_form: FormData) -> None:
    return None


def _audit_of(ctx: Context, cid: str, aid: str) -> None:
    """An audit id must be one of this contract's (else the same 404 as an unknown one)."""
    if not _ID.match(aid) or aid not in {a.id for a in service.list_audits(ctx, cid)}:
        raise NotFound("監査予定が見つかりません。", "Audit not found.", code="audit_not_found")


def _subcontract_of(ctx: Context, cid: str, sid: str) -> None:
    if not _ID.match(sid) or sid not in {s.id for s in service.show_contract(ctx, cid).subcontracts}:
        raise NotFound(
            "再委託の申請が見つかりません。",
            "Sub-outsourcing request not found.",
            code="subcontract_not_found",
        )


@router.post("/outsourcees/{cid}/evaluate", response_class=HTMLResponse)
def evaluate(request: Request, cid: str, form: Form_) -> Response:
    """The selection evaluation: one verdict per GL-T 10 item (``item.<code>``: meets / falls_short)."""

    def parse(f: FormData) -> BaseModel:
        items = {k[5:]: v for k, v in f.multi_items() if k.startswith("item.") and isinstance(v, str) and v}
        return EvaluationIn.model_validate(_present({"items": items, "note": _text(f, "note") or None}))

    def act(ctx: Context, body: EvaluationIn) -> Response:
        service.evaluate(ctx, cid, body)
        return _done(cid, "evaluated")

    return _write(request, cid, form, parse, act)


@router.post("/outsourcees/{cid}/activate", response_class=HTMLResponse)
def activate(request: Request, cid: str, form: Form_) -> Response:
    def act(ctx: Context, _body: None) -> Response:
        service.activate(ctx, cid)
        return _done(cid, "activated")

    return _write(request, cid, form, _none, act)


@router.post("/outsourcees/{cid}/end", response_class=HTMLResponse)
def end(request: Request, cid: str, form: Form_) -> Response:
    def parse(f: FormData) -> BaseModel:
        return EndIn.model_validate(
            _present({"disposal": _text(f, "disposal"), "evidence": _text(f, "evidence")})
        )

    def act(ctx: Context, body: EndIn) -> Response:
        service.end(ctx, cid, body)
        return _done(cid, "ended")

    return _write(request, cid, form, parse, act)


@router.post("/outsourcees/{cid}/customers", response_class=HTMLResponse)
def assign(request: Request, cid: str, form: Form_) -> Response:
    """Cover customers by the ids pasted (one per line), or every customer notified of a contract purpose."""

    def parse(f: FormData) -> BaseModel:
        return CustomersIn.model_validate(
            _present({"customer_ids": _ids(_text(f, "customer_ids")), "purpose": _text(f, "purpose") or None})
        )

    def act(ctx: Context, body: CustomersIn) -> Response:
        cov = service.assign_customers(ctx, cid, body)
        return _done(cid, "assigned", n=cov.added, unknown=cov.unknown)

    return _write(request, cid, form, parse, act)


@router.post("/outsourcees/{cid}/customers/remove", response_class=HTMLResponse)
def remove(request: Request, cid: str, form: Form_) -> Response:
    def parse(f: FormData) -> BaseModel:
        return CustomersIn.model_validate(_present({"customer_ids": _ids(_text(f, "customer_ids"))}))

    def act(ctx: Context, body: CustomersIn) -> Response:
        cov = service.remove_customers(ctx, cid, body.customer_ids)
        return _done(cid, "removed", n=-cov.added, unknown=cov.unknown)

    return _write(request, cid, form, parse, act)


@router.post("/outsourcees/{cid}/audits", response_class=HTMLResponse)
def schedule_audit(request: Request, cid: str, form: Form_) -> Response:
    def parse(f: FormData) -> BaseModel:
        return AuditScheduleIn.model_validate(
            _present({"due_on": _date(f, "due_on"), "method": _text(f, "method") or "document"})
        )

    def act(ctx: Context, body: AuditScheduleIn) -> Response:
        service.schedule_audit(ctx, cid, body)
        return _done(cid, "audit_scheduled")

    return _write(request, cid, form, parse, act)


@router.post("/outsourcees/{cid}/audits/{aid}/result", response_class=HTMLResponse)
def record_audit(request: Request, cid: str, aid: str, form: Form_) -> Response:
    def parse(f: FormData) -> BaseModel:
        return AuditResultIn.model_validate(
            _present(
                {
                    "result": _text(f, "result"),
                    "performed_on": _date(f, "performed_on"),
                    "findings": _text(f, "findings") or None,
                }
            )
        )

    def act(ctx: Context, body: AuditResultIn) -> Response:
        _audit_of(ctx, cid, aid)
        service.record_audit(ctx, aid, body)
        return _done(cid, "audit_recorded")

    return _write(request, cid, form, parse, act)


@router.post("/outsourcees/{cid}/audits/{aid}/remedy", response_class=HTMLResponse)
def remedy_audit(request: Request, cid: str, aid: str, form: Form_) -> Response:
    def parse(f: FormData) -> BaseModel:
        return RemedyIn.model_validate(_present({"remedy": _text(f, "remedy")}))

    def act(ctx: Context, body: RemedyIn) -> Response:
        _audit_of(ctx, cid, aid)
        service.remedy_audit(ctx, aid, body)
        return _done(cid, "audit_remedied")

    return _write(request, cid, form, parse, act)


@router.post("/outsourcees/{cid}/subcontracts", response_class=HTMLResponse)
def request_subcontract(request: Request, cid: str, form: Form_) -> Response:
    def parse(f: FormData) -> BaseModel:
        return SubcontractIn.model_validate(
            _present(
                {
                    "subcontractor": _text(f, "subcontractor"),
                    "country": unicodedata.normalize("NFKC", _text(f, "country")).upper() or "JP",
                    "work": _text(f, "work"),
                    "methods": _text(f, "methods"),
                }
            )
        )

    def act(ctx: Context, body: SubcontractIn) -> Response:
        service.request_subcontract(ctx, cid, body)
        return _done(cid, "sub_requested")

    return _write(request, cid, form, parse, act)


def _decision(f: FormData) -> BaseModel:
    return DecisionIn.model_validate(_present({"note": _text(f, "note") or None}))


@router.post("/outsourcees/{cid}/subcontracts/{sid}/approve", response_class=HTMLResponse)
def approve_subcontract(request: Request, cid: str, sid: str, form: Form_) -> Response:
    def act(ctx: Context, body: DecisionIn) -> Response:
        _subcontract_of(ctx, cid, sid)
        service.approve_subcontract(ctx, sid, body)
        return _done(cid, "sub_approved")

    return _write(request, cid, form, _decision, act)


@router.post("/outsourcees/{cid}/subcontracts/{sid}/refuse", response_class=HTMLResponse)
def refuse_subcontract(request: Request, cid: str, sid: str, form: Form_) -> Response:
    def act(ctx: Context, body: DecisionIn) -> Response:
        _subcontract_of(ctx, cid, sid)
        service.refuse_subcontract(ctx, sid, body)
        return _done(cid, "sub_refused")

    return _write(request, cid, form, _decision, act)


@router.post("/outsourcees/{cid}/operators", response_class=HTMLResponse)
def add_operator(request: Request, cid: str, form: Form_) -> Response:
    def parse(f: FormData) -> BaseModel:
        return OperatorCreate.model_validate(
            _present({"username": _text(f, "username"), "display_name": _text(f, "display_name")})
        )

    def act(ctx: Context, body: OperatorCreate) -> Response:
        service.add_operator(ctx, cid, body)
        return _done(cid, "operator_added")

    return _write(request, cid, form, parse, act)


@router.post("/outsourcees/{cid}/handover")
def handover(request: Request, cid: str, form: Form_) -> Response:
    """The handover file as the response (CSV, UTF-8 with BOM for Excel): built in memory, never stored; the
    service has logged it (ids and item names only) in the same transaction, so no file leaves unlogged."""

    def parse(f: FormData) -> BaseModel:
        chosen = _list(f, "fields")
        return HandoverIn.model_validate(_present({"fields": chosen or None}))

    def act(ctx: Context, body: HandoverIn) -> Response:
        result = service.handover(ctx, cid, body, method="web")
        out = io.StringIO()
        writer = files.csv_dict_writer(out, ["customer_id", *result.record.fields])  # formulas neutralised
        writer.writeheader()
        writer.writerows(result.rows)
        return Response(
            content=("\ufeff" + out.getvalue()).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={
                **PAGE_HEADERS,
                "Content-Disposition": f'attachment; filename="handover-{result.record.id}.csv"',
            },
        )

    return _write(request, cid, form, parse, act)
