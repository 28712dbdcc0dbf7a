"""The incident page's PPC report section (R-26-4) and the notice to the entrustor (R-26-5), issue 22.

- ``GET  /incidents/{key}/report[?prelim=N&final=M]`` — the fragment: 速報 and 確報 side by side, item by item
  (the versions chosen, the latest by default), what changed, the buttons 速報を作成 / 確報を作成, the download
  links (HTML / PDF / JSON through the API) and, when the company is the outsourcee, the entrustor notice.
- ``POST /incidents/{key}/report`` (``stage``) — drafts a version; ``POST /incidents/{key}/entrustor-notice``.
  An htmx post re-renders the fragment; a plain post goes back to ``/incidents/{id}#report``.
- ``GET  /incidents/{key}/report/print?stage=…&version=…`` — the print view (the HTML export).

Thin: the service authorises (incident.read to view, incident.manage to draft), checks and audits. Every write
needs the session's CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.incidents.report_schemas import ITEM_TITLES, STAGE_LABELS, ReportRead
from mamori.incidents.service import report as service
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import PAGE_HEADERS, is_htmx, lang_of, render

router = APIRouter(include_in_schema=False)
_KEY = re.compile(r"^[A-Za-z0-9-]{1,40}$")
_VERSION = re.compile(r"^[0-9]{1,6}$")
Text = Annotated[str, Form()]


@contextmanager
def _transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    # ids, codes and counts only: no purpose is declared
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=readonly) as ctx:
        yield ctx


def _chosen(request: Request, stage: str) -> int | None:
    text = request.query_params.get(stage, "")
    return int(text) if _VERSION.match(text) else None


def _fragment(
    request: Request,
    who: Principal,
    key: str,
    *,
    notice: str | None = None,
    failure: MamoriError | None = None,
    status: int = 200,
) -> Response:
    try:
        with _transaction(request, who, readonly=True) as ctx:
            both = service.reports(ctx, key)
            shown: dict[str, ReportRead | None] = {"prelim": both.prelim, "final": both.final}
            for stage in ("prelim", "final"):
                number = _chosen(request, stage)
                current = shown[stage]
                if number is not None and (current is None or current.version != number):
                    try:
                        shown[stage] = service.version(ctx, key, stage, number)
                    except MamoriError:
                        pass  # an unknown version: the latest stays shown
            can_draft = service.can_draft(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/incidents")
    lang = lang_of(request)
    return render(
        request,
        "incidents/_report.html",
        pages.page_context(
            request,
            who,
            r=both,
            prelim=shown["prelim"],
            final=shown["final"],
            diff=service.diff(shown["prelim"], shown["final"]),
            items=ITEM_TITLES,
            stage_labels=STAGE_LABELS,
            can_draft=can_draft,
            notice=notice,
            failure=failure.message(lang) if failure else None,
            rule_id=failure.rule_id if failure else None,
        ),
        status_code=status,
    )


@router.get("/incidents/{key}/report", response_class=HTMLResponse)
def report_fragment(request: Request, key: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    return _fragment(request, who, key)


def _after_write(request: Request, who: Principal, key: str, rep: ReportRead) -> Response:
    lang = lang_of(request)
    word = STAGE_LABELS[rep.stage][1 if lang == "en" else 0]
    if rep.stored:
        notice = (
            f"{word} version {rep.version} drafted."
            if lang == "en"
            else f"{word} 第{rep.version}版を作成しました。"
        )
    else:
        notice = (
            f"{word} unchanged since version {rep.version}: not stored again."
            if lang == "en"
            else f"{word}は第{rep.version}版から変わっていないため、保存しませんでした。"
        )
    if is_htmx(request):
        return _fragment(request, who, key, notice=notice)
    return RedirectResponse(f"/incidents/{rep.incident_id}#report", status_code=303)


def _write(request: Request, key: str, csrf: str, stage: str | None) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    try:
        with _transaction(request, who) as ctx:
            rep = service.entrustor_notice(ctx, key) if stage is None else service.draft(ctx, key, stage)
    except MamoriError as exc:
        if is_htmx(request) and exc.http_status == 422:
            return _fragment(request, who, key, failure=exc, status=422)
        return pages.refusal(request, who, exc, back="/incidents")
    return _after_write(request, who, key, rep)


@router.post("/incidents/{key}/report", response_class=HTMLResponse)
def draft_report(request: Request, key: str, csrf: Text = "", stage: Text = "") -> Response:
    return _write(request, key, csrf, stage)


@router.post("/incidents/{key}/entrustor-notice", response_class=HTMLResponse)
def draft_entrustor_notice(request: Request, key: str, csrf: Text = "") -> Response:
    return _write(request, key, csrf, None)


@router.get("/incidents/{key}/report/print", response_class=HTMLResponse)
def print_view(request: Request, key: str) -> Response:
    """The print view: the HTML export of a version (the latest when none is given)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    stage = request.query_params.get("stage", "prelim")
    version = _chosen(request, "version")
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    try:
        with _transaction(request, who, readonly=True) as ctx:
            data = service.export(ctx, key, stage, version, "html")
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/incidents")
    return HTMLResponse(data.decode("utf-8"), headers=PAGE_HEADERS)
