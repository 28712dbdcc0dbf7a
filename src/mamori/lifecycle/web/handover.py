"""Web pages of the departing rep's handover (issue 21, seed 001 case 1): thin — parse, call the service, render.

- ``GET  /handovers`` — the handovers (who, to whom, how many, when).
- ``GET  /handovers/new?from=<staff id>`` — the wizard: step 1 対象 (the rep's customers: count and ids with a link
  to each customer, whose page the policy decides — no name is shown here), step 2 引継ぎ先 (``&step=2``: only
  staff current on training and pledge are offered, R-23-3; those not current are listed, not selectable),
  step 3 確認 (``&step=3&to=<staff id>``: the confirmation; a successor not current is refused with R-23-3 there
  too, and by the service if forced).
- ``POST /handovers`` — runs the handover → step 4 完了 (``/handovers/{id}``) with the greeting form.
- ``POST /handovers/{id}/greeting`` — the successor's greeting e-mail (a purpose naming e-mail, subject, body).

The service authorises (``customer.reassign``; the greeting ``contact.campaign_send``), checks and audits. Every
write needs the session's CSRF token; URLs carry opaque staff and handover ids only."""

from __future__ import annotations

import re
from collections.abc import Iterator
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
from mamori.lifecycle.schemas import GreetingIn, HandoverCreate, HandoverPlan
from mamori.lifecycle.service import handover as service
from mamori.purposes import service as purposes_service

router = APIRouter(include_in_schema=False)

_ID = re.compile(r"^[0-9a-f]{32}$")
Text = Annotated[str, Form()]
BACK = "/handovers"
STEPS = (
    ("対象", "Customers"),
    ("引継ぎ先", "Successor"),
    ("確認", "Confirm"),
    ("完了・挨拶", "Done / greeting"),
)


@contextmanager
def _transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    # ids and counts only: no purpose is declared (the greeting declares its own when it sends)
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=readonly) as ctx:
        yield ctx


def _email_purposes(ctx: Context) -> list[tuple[str, str]]:
    return [
        (p.code, p.title_en if ctx.lang == "en" else p.title_ja)
        for p in sorted(purposes_service.list_purposes(ctx, include_retired=False), key=lambda p: p.code)
        if "email" in (getattr(p, "channels", None) or ())
    ]


@router.get("/handovers", response_class=HTMLResponse)
def handover_list(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    try:
        with _transaction(request, who, readonly=True) as ctx:
            rows = service.list_handovers(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc)
    return render(request, "lifecycle/handovers.html", pages.page_context(request, who, handovers=rows))


def _wizard(
    request: Request,
    who: Principal,
    plan: HandoverPlan,
    step: int,
    *,
    successor: str | None = None,
    reason: str = "departure",
    failure: str | None = None,
    rule_id: str | None = None,
    status: int = 200,
) -> Response:
    chosen = next((s for s in [*plan.candidates, *plan.not_ready] if s.staff_id == successor), None)
    return render(
        request,
        "lifecycle/handover_new.html",
        pages.page_context(
            request,
            who,
            plan=plan,
            step=step,
            steps=STEPS,
            chosen=chosen,
            reason=reason,
            failure=failure,
            rule_id=rule_id,
        ),
        status_code=status,
    )


@router.get("/handovers/new", response_class=HTMLResponse)
def new_handover(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    source = request.query_params.get("from", "")
    successor = request.query_params.get("to") or None
    step_text = request.query_params.get("step", "1")
    reason = request.query_params.get("reason", "departure")
    if (
        not _ID.match(source)
        or (successor is not None and not _ID.match(successor))
        or step_text not in ("1", "2", "3")
        or reason not in ("departure", "reassignment")
    ):
        return pages.not_found(request, who, back=BACK)
    step = int(step_text)
    if step == 3 and successor is None:
        step = 2
    try:
        with _transaction(request, who, readonly=True) as ctx:
            plan = service.plan(ctx, source)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=BACK)
    if step == 3:
        ready = {s.staff_id for s in plan.candidates}
        if (
            successor not in ready
        ):  # R-23-3: only staff current on training and pledge may take customers over
            known = successor in {s.staff_id for s in plan.not_ready}
            lang = lang_of(request)
            return _wizard(
                request,
                who,
                plan,
                2,
                successor=successor,
                reason=reason,
                failure=(
                    "この担当者は有効な研修の受講または最新の誓約書の提出がないため、顧客を引き継げません。"
                    if lang != "en"
                    else "This staff member lacks a current training or the latest signed pledge and cannot "
                    "take customers over."
                )
                if known
                else ("引継ぎ先を選んでください。" if lang != "en" else "Choose a successor."),
                rule_id="R-23-3" if known else None,
                status=403 if known else 422,
            )
    return _wizard(request, who, plan, step, successor=successor, reason=reason)


@router.post("/handovers", response_class=HTMLResponse)
def run_handover(
    request: Request,
    csrf: Text = "",
    source: Annotated[str, Form(alias="from")] = "",
    to: Text = "",
    reason: Text = "departure",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    try:
        data = HandoverCreate.model_validate({"from": source, "to": to, "reason": reason})
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back=BACK)
    try:
        with _transaction(request, who) as ctx:
            done = service.run(ctx, data)
    except MamoriError as exc:
        if exc.code in ("training_required",) and _ID.match(source):
            try:
                with _transaction(request, who, readonly=True) as ctx:
                    plan = service.plan(ctx, source)
            except MamoriError:
                return pages.refusal(request, who, exc, back=BACK)
            return _wizard(
                request,
                who,
                plan,
                2,
                successor=to,
                reason=reason,
                failure=exc.message(lang_of(request)),
                rule_id=exc.rule_id,
                status=exc.http_status,
            )
        return pages.refusal(request, who, exc, back=BACK)
    return RedirectResponse(f"/handovers/{done.id}", status_code=303)


def _done_page(request: Request, who: Principal, handover_id: str, **extra: Any) -> Response:
    if not _ID.match(handover_id):
        return pages.not_found(request, who, back=BACK)
    status = int(extra.pop("status", 200))
    try:
        with _transaction(request, who, readonly=True) as ctx:
            found = service.get(ctx, handover_id)
            purposes = _email_purposes(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=BACK)
    return render(
        request,
        "lifecycle/handover.html",
        pages.page_context(
            request,
            who,
            handover=found,
            purposes=purposes,
            steps=STEPS,
            step=4,
            chosen=extra.pop("chosen", {}),
            **extra,
        ),
        status_code=status,
    )


@router.get("/handovers/{handover_id}", response_class=HTMLResponse)
def handover_page(request: Request, handover_id: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    return _done_page(request, who, handover_id)


@router.post("/handovers/{handover_id}/greeting", response_class=HTMLResponse)
def send_greeting(
    request: Request,
    handover_id: str,
    csrf: Text = "",
    purpose: Text = "",
    subject: Text = "",
    body: Text = "",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _ID.match(handover_id):
        return pages.not_found(request, who, back=BACK)
    chosen = {"purpose": purpose, "subject": subject, "body": body}
    try:
        greeting = GreetingIn(purpose=purpose, subject=subject, body=body)
    except ValidationError as exc:
        return _done_page(
            request,
            who,
            handover_id,
            chosen=chosen,
            errors=pages.form_errors(exc, lang_of(request)),
            status=422,
        )
    try:
        with _transaction(request, who) as ctx:
            result = service.greet(ctx, handover_id, greeting)
    except MamoriError as exc:
        if exc.http_status == 404:
            return pages.refusal(request, who, exc, back=BACK)
        return _done_page(
            request,
            who,
            handover_id,
            chosen=chosen,
            failure=exc.message(lang_of(request)),
            rule_id=exc.rule_id,
            status=exc.http_status,
        )
    return _done_page(request, who, handover_id, greeted=result)
