"""Web pages of the monthly governance report (issue 25, "Deliver" 4) — thin: parse, call the service, render.

- ``GET /monitoring/report[?month=YYYY-MM]`` — the report of a month (JST; default the previous month) as a page:
  its sections as tables, the checklist last; a month picker (the twelve months before this one) and links to
  download the same report as the stand-alone HTML document and as a PDF.
- ``GET /monitoring/report.html[?month=…]`` / ``GET /monitoring/report.pdf[?month=…]`` — the downloads (the
  document is served with a Content-Security-Policy that lets only its own inline style apply).

The service authorises (``monitoring.report``: privacy officer, administrator; anyone else gets the refusal page
with R-23-2, audited), checks the month (a malformed or future month: the 422 page, the value not repeated), and
audits each report with its month and format. Aggregates only: no personal value on the page or in its URLs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mamori.kernel.clock import today_jst
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import PAGE_HEADERS, lang_of, render
from mamori.monitoring.report_schemas import MEDIA_TYPES, GovernanceReport
from mamori.monitoring.service import report as service
from mamori.monitoring.service import report_layout as layout

router = APIRouter()
PAGE = "/monitoring/report"


def _build(request: Request, who: Principal, fmt: str) -> GovernanceReport | HTMLResponse:
    """The report of ``?month=`` for ``who``, or the refusal / bad-month page. A read-write transaction: the
    evaluation of the audit log may run first."""
    month = request.query_params.get("month")
    try:
        with runtime_of(request).transaction(who.actor, None, lang=lang_of(request)) as ctx:
            return service.build(ctx, month, fmt=fmt)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=PAGE)


def _month_choices(request: Request, shown: date, lang: str) -> list[tuple[str, str]]:
    """(YYYY-MM, 2026年11月（令和8年11月）) of the twelve months before this one, and of the month shown."""
    months = service.recent_months(today_jst(runtime_of(request).clock))
    if shown not in months:
        months.insert(0, shown)
    return [(f"{m:%Y-%m}", service.month_label(m, lang)) for m in months]


@router.get(PAGE, response_class=HTMLResponse)
def report_page(request: Request) -> Response:
    """The governance report of a month as a page, with the month picker and the downloads."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    built = _build(request, who, "page")
    if isinstance(built, HTMLResponse):
        return built
    lang = lang_of(request)
    data = pages.page_context(
        request,
        who,
        report=built,
        title=layout.title(built, lang),
        sections=layout.sections(built, lang),
        months=_month_choices(request, built.start, lang),
        html_link=f"{PAGE}.html?month={built.month}",
        pdf_link=f"{PAGE}.pdf?month={built.month}",
    )
    return render(request, "monitoring/report.html", data)


def _download(
    request: Request, fmt: str, make: Callable[[GovernanceReport, str, Any], tuple[bytes, dict[str, str]]]
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    built = _build(request, who, fmt)
    if isinstance(built, HTMLResponse):
        return built
    try:
        data, extra = make(built, lang_of(request), runtime_of(request).settings)
    except MamoriError as exc:  # no Japanese font for the PDF: the operator is told what to install
        return pages.refusal(request, who, exc, back=PAGE)
    headers = {
        **PAGE_HEADERS,
        **extra,
        "Content-Disposition": f'attachment; filename="governance-report-{built.month}.{fmt}"',
    }
    return Response(content=data, media_type=MEDIA_TYPES[fmt], headers=headers)


def _html(report: GovernanceReport, lang: str, _settings: Any) -> tuple[bytes, dict[str, str]]:
    html = layout.render_html(report, lang)
    return html.encode("utf-8"), {"Content-Security-Policy": layout.document_csp(html)}


def _pdf(report: GovernanceReport, lang: str, settings: Any) -> tuple[bytes, dict[str, str]]:
    return layout.render_pdf(report, lang, settings=settings), {}


@router.get(f"{PAGE}.html")
def report_html(request: Request) -> Response:
    """The report as the stand-alone HTML document (a download)."""
    return _download(request, "html", _html)


@router.get(f"{PAGE}.pdf")
def report_pdf(request: Request) -> Response:
    """The report as a PDF (a download)."""
    return _download(request, "pdf", _pdf)
