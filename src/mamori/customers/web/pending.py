"""The privacy officer's queue of imported rows held for approval (承認待ちの取り込み行; issue 19, seed 001 case 3).

URLs (nothing personal in any of them: ids are random and opaque, a purpose is a code):

- ``GET  /imports/pending[?status=…&job=…]`` — the queue: line, job, why it waits, the purposes (no value). The
  privacy officer sees every row; a sales rep only the rows of their own imports, with their status.
- ``GET  /imports/pending/{id}`` — first 「この行を開く目的」, then with ``?purpose=<code>`` the row as that purpose
  allows (fields outside it ●●●, never sent), with the approve and reject forms (privacy officer only).
- ``POST /imports/pending/{id}/approve`` — the officer ticks that the purposes were notified to the person (R-21-1)
  and says how; the row is written as a customer and its held data destroyed.
- ``POST /imports/pending/{id}/reject`` — with a reason from the list; the held data is destroyed.

The service (``customers.service.import_pending``) decides (permission, purpose, R-21-1) and audits; a view maps
its answer to a page. An unknown id and one outside the user's scope get the same 404 page.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.customers.pending_words import APPROVE_METHODS, REJECT_REASONS, STATUSES, word
from mamori.customers.permissions import CUSTOMER_IMPORT_APPROVE
from mamori.customers.schemas import FIELD_CATEGORIES
from mamori.customers.service import import_pending
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import lang_of, render
from mamori.kernel.labels import fmt_phone
from mamori.kernel.policy import Category, Resource, decide
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeRead

router = APIRouter(include_in_schema=False)

BACK = "/imports/pending"
_ID = re.compile(r"^[0-9a-f]{32}$")
_PURPOSE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
_DONE = ("approved", "rejected")


def _officer(request: Request, who: Principal) -> bool:
    """May this user decide held rows (``customer.import_approve``)? Only to choose what the page offers: each
    action is decided and audited again by the service."""
    with runtime_of(request).transaction(who.actor, readonly=True) as ctx:
        return decide(ctx, CUSTOMER_IMPORT_APPROVE, Resource(kind="import_pending")).allowed


def _purposes(request: Request, who: Principal) -> list[PurposeRead]:
    with runtime_of(request).transaction(who.actor, readonly=True) as ctx:
        return purposes_service.list_purposes(ctx, include_retired=False)


def _words(lang: str) -> Any:
    return lambda kind, code: word(kind, code, lang)


def _titles(purposes: list[PurposeRead], lang: str) -> Any:
    """codes → 「契約の履行（contract）、…」 (a code no longer registered as itself)."""
    by_code = {p.code: (p.title_en if lang == "en" else p.title_ja) for p in purposes}
    sep, left, right = (", ", " (", ")") if lang == "en" else ("、", "（", "）")
    return lambda codes: (
        sep.join(f"{by_code[c]}{left}{c}{right}" if c in by_code else c for c in codes) or "—"
    )


def _not_found(request: Request, who: Principal) -> HTMLResponse:
    return pages.not_found(
        request,
        who,
        "取り込み待ちの行が見つかりません。" if lang_of(request) != "en" else "Held import row not found.",
        back=BACK,
    )


def _failure(request: Request, who: Principal, exc: MamoriError, *, back: str = BACK) -> HTMLResponse:
    if exc.code == "pending_not_found":
        return _not_found(request, who)
    return pages.refusal(request, who, exc, back=back)


def _invalid(request: Request, who: Principal, ja: str, en: str, *, back: str = BACK) -> HTMLResponse:
    return pages.error_page(request, who, 422, en if lang_of(request) == "en" else ja, back=back)


# -- the queue ------------------------------------------------------------------------------------------------------


@router.get("/imports/pending", response_class=HTMLResponse)
def queue(request: Request, status: str = "pending", job: str = "", done: str = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if status not in (*STATUSES, "all") or (job and not _ID.match(job)):
        return _invalid(request, who, "絞り込みの条件が正しくありません。", "The filter is not valid.")
    try:
        with runtime_of(request).transaction(who.actor, lang=lang_of(request), readonly=True) as ctx:
            items = import_pending.list_pending(ctx, status=status, job_id=job or None)
    except MamoriError as exc:
        return _failure(request, who, exc, back="/")
    data = pages.page_context(
        request,
        who,
        items=items,
        status=status,
        job=job,
        statuses=(*STATUSES, "all"),
        officer=_officer(request, who),
        done=done if done in _DONE else "",
        words=_words(lang_of(request)),
        titles=_titles(_purposes(request, who), lang_of(request)),
    )
    return render(request, "customers/pending.html", data)


# -- one row ------------------------------------------------------------------------------------------------------


def _masked_hint(field: str, category: Category, purposes: list[PurposeRead], current: str, lang: str) -> str:
    titles = [
        p.title_en if lang == "en" else p.title_ja
        for p in purposes
        if category in p.categories and p.code != current
    ]
    hint = "この利用目的では表示しません" if lang != "en" else "Not shown for this purpose"
    if titles:
        hint += (
            (f"（表示される利用目的: {'、'.join(titles)}）")
            if lang != "en"
            else f" (shown for: {', '.join(titles)})"
        )
    return hint


@router.get("/imports/pending/{pending_id}", response_class=HTMLResponse)
def row_page(request: Request, pending_id: str, purpose: str = "") -> Response:
    """Without a purpose: why are you opening it? With one: the held row as that purpose allows."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(pending_id):
        return _not_found(request, who)
    lang = lang_of(request)
    purposes = _purposes(request, who)
    if not purpose:
        data = pages.page_context(request, who, pid=pending_id, purposes=purposes, chosen="")
        return render(request, "customers/pending_open.html", data)
    if not _PURPOSE.match(purpose) or not any(p.code == purpose for p in purposes):
        return _invalid(
            request,
            who,
            "利用目的は一覧から選んでください。",
            "Choose a purpose from the list.",
            back=f"{BACK}/{pending_id}",
        )
    try:
        with runtime_of(request).transaction(who.actor, purpose, lang=lang, readonly=True) as ctx:
            row = import_pending.show(ctx, pending_id)
    except MamoriError as exc:
        return _failure(request, who, exc, back=f"{BACK}/{pending_id}")
    categories: dict[str, Category] = dict(FIELD_CATEGORIES)
    categories["external_id"] = Category.IDENTIFIER
    categories.update({f"attr:{a.key}": Category(a.category) for a in row.attributes})
    hints = {
        f: _masked_hint(f, categories.get(f, Category.SENSITIVE), purposes, purpose, lang) for f in row.masked
    }
    data = pages.page_context(
        request,
        who,
        r=row,
        pid=pending_id,
        purposes=purposes,
        chosen=purpose,
        current_purpose_title=next(
            ((p.title_en if lang == "en" else p.title_ja) for p in purposes if p.code == purpose), purpose
        ),
        hints=hints,
        phones=[fmt_phone(p, lang) for p in row.phones],
        methods=APPROVE_METHODS,
        reasons=REJECT_REASONS,
        words=_words(lang),
        titles=_titles(purposes, lang),
    )
    return render(request, "customers/pending_row.html", data)


# -- decide -------------------------------------------------------------------------------------------------------


@router.post("/imports/pending/{pending_id}/approve", response_class=HTMLResponse)
def approve(
    request: Request,
    pending_id: str,
    csrf: Annotated[str, Form()] = "",
    notified_confirmed: Annotated[str, Form()] = "",
    method: Annotated[str, Form()] = "notified",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(pending_id):
        return _not_found(request, who)
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if method not in APPROVE_METHODS:
        return _invalid(
            request,
            who,
            "通知の方法は一覧から選んでください。",
            "Choose how the notice was given from the list.",
            back=f"{BACK}/{pending_id}",
        )
    try:
        with runtime_of(request).transaction(who.actor, lang=lang_of(request)) as ctx:
            import_pending.approve(
                ctx,
                pending_id,
                notified_confirmed=notified_confirmed == "1",
                method=method,  # type: ignore[arg-type]  # one of APPROVE_METHODS, checked above
            )
    except MamoriError as exc:
        return _failure(request, who, exc, back=f"{BACK}/{pending_id}")
    return RedirectResponse(f"{BACK}?done=approved", status_code=303)


@router.post("/imports/pending/{pending_id}/reject", response_class=HTMLResponse)
def reject(
    request: Request,
    pending_id: str,
    csrf: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(pending_id):
        return _not_found(request, who)
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if reason not in REJECT_REASONS:
        return _invalid(
            request,
            who,
            "却下の理由を一覧から選んでください。",
            "Choose the reason for rejecting from the list.",
            back=f"{BACK}/{pending_id}",
        )
    try:
        with runtime_of(request).transaction(who.actor, lang=lang_of(request)) as ctx:
            import_pending.reject(ctx, pending_id, reason)
    except MamoriError as exc:
        return _failure(request, who, exc, back=f"{BACK}/{pending_id}")
    return RedirectResponse(f"{BACK}?done=rejected", status_code=303)
