"""REST routes of the PPC report (R-26-4) and the notice to the entrustor (R-26-5), issue 22, under /api/v1.

- ``POST /incidents/{key}/reports`` ``{"stage": "prelim" | "final"}`` — a new version of 速報 / 確報 (201), or the
  latest version unchanged (200, ``stored`` false);
- ``GET  /incidents/{key}/reports`` — the latest 速報 and 確報 side by side, with what changed, and every version;
- ``GET  /incidents/{key}/reports/{stage}/{version}.{fmt}`` (or ``…/{version}?format=``) — a version (a number or
  ``latest``) as HTML, PDF or JSON, laid out as the nine items;
- ``POST /incidents/{key}/entrustor-notice`` — the notice to the entrustor when the company is the outsourcee
  (422 ``not_outsourcee`` / R-26-5 otherwise).

Thin: the service (``mamori.incidents.service.report``) authorises (incident.manage to draft, incident.read to
view), checks and audits. ``key`` is the incident id or its number (INC-0003)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from mamori.incidents.report_schemas import MEDIA_TYPES, ReportDraftIn, ReportRead, ReportsRead
from mamori.incidents.service import report as service
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses

router = APIRouter(tags=["incidents"])
Key = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9-]{1,40}$",
        description="事案番号（INC-0003）または事案ID / incident number or id",
    ),
]
Stage = Annotated[
    str, Path(max_length=16, description="prelim（速報） / final（確報） / entrustor（委託元への通知）")
]
Version = Annotated[
    str, Path(pattern=r"^([0-9]{1,6}|latest)$", description="版の番号または latest / version or latest")
]
_DRAFTED: dict[int | str, dict[str, Any]] = {
    **responses(401, 403, 404, 422),
    200: {"model": ReportRead, "description": "変わらないため保存しなかった最新の版 / unchanged, not stored"},
}
_FILES: dict[int | str, dict[str, Any]] = {
    **responses(401, 403, 404, 422),
    200: {"content": {"application/json": {}, "text/html": {}, "application/pdf": {}}},
}


def _number(version: str) -> int | None:
    return None if version == "latest" else int(version)


def _file(ctx: PlainContext, key: str, stage: str, version: str, fmt: str) -> Response:
    data = service.export(ctx, key, stage, _number(version), fmt)
    headers = {"Cache-Control": "no-store"}
    if fmt != "json":
        headers["Content-Disposition"] = f'attachment; filename="incident-report-{stage}-{version}.{fmt}"'
    return Response(content=data, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.post(
    "/incidents/{key}/reports",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportRead,
    responses=_DRAFTED,
)
def draft(ctx: PlainContext, key: Key, body: ReportDraftIn, response: Response) -> ReportRead:
    """速報・確報の9項目を作成（変わらなければ保存しない） / draft the PPC report's nine items."""
    rep = service.draft(ctx, key, body.stage)
    if not rep.stored:
        response.status_code = status.HTTP_200_OK
    return rep


@router.get("/incidents/{key}/reports", response_model=ReportsRead, responses=responses(401, 403, 404, 422))
def reports(ctx: PlainContext, key: Key) -> ReportsRead:
    """最新の速報と確報（項目ごとの変更）、委託元への通知、全ての版 / the reports side by side and every version."""
    return service.reports(ctx, key)


@router.get("/incidents/{key}/reports/{stage}/{version}.{fmt}", responses=_FILES)
def export_file(ctx: PlainContext, key: Key, stage: Stage, version: Version, fmt: str) -> Response:
    """報告の版を HTML / PDF / JSON で / a version as HTML, PDF or JSON."""
    return _file(ctx, key, stage, version, fmt)


@router.get("/incidents/{key}/reports/{stage}/{version}", responses=_FILES)
def export_version(
    ctx: PlainContext,
    key: Key,
    stage: Stage,
    version: Version,
    format: Annotated[str, Query(max_length=8, description="html / pdf / json")] = "json",
) -> Response:
    """報告の版（?format=html|pdf|json） / a version in the format asked."""
    return _file(ctx, key, stage, version, format)


@router.post(
    "/incidents/{key}/entrustor-notice",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportRead,
    responses=_DRAFTED,
)
def entrustor_notice(ctx: PlainContext, key: Key, response: Response) -> ReportRead:
    """委託元への通知を作成（当社が委託先の事案、R-26-5） / draft the notice to the entrustor."""
    rep = service.entrustor_notice(ctx, key)
    if not rep.stored:
        response.status_code = status.HTTP_200_OK
    return rep
