"""The import wizard (issue 15): upload a CSV, map columns, see every bad line, run it with a progress bar."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
