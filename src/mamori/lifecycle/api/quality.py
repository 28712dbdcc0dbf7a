"""``GET /api/v1/quality`` (issue 21, R-22-1): the data-quality report of the customers in the caller's scope, or
of one customer (``?customer_id=``). Scores, codes and ids only; the service decides and audits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses
from mamori.lifecycle.schemas import DEFAULT_WORST, MAX_WORST, QualityReport
from mamori.lifecycle.service import quality

router = APIRouter(prefix="/quality", tags=["lifecycle"])


@router.get("", response_model=QualityReport, responses=responses(401, 403, 404, 422))
def quality_report(
    ctx: PlainContext,
    days: Annotated[int, Query(ge=1, le=3650, description="確認の期間（日） / confirmation period")] = 365,
    worst: Annotated[int, Query(ge=0, le=MAX_WORST, description="スコアの低い顧客の件数")] = DEFAULT_WORST,
    customer_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$", description="この顧客だけ")] = None,
) -> QualityReport:
    """データ品質スコア（完全性・妥当性・重複・鮮度）、分布、スコアの低い顧客（ID のみ） / the data-quality report."""
    return quality.report(ctx, period_days=days, worst=worst, customer_id=customer_id)
