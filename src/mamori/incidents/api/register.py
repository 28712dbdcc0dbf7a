"""REST routes of the incidents slice: the register, the classification (R-26-1), the clock (R-26-2/3, G-33) and
the board, under /api/v1/incidents (issue 22). Errors are problem+json without values.

``/incidents/mine`` is declared before ``/incidents/{key}`` so the key never swallows it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from mamori.incidents.board_schemas import (
    BoardRow,
    ClassificationRead,
    CloseIn,
    FilingIn,
    IncidentDetail,
    MineRow,
)
from mamori.incidents.schemas import IncidentIn, IncidentRead, IncidentUpdate
from mamori.incidents.service import register as service
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/incidents", tags=["incidents"])
# An id (32 hex) or a 事案番号 (INC-0003 / 3).
Key = Annotated[str, Path(pattern=r"^(?:[0-9a-f]{32}|(?:INC-|inc-)?[0-9]{1,9})$")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=IncidentRead,
    responses=responses(401, 403, 422),
)
def register(ctx: PlainContext, body: IncidentIn) -> IncidentRead:
    """漏えい等事案を登録（全スタッフ） / register an incident (R-26-2: knowing starts the clock)."""
    return service.register(ctx, body)


@router.get("", response_model=list[BoardRow], responses=responses(401, 403, 422))
def board(
    ctx: PlainContext,
    status_: Annotated[str | None, Query(alias="status", pattern=r"^(open|closed)$")] = None,
) -> list[BoardRow]:
    """事案の一覧（期限の近い順、超過が先） / the board, nearest deadline first, overdue first."""
    return service.board(ctx, status_)


@router.get("/mine", response_model=list[MineRow], responses=responses(401, 403))
def mine(ctx: PlainContext) -> list[MineRow]:
    """自分が登録した事案（番号と状態） / the incidents I registered."""
    return service.mine(ctx)


@router.get("/{key}", response_model=IncidentDetail, responses=responses(401, 403, 404))
def show(ctx: PlainContext, key: Key) -> IncidentDetail:
    """事案の台帳・分類・期限 / an incident with its classification and deadlines."""
    return service.detail(ctx, key, ctx.lang)


@router.patch("/{key}", response_model=IncidentRead, responses=responses(401, 403, 404, 409, 422))
def update(ctx: PlainContext, key: Key, body: IncidentUpdate) -> IncidentRead:
    """台帳を変更（expect_version で競合を検出） / change the register."""
    return service.update(ctx, key, body)


@router.get("/{key}/classification", response_model=ClassificationRead, responses=responses(401, 403, 404))
def classification(ctx: PlainContext, key: Key) -> ClassificationRead:
    """報告対象の事態か（R-26-1）：要件と理由 / the R-26-1 triggers with reasons."""
    return service.classify(ctx, key, ctx.lang)


@router.post("/{key}/filings", response_model=IncidentRead, responses=responses(401, 403, 404, 409, 422))
def filing(ctx: PlainContext, key: Key, body: FilingIn) -> IncidentRead:
    """報告・通知の提出を記録 / record that a report was filed."""
    return service.record_filing(ctx, key, body.what, body.at)


@router.post("/{key}/close", response_model=IncidentRead, responses=responses(401, 403, 404, 409, 422))
def close(ctx: PlainContext, key: Key, body: CloseIn | None = None) -> IncidentRead:
    """事案を終了 / close an incident."""
    return service.close(ctx, key, body)
