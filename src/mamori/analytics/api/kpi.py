"""REST routes of the KPI dashboard, the acquisition costs, the checklist and the data map (issue 24, items 4-5):

- ``GET /api/v1/kpi?from=YYYY-MM-DD&to=YYYY-MM-DD`` — the KPIs and the dashboard's charts (``analytics.kpi``);
- ``GET /api/v1/analytics/costs`` / ``POST /api/v1/analytics/costs`` — the acquisition costs (``analytics.costs``);
- ``GET /api/v1/analytics/checklist`` — seed 002's checklist from the system's state (``analytics.governance``);
- ``GET /api/v1/analytics/datamap`` — the data map (``analytics.governance``).

Thin: the services decide, audit and raise; errors are problem+json (422 bodies never echo the input).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status

from mamori.analytics.kpi_schemas import ChecklistReport, CostIn, CostRead, DataMap, KpiReport
from mamori.analytics.service import checklist as checklist_service
from mamori.analytics.service import costs as costs_service
from mamori.analytics.service import datamap as datamap_service
from mamori.analytics.service import kpi as kpi_service
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses

router = APIRouter(tags=["analytics"])


@router.get("/kpi", response_model=KpiReport, responses=responses(401, 403, 422))
def kpi_report(
    ctx: PlainContext,
    start: Annotated[
        date | None, Query(alias="from", description="期間の開始日（既定: 終了日の1年前の翌日） / first day")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="期間の終了日（既定: 今日） / last day")
    ] = None,
) -> KpiReport:
    """KPI（CAC・LTV・リピート率・離反率・データ品質とプライバシーの指標）とグラフ / the KPI dashboard."""
    return kpi_service.kpis(ctx, start=start, end=end)


@router.get("/analytics/costs", response_model=list[CostRead], responses=responses(401, 403))
def list_costs(ctx: PlainContext) -> list[CostRead]:
    """取得コストの一覧（新しい順） / the acquisition costs, newest first."""
    return costs_service.list_costs(ctx)


@router.post(
    "/analytics/costs",
    status_code=status.HTTP_201_CREATED,
    response_model=CostRead,
    responses=responses(401, 403, 422),
)
def add_cost(ctx: PlainContext, body: CostIn) -> CostRead:
    """取得コストを記録する（訂正は同じ経路・期間の新しい行） / record an acquisition cost."""
    return costs_service.add_cost(ctx, body)


@router.get("/analytics/checklist", response_model=ChecklistReport, responses=responses(401, 403))
def checklist(ctx: PlainContext) -> ChecklistReport:
    """seed 002 の実務チェックリスト（根拠付き） / the practical checklist with its evidence."""
    return checklist_service.checklist(ctx)


@router.get("/analytics/datamap", response_model=DataMap, responses=responses(401, 403))
def datamap(ctx: PlainContext) -> DataMap:
    """データマップ（保管場所・提供先・委託先・外国にある第三者への提供） / the data map."""
    return datamap_service.data_map(ctx)
