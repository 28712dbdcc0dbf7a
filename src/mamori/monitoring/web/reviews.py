"""Web pages of the access reviews (アクセス権の定期見直し, issue 25 "Deliver" 3) — thin: parse, call the service,
render.

- ``GET /monitoring/reviews`` — the period now due (done, open, or overdue in red), the reviews (newest first) and
  a form to start the review of the period now due (or of a period given, ``2026-Q4``): ``POST
  /monitoring/reviews``, then the review's page.
- ``GET /monitoring/reviews/{key}`` — the review: one row per account (role, token purposes, last sign-in in Japan
  time, 研修 / 誓約 ✓✗, customers owned, flags as badges) and, while open, a form per line (承認 / 変更:
  無効化・トークン失効, with a note) — none on one's own line (R-23-2) — and the button that closes and seals the
  review. A closed review shows 封印済み, its SHA-256 digest and the result of checking it against the record and
  the audit log (each view checks it again; audited).
- ``POST /monitoring/reviews/{key}/lines/{line_id}`` (``decision``, ``change``, ``note``) and ``POST
  /monitoring/reviews/{key}/close`` — then back to the review's page.

The service authorises (``monitoring.access_review``: privacy officer, administrator; anyone else gets the
refusal page with R-23-2) and audits. Every write needs the session's CSRF token; URLs carry review ids and
references and line ids only.
"""

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
from mamori.monitoring.review_schemas import (
    ATTENTION,
    CHANGE_LABELS,
    CHANGES,
    DECISION_LABELS,
    FLAG_LABELS,
    KEY_PATTERN,
    LINE_ID_PATTERN,
    MAX_NOTE,
    DecideIn,
    StartIn,
    VerifyRead,
)
from mamori.monitoring.service import reviews as service

router = APIRouter()

_KEY = re.compile(KEY_PATTERN)
_LINE = re.compile(LINE_ID_PATTERN)
Text = Annotated[str, Form()]
BACK = "/monitoring/reviews"


@contextmanager
def _transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    # staff accounts only, no customer's value: no purpose is declared
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=readonly) as ctx:
        yield ctx


def _helpers(**extra: Any) -> dict[str, Any]:
    return {
        "flag_labels": FLAG_LABELS,
        "attention": ATTENTION,
        "decision_labels": DECISION_LABELS,
        "change_labels": CHANGE_LABELS,
        "changes": CHANGES,
        "note_max": MAX_NOTE,
        **extra,
    }


@router.get("/monitoring/reviews", response_class=HTMLResponse)
def reviews_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    try:
        with _transaction(request, who, readonly=True) as ctx:
            due = service.due(ctx)
            rows = service.list_reviews(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/")
    data = _helpers(due=due, reviews=rows)
    return render(request, "monitoring/reviews.html", pages.page_context(request, who, **data))


@router.post("/monitoring/reviews", response_class=HTMLResponse)
def start_review(request: Request, csrf: Text = "", period: Text = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    try:
        with _transaction(request, who) as ctx:
            service.require(ctx)  # who may start is decided first (refused and audited)
            data = StartIn.model_validate({"period": period.strip() or None})
            made = service.start(ctx, data.period)
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back=BACK)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=BACK)
    return RedirectResponse(f"/monitoring/reviews/{made.id}", status_code=303)


@router.get("/monitoring/reviews/{key}", response_class=HTMLResponse)
def review_page(request: Request, key: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _KEY.match(key):
        return pages.not_found(request, who, back=BACK)
    check: VerifyRead | None = None
    try:
        with _transaction(request, who, readonly=True) as ctx:
            review = service.get(ctx, key)
            if review.status == "closed":
                check = service.verify(ctx, review.id)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=BACK)
    # who started, decided and closed, by user name (the record keeps the audit label staff:<id>)
    names = {f"staff:{line.staff_id}": line.username for line in review.items}
    data = _helpers(review=review, check=check, undecided=review.lines - review.decided, names=names)
    return render(request, "monitoring/review.html", pages.page_context(request, who, **data))


@router.post("/monitoring/reviews/{key}/lines/{line_id}", response_class=HTMLResponse)
def decide_line(
    request: Request,
    key: str,
    line_id: str,
    csrf: Text = "",
    decision: Text = "",
    change: Text = "",
    note: Text = "",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _KEY.match(key) or not _LINE.match(line_id):
        return pages.not_found(request, who, back=BACK)
    back = f"/monitoring/reviews/{key}"
    try:
        with _transaction(request, who) as ctx:
            service.require(ctx)  # another role is refused (and audited) before the input is read
            data = DecideIn.model_validate(
                {
                    "decision": decision,
                    "change": (change.strip() or None) if decision == "change" else None,
                    "note": note.strip() or None,
                }
            )
            line = service.decide(ctx, key, line_id, data.decision, data.change, data.note)
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back=back)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=back)
    return RedirectResponse(f"{back}#line-{line.id}", status_code=303)


@router.post("/monitoring/reviews/{key}/close", response_class=HTMLResponse)
def close_review(request: Request, key: str, csrf: Text = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _KEY.match(key):
        return pages.not_found(request, who, back=BACK)
    try:
        with _transaction(request, who) as ctx:
            closed = service.close(ctx, key)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=f"/monitoring/reviews/{key}")
    return RedirectResponse(f"/monitoring/reviews/{closed.id}#seal", status_code=303)
