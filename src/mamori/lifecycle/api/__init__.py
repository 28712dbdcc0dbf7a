"""The lifecycle slice's REST routes under /api/v1 (issue 21): handovers, retention, data quality."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.lifecycle.api import handover, quality, retention

router = APIRouter(tags=["lifecycle"])
router.include_router(handover.router)
router.include_router(retention.router)
router.include_router(quality.router)
