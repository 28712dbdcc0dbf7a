"""The incidents slice's REST routes under /api/v1 (issue 22)."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.incidents.api import containment, notices, register, report, scope

router = APIRouter(tags=["incidents"])
for _part in (register, scope, report, notices, containment):
    router.include_router(_part.router)
