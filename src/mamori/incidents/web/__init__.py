"""Web pages of the incidents slice (issue 22): the board, an incident's page and its sections."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from mamori.incidents.web import board, containment, notices, report, scope

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
router = APIRouter(include_in_schema=False)
for _part in (scope, report, notices, containment, board):  # the board's /incidents/{id} last
    router.include_router(_part.router)
