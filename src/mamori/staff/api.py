"""REST routes for staff administration (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, status

from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses
from mamori.staff import service
from mamori.staff.schemas import StaffCreate, StaffRead

router = APIRouter(prefix="/staff", tags=["staff"])


@router.get("", response_model=list[StaffRead], responses=responses(401, 403))
def list_staff(ctx: PlainContext) -> list[StaffRead]:
    """スタッフ一覧（管理者） / list staff users (admin)."""
    return service.list_all(ctx)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=StaffRead, responses=responses(401, 403, 409, 422)
)
def add_staff(ctx: PlainContext, body: StaffCreate) -> StaffRead:
    """スタッフを追加（管理者） / add a staff user (admin)."""
    return service.add(ctx, body)
