"""The monthly governance report over the REST API (issue 25, "Deliver" 4), under /api/v1:

- ``GET /monitoring/report?month=2026-11&format=json|html|pdf`` — the report of a month (JST; default the previous
  month): JSON (``GovernanceReport``), the stand-alone HTML document, or the PDF (as an attachment). The language
  follows ``Accept-Language`` (Japanese unless English is asked).

Thin: the service (``mamori.monitoring.service.report``) authorises (``monitoring.report``: privacy officer,
administrator), checks the month (422 ``bad_month`` / ``future_month``), builds and audits it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from mamori.kernel.errors import ValidationFailed
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses
from mamori.monitoring.report_schemas import MEDIA_TYPES, GovernanceReport
from mamori.monitoring.service import report as service
from mamori.monitoring.service import report_layout as layout

router = APIRouter(prefix="/monitoring")
API_FORMATS = ("json", "html", "pdf")
_FILES: dict[int | str, dict[str, Any]] = {
    **responses(401, 403, 422),
    200: {
        "model": GovernanceReport,
        "description": "月次ガバナンス報告 / the monthly governance report",
        "content": {"text/html": {}, "application/pdf": {}},
    },
}


@router.get("/report", responses=_FILES)
def governance_report(
    ctx: PlainContext,
    month: Annotated[
        str | None,
        Query(max_length=16, description="対象月 YYYY-MM（省略時は前月） / month, default the last"),
    ] = None,
    format: Annotated[str, Query(max_length=8, description="json / html / pdf")] = "json",
) -> Response:
    """月次ガバナンス報告（役割別の閲覧・持出し、アラート、請求、事案、アクセス権の見直し、チェックリスト） /
    the monthly governance report."""
    if format not in API_FORMATS:
        raise ValidationFailed(
            "形式は json / html / pdf のいずれかです。",
            "The format must be json, html or pdf.",
            code="bad_format",
            details={"field": "format"},
        )
    report = service.build(ctx, month, fmt=format)
    headers = {"Cache-Control": "no-store"}
    name = f"governance-report-{report.month}.{format}"
    if format == "json":
        data = report.model_dump_json(indent=2).encode("utf-8")
    elif format == "html":
        html = layout.render_html(report, ctx.lang)
        data = html.encode("utf-8")
        headers["Content-Security-Policy"] = layout.document_csp(html)
        headers["Content-Disposition"] = f'inline; filename="{name}"'
    else:
        data = layout.render_pdf(report, ctx.lang, settings=ctx.runtime.settings)
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(content=data, media_type=MEDIA_TYPES[format], headers=headers)
