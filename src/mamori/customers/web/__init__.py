"""Web pages of the customers slice (issue 15): search and the customer page (``search``), the import wizard
(``imports``) and the queue of imported rows held for approval (``pending``, issue 19). Each module has its own
router; this one mounts them (the import routes first, so ``/imports`` never reads as a customer id; the queue's
``/imports/pending`` before the wizard's ``/imports/{upload}`` routes)."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.customers.web import imports, pending, search

TEMPLATES = search.TEMPLATES
router = APIRouter(include_in_schema=False)
router.include_router(pending.router)
router.include_router(imports.router)
router.include_router(search.router)
