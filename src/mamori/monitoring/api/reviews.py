"""REST routes of the access reviews under /api/v1/monitoring (issue 25 "Deliver" 3).

- ``GET  /monitoring/reviews`` — every review, newest first;
- ``GET  /monitoring/reviews/due`` — the period now due, the last closed review, overdue or not;
- ``POST /monitoring/reviews`` ``{"period": "2026-Q4"}`` (optional) — start a review (201);
- ``GET  /monitoring/reviews/{key}`` — a review with its lines;
- ``POST /monitoring/reviews/{key}/lines/{line_id}`` ``{"decision", "change", "note"}`` — decide a line (a change
  is carried out at once; one's own line is refused, R-23-2);
- ``POST /monitoring/reviews/{key}/close`` — close and seal; ``GET /monitoring/reviews/{key}/verify`` — check it.

``key`` is the review's reference (``AR-2026-Q4``) or id. The service authorises (``monitoring.access_review``)
and audits; errors are problem+json that never echo the value.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, status

from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses
from mamori.monitoring.review_schemas import (
    KEY_PATTERN,
    LINE_ID_PATTERN,
    DecideIn,
    DueRead,
    ReviewDetail,
    ReviewLineRead,
    ReviewRead,
    StartIn,
    VerifyRead,
)
from mamori.monitoring.service import reviews as service

router = APIRouter(prefix="/monitoring")
Key = Annotated[str, Path(pattern=KEY_PATTERN)]
LineId = Annotated[str, Path(pattern=LINE_ID_PATTERN)]


@router.get("/reviews", response_model=list[ReviewRead], responses=responses(401, 403))
def list_reviews(ctx: PlainContext) -> list[ReviewRead]:
    """アクセス権の見直しの一覧（新しい順） / every access review, newest first."""
    return service.list_reviews(ctx)


@router.get("/reviews/due", response_model=DueRead, responses=responses(401, 403))
def due(ctx: PlainContext) -> DueRead:
    """いま見直す期間・前回の見直し・期限超過か / the period now due, the last review, overdue or not."""
    return service.due(ctx)


@router.post(
    "/reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewDetail,
    responses=responses(401, 403, 409, 422),
)
def start(ctx: PlainContext, body: Annotated[StartIn | None, Body()] = None) -> ReviewDetail:
    """見直しを開始（全アカウントを一覧に、指摘つき） / start a review of every account, flagged."""
    return service.start(ctx, body.period if body else None)


@router.get("/reviews/{key}", response_model=ReviewDetail, responses=responses(401, 403, 404, 422))
def show(ctx: PlainContext, key: Key) -> ReviewDetail:
    """見直しと各行 / a review with its lines."""
    return service.get(ctx, key)


@router.post(
    "/reviews/{key}/lines/{line_id}",
    response_model=ReviewLineRead,
    responses=responses(401, 403, 404, 409, 422),
)
def decide(ctx: PlainContext, key: Key, line_id: LineId, body: DecideIn) -> ReviewLineRead:
    """行を承認または変更（変更はすぐ実施、自分の行は不可 R-23-2） / confirm or change a line."""
    return service.decide(ctx, key, line_id, body.decision, body.change, body.note)


@router.post("/reviews/{key}/close", response_model=ReviewRead, responses=responses(401, 403, 404, 409, 422))
def close(ctx: PlainContext, key: Key) -> ReviewRead:
    """見直しを完了して封印（全行の判断が必要） / close and seal the review."""
    return service.close(ctx, key)


@router.get("/reviews/{key}/verify", response_model=VerifyRead, responses=responses(401, 403, 404, 409, 422))
def verify(ctx: PlainContext, key: Key) -> VerifyRead:
    """封印を検証（記録・監査ログと照合） / check the seal against the record and the audit log."""
    return service.verify(ctx, key)
