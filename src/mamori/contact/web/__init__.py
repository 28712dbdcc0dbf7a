"""Web pages of the contact slice (issue 20): lists, campaigns, the inbound screen, and the public unsubscribe
page (``/u/{token}``, no sign-in) and the measurement routes (``/c/{token}/{n}``, ``/o/{token}.gif``, no sign-in)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from mamori.contact.web import campaigns, inbound, lists, tracking, unsubscribe

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
router = APIRouter(include_in_schema=False)
router.include_router(lists.router)
router.include_router(campaigns.router)
router.include_router(inbound.router)
router.include_router(unsubscribe.router)
router.include_router(tracking.router)
