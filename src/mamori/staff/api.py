"""REST routes for staff administration (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, status

from mamori.kernel.auditing import record_denial
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses
from mamori.kernel.policy import Action, Resource, decide
from mamori.staff import service
from mamori.staff.schemas import StaffCreate, StaffRead

router = APIRouter(prefix="/staff", tags=["staff"])


@router.get("", response_model=list[StaffRead], responses=responses(401, 403))
def list_staff(ctx: PlainContext) -> list[StaffRead]:
    """スタッフ一覧（管理者） / list staff users (admin)."""
    decision = decide(ctx, Action.STAFF_MANAGE, Resource(kind="staff"))
    if not decision.allowed:
        record_denial(ctx, Action.STAFF_MANAGE, [], decision)
        decision.raise_if_denied()
    return service.list_staff(ctx.session)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=StaffRead, responses=responses(401, 403, 409, 422)
)
def add_staff(ctx: PlainContext, body: StaffCreate) -> StaffRead:
    """スタッフを追加（管理者） / add a staff user (admin)."""
    return service.add(ctx, body)
