"""Web pages of the analytics slice (issue 24): the KPI dashboard, the acquisition costs, the seed 002 checklist and
the data map.

Charts are drawn in the browser by Chart.js, installed from a pinned npm package by ``make install`` into
``web-vendor/node_modules`` (ADR 0024) and served by the app at ``/static/vendor/chart.js/``
(:func:`chart_js_dir`); our own ``/static/mamori/charts.js`` reads each chart's data from the page. Without that
directory the app starts all the same (one warning in the log) and the pages show each chart's table only.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from mamori.analytics.web import costs, kpi, runs
from mamori.analytics.web.kpi import CHART_JS_URL, chart_js_dir

__all__ = ["CHART_JS_URL", "TEMPLATES", "chart_js_dir", "router"]

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
router = APIRouter(include_in_schema=False)
router.include_router(kpi.router)
router.include_router(runs.router)
router.include_router(costs.router)
