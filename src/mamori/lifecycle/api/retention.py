"""REST routes of retention and disposal under /api/v1/retention (issue 21, R-22-1).

The privacy officer's: rules, the plan (counts; ``detail=true`` adds customer ids), the run (synchronous; returns
the disposal record), the disposal records and legal holds. Errors are problem+json without values.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from mamori.kernel.clock import JST
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses
from mamori.lifecycle.retention_schemas import (
    DisposalRead,
    HoldCreate,
    HoldRead,
    RetentionPlan,
    RuleCreate,
    RuleRead,
)
from mamori.lifecycle.service import holds as holds_service
from mamori.lifecycle.service import retention as service

router = APIRouter(prefix="/retention", tags=["lifecycle"])
Id = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.get("/rules", response_model=list[RuleRead], responses=responses(401, 403))
def list_rules(ctx: PlainContext, include_retired: Annotated[bool, Query()] = False) -> list[RuleRead]:
    """保存期間のルール / retention rules."""
    return service.list_rules(ctx, include_retired=include_retired)


@router.post(
    "/rules",
    status_code=status.HTTP_201_CREATED,
    response_model=RuleRead,
    responses=responses(401, 403, 409, 422),
)
def add_rule(ctx: PlainContext, body: RuleCreate) -> RuleRead:
    """保存期間のルールを追加 / add a rule."""
    return service.add_rule(ctx, body)


@router.post("/rules/{rule_id}/retire", response_model=RuleRead, responses=responses(401, 403, 404, 409, 422))
def retire_rule(ctx: PlainContext, rule_id: Id) -> RuleRead:
    """ルールを廃止 / retire a rule."""
    return service.retire_rule(ctx, rule_id)


@router.get("/plan", response_model=RetentionPlan, responses=responses(401, 403, 422))
def plan(
    ctx: PlainContext,
    at: Annotated[date | None, Query(description="この日（日本時間 0 時）時点 / as of this day")] = None,
    detail: Annotated[bool, Query(description="顧客IDを含める / include customer ids")] = False,
) -> RetentionPlan:
    """廃棄計画（件数と理由） / what a run would dispose of, and why."""
    when = datetime.combine(at, time(0, 0), tzinfo=JST) if at is not None else None
    return service.plan(ctx, at=when, detail=detail)


@router.post("/run", response_model=DisposalRead, responses=responses(401, 403, 409, 422))
def run(
    ctx: PlainContext,
    plan: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9a-f]{64}$", description="確認した計画の sha256 / the sha256 of the plan confirmed"
        ),
    ] = None,
) -> DisposalRead:
    """廃棄を実行し、廃棄記録を返す（plan を渡すと、計画が変わっていれば何もしない） / dispose of what is due."""
    return service.run(ctx, expected_sha256=plan)


@router.get("/disposals", response_model=list[DisposalRead], responses=responses(401, 403))
def disposals(ctx: PlainContext) -> list[DisposalRead]:
    """廃棄記録 / disposal records."""
    return service.disposals(ctx)


@router.get("/holds", response_model=list[HoldRead], responses=responses(401, 403))
def list_holds(ctx: PlainContext, include_released: Annotated[bool, Query()] = False) -> list[HoldRead]:
    """保全の一覧 / legal holds."""
    return holds_service.list_holds(ctx, include_released=include_released)


@router.post(
    "/holds",
    status_code=status.HTTP_201_CREATED,
    response_model=HoldRead,
    responses=responses(401, 403, 404, 409, 422),
)
def set_hold(ctx: PlainContext, body: HoldCreate) -> HoldRead:
    """保全を設定 / put a legal hold."""
    return holds_service.set(ctx, body.customer_id, body.reason, body.note)


@router.post(
    "/holds/{hold_id}/release", response_model=HoldRead, responses=responses(401, 403, 404, 409, 422)
)
def release_hold(ctx: PlainContext, hold_id: Id) -> HoldRead:
    """保全を解除 / release a legal hold."""
    return holds_service.release(ctx, hold_id)
