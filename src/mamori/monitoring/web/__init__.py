"""Web pages of the monitoring slice (issue 25): the alert queue and an alert, the thresholds, access reviews,
the monthly governance report."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from mamori.monitoring.web import alerts, report, reviews

__all__ = ["TEMPLATES", "router"]

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
router = APIRouter(include_in_schema=False)
router.include_router(alerts.router)
router.include_router(reviews.router)
router.include_router(report.router)
