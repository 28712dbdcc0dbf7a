"""POST /api/v1/monitoring/evaluate (issue 25): evaluate the audit log now (privacy officer, administrator)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends

from mamori.kernel.context import Context
from mamori.kernel.http.deps import plain_context
from mamori.kernel.http.problems import responses
from mamori.kernel.schemas import InputModel
from mamori.monitoring.schemas import EvaluationRead
from mamori.monitoring.service import evaluate as service

router = APIRouter(prefix="/monitoring")


class EvaluateIn(InputModel):
    rebuild_since: date | None = None  # re-derive the days from this JST date on


@router.post("/evaluate", response_model=EvaluationRead, responses=responses(401, 403, 409, 422))
def evaluate(
    ctx: Annotated[Context, Depends(plain_context)],
    body: Annotated[EvaluateIn | None, Body()] = None,
) -> EvaluationRead:
    """監査ログを評価してアラートを出す（増分、または指定日からやり直し） / evaluate the audit log now."""
    return service.evaluate(ctx, rebuild_since=body.rebuild_since if body else None)
