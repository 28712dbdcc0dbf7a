"""The analytics slice's REST routes under /api/v1 (issue 24): runs and segments, the KPIs, acquisition costs, the
checklist and the data map."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.analytics.api import kpi, runs

router = APIRouter(tags=["analytics"])
router.include_router(runs.router)
router.include_router(kpi.router)
