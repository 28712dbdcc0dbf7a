"""The monitoring slice's REST routes under /api/v1/monitoring (issue 25): settings and evaluation, alerts,
access reviews, the governance report."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.monitoring.api import alerts, evaluate, report, reviews

router = APIRouter(tags=["monitoring"])
router.include_router(evaluate.router)
router.include_router(alerts.router)
router.include_router(reviews.router)
router.include_router(report.router)
