"""Web pages of the lifecycle slice (issue 21): the handover wizard, retention and disposal, data quality."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from mamori.lifecycle.web import handover, quality, retention

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
router = APIRouter(include_in_schema=False)
router.include_router(handover.router)
router.include_router(retention.router)
router.include_router(quality.router)
