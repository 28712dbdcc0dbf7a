"""Web pages of retention and disposal (issue 21, R-22-1): thin — parse, call the services, render.

- ``GET  /retention`` — the rules (and the form to add one), the plan (persons due per rule, held per reason,
  provision records kept with their end dates), the run button, the disposal records and the legal holds.
- ``POST /retention/rules`` · ``POST /retention/rules/{id}/retire`` — add / retire a rule.
- ``POST /retention/holds`` · ``POST /retention/holds/{id}/release`` — set / release a legal hold.
- ``POST /retention/run`` (the confirmation box ticked) starts the run in a thread →
  ``GET /retention/runs/{job}``: a progress bar htmx polls every second (``…/progress``), then the disposal record.

The services authorise (lifecycle.retention / dispose / hold: the privacy officer) and audit. Every write needs
the session's CSRF token; URLs carry opaque ids only; no page shows a personal value.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.kernel.context import Actor, Context
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import is_htmx, lang_of, render
from mamori.kernel.runtime import Runtime
from mamori.lifecycle.retention_schemas import DisposalRead, RuleCreate
from mamori.lifecycle.service import holds as holds_service
from mamori.lifecycle.service import retention as service

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

_ID = re.compile(r"^[0-9a-f]{32}$")
_JOB = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
Csrf = Annotated[str, Form()]
Text = Annotated[str, Form()]
BACK = "/retention"


@dataclass
class RunJob:
    """A retention run started from the page, held in memory while it runs (ids and counts only)."""

    id: str
    staff_id: str
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    total: int = 0
    finished: bool = False
    record: DisposalRead | None = None
    failure: MamoriError | None = None
    crashed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


_JOBS: dict[str, RunJob] = {}
_KEEP_SECONDS = 24 * 3600
_JOBS_LOCK = threading.Lock()


@contextmanager
def _transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    # rules, plans and records hold no personal value: no purpose is declared
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=readonly) as ctx:
        yield ctx


def _page(
    request: Request,
    who: Principal,
    *,
    errors: list[dict[str, str]] | None = None,
    failure: MamoriError | None = None,
    chosen: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    try:
        with _transaction(request, who) as ctx:
            rules = service.list_rules(ctx)
            plan = service.plan(ctx)
            records = service.disposals(ctx, limit=20)
            legal = holds_service.list_holds(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/")
    data: dict[str, Any] = {
        "rules": rules,
        "plan": plan,
        "records": records,
        "holds": legal,
        "errors": errors or [],
        "failure": failure.message(lang_of(request)) if failure else None,
        "rule_id": failure.rule_id if failure else None,
        "chosen": chosen or {},
    }
    return render(
        request, "lifecycle/retention.html", pages.page_context(request, who, **data), status_code=status
    )


@router.get("/retention", response_class=HTMLResponse)
def retention_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    return _page(request, who)


def _write(request: Request, who: Principal, call: Any, chosen: dict[str, str] | None = None) -> Response:
    try:
        with _transaction(request, who) as ctx:
            call(ctx)
    except MamoriError as exc:
        if exc.code == "role_not_permitted":
            return pages.refusal(request, who, exc, back=BACK)
        return _page(request, who, failure=exc, chosen=chosen, status=exc.http_status)
    return RedirectResponse(BACK, status_code=303)


@router.post("/retention/rules", response_class=HTMLResponse)
def add_rule(
    request: Request,
    csrf: Csrf = "",
    purpose: Text = "",
    category: Text = "*",
    days: Text = "",
    basis: Text = "",
    note: Text = "",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    chosen = {"purpose": purpose, "category": category, "days": days, "basis": basis, "note": note}
    try:
        data = RuleCreate.model_validate(
            {"purpose": purpose, "category": category, "days": days, "basis": basis, "note": note or None}
        )
    except ValidationError as exc:
        return _page(request, who, errors=pages.form_errors(exc, lang_of(request)), chosen=chosen, status=422)
    return _write(request, who, lambda ctx: service.add_rule(ctx, data), chosen)


@router.post("/retention/rules/{rule_id}/retire", response_class=HTMLResponse)
def retire_rule(request: Request, rule_id: str, csrf: Csrf = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _ID.match(rule_id):
        return pages.not_found(request, who, back=BACK)
    return _write(request, who, lambda ctx: service.retire_rule(ctx, rule_id))


@router.post("/retention/holds", response_class=HTMLResponse)
def set_hold(
    request: Request, csrf: Csrf = "", customer_id: Text = "", reason: Text = "", note: Text = ""
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    chosen = {"customer_id": customer_id, "reason": reason, "hold_note": note}
    try:
        from mamori.lifecycle.retention_schemas import HoldCreate

        data = HoldCreate.model_validate({"customer_id": customer_id, "reason": reason, "note": note or None})
    except ValidationError as exc:
        return _page(request, who, errors=pages.form_errors(exc, lang_of(request)), chosen=chosen, status=422)
    return _write(
        request, who, lambda ctx: holds_service.set(ctx, data.customer_id, data.reason, data.note), chosen
    )


@router.post("/retention/holds/{hold_id}/release", response_class=HTMLResponse)
def release_hold(request: Request, hold_id: str, csrf: Csrf = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _ID.match(hold_id):
        return pages.not_found(request, who, back=BACK)
    return _write(request, who, lambda ctx: holds_service.release(ctx, hold_id))


# -- the run, with a progress bar ------------------------------------------------------------------------------


def _work(rt: Runtime, actor: Actor, job: RunJob, lang: str, expected: str | None) -> None:
    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    try:
        with rt.transaction(actor, None, lang=lang) as ctx:
            record = service.run(ctx, progress=progress, expected_sha256=expected)
        job.record = record
    except MamoriError as exc:
        job.failure = exc
    except Exception:  # never a stack trace on the page; the log has it
        log.exception("retention run %s failed", job.id[:8])
        job.crashed = True
    finally:
        job.finished = True


@router.post("/retention/run", response_class=HTMLResponse)
def start_run(request: Request, csrf: Csrf = "", confirm: Text = "", plan: Text = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if confirm != "1":
        return _page(
            request,
            who,
            errors=[{"field": "confirm", "label": "", "message": _confirm_needed(request)}],
            status=422,
        )
    try:  # the role check before a thread starts (lifecycle.dispose), audited on refusal
        with _transaction(request, who, readonly=True) as ctx:
            from mamori.kernel.auditing import authorise
            from mamori.kernel.policy import Resource
            from mamori.lifecycle.permissions import RETENTION_DISPOSE

            authorise(ctx, RETENTION_DISPOSE, Resource(kind="retention_run"))
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=BACK)
    job = RunJob(id=secrets.token_urlsafe(32), staff_id=who.actor.id)
    with _JOBS_LOCK:
        for old in [
            k for k, j in _JOBS.items() if j.finished and time.monotonic() - j.started > _KEEP_SECONDS
        ]:
            del _JOBS[old]  # a finished run's page is kept for a day; its record stays in the database
        _JOBS[job.id] = job
    worker = threading.Thread(
        target=_work,
        args=(runtime_of(request), who.actor, job, lang_of(request), plan or None),
        name=f"mamori-retention-{job.id[:8]}",
        daemon=True,
    )
    worker.start()
    return RedirectResponse(f"/retention/runs/{job.id}", status_code=303)


def _confirm_needed(request: Request) -> str:
    return (
        "Tick the box to confirm the disposal (it cannot be undone)."
        if lang_of(request) == "en"
        else "廃棄の確認欄にチェックしてください（元に戻せません）。"
    )


def _job(request: Request, who: Principal, job_id: str) -> RunJob | Response:
    with _JOBS_LOCK:
        job = _JOBS.get(job_id) if _JOB.match(job_id) else None
    if job is None or job.staff_id != who.actor.id:
        return pages.not_found(request, who, back=BACK)
    return job


def _job_page(request: Request, who: Principal, job: RunJob, *, fragment: bool) -> HTMLResponse:
    lang = lang_of(request)
    finished = job.finished  # one snapshot: finished first, then the record it came with
    failure = None
    if job.failure is not None:
        failure = {"message": job.failure.message(lang), "rule_id": job.failure.rule_id}
    elif job.crashed or (finished and job.record is None):
        failure = {
            "message": "The run stopped; nothing was recorded."
            if lang == "en"
            else "廃棄が中断しました。記録はありません。",
            "rule_id": None,
        }
    data = pages.page_context(request, who, job=job, finished=finished, record=job.record, failure=failure)
    name = "lifecycle/_retention_progress.html" if fragment else "lifecycle/retention_run.html"
    return render(request, name, data)


@router.get("/retention/runs/{job_id}", response_class=HTMLResponse)
def run_page(request: Request, job_id: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    found = _job(request, who, job_id)
    if not isinstance(found, RunJob):
        return found
    return _job_page(request, who, found, fragment=False)


@router.get("/retention/runs/{job_id}/progress", response_class=HTMLResponse)
def run_progress(request: Request, job_id: str) -> Response:
    """What htmx polls every second: persons done / total, then the disposal record (the polling stops)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    found = _job(request, who, job_id)
    if not isinstance(found, RunJob):
        return found
    return _job_page(request, who, found, fragment=is_htmx(request))
