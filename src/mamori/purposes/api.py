"""REST routes of the purpose registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses
from mamori.purposes import service
from mamori.purposes.schemas import PurposeCreate, PurposeRead

router = APIRouter(prefix="/purposes", tags=["purposes"])
Code = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{1,63}$")]


@router.get("", response_model=list[PurposeRead], responses=responses(401))
def list_purposes(ctx: PlainContext) -> list[PurposeRead]:
    """利用目的の一覧 / list purposes (current versions)."""
    return service.list_purposes(ctx)


@router.get("/{code}", response_model=PurposeRead, responses=responses(401, 404, 422))
def show_purpose(ctx: PlainContext, code: Code) -> PurposeRead:
    return service.show(ctx, code)


@router.get("/{code}/versions", response_model=list[PurposeRead], responses=responses(401, 404, 422))
def purpose_versions(ctx: PlainContext, code: Code) -> list[PurposeRead]:
    """全ての版（通知した版の証跡） / every version."""
    return service.history(ctx, code)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PurposeRead,
    responses=responses(401, 403, 409, 422),
)
def add_purpose(ctx: PlainContext, body: PurposeCreate) -> PurposeRead:
    """利用目的を登録（曖昧な表現には warnings、R-17-1） / register a purpose."""
    return service.add(ctx, body)


@router.post(
    "/{code}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=PurposeRead,
    responses=responses(401, 403, 404, 422),
)
def revise_purpose(ctx: PlainContext, code: Code, body: PurposeCreate) -> PurposeRead:
    """新しい版を登録（R-17-2） / a new version."""
    return service.revise(ctx, body.model_copy(update={"code": code}))


@router.post("/{code}/retire", response_model=PurposeRead, responses=responses(401, 403, 404, 422))
def retire_purpose(ctx: PlainContext, code: Code) -> PurposeRead:
    """廃止（削除はしない） / retire (never deleted)."""
    return service.retire(ctx, code)
