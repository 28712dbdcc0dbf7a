"""The contact slice's REST routes under /api/v1/contact (issue 20): lists, campaigns, inbound."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.contact.api import campaigns, inbound, lists

router = APIRouter(prefix="/contact", tags=["contact"])
router.include_router(lists.router)
router.include_router(campaigns.router)
router.include_router(inbound.router)
