"""Web pages of the staff slice (issue 15)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

TEMPLATES = Path(__file__).resolve().parent / "templates"
router = APIRouter(include_in_schema=False)
