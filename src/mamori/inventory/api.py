"""REST routes of the inventory slice: storage locations, the data dictionary, the ROPA and the countries.

The registers describe the organisation, not a person: no purpose header is needed, every route is authorised
by role in the service (inventory.read / inventory.locations / inventory.tag)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import PlainTextResponse, Response

from mamori.inventory import service
from mamori.inventory.schemas import (
    ITEM_KEY_PATTERN,
    Country,
    ItemIn,
    ItemRead,
    LocationIn,
    LocationRead,
    LocationUpdate,
    Ropa,
)
from mamori.kernel.http.deps import PlainContext, PrincipalDep, require_body_purposes
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/inventory", tags=["inventory"])
Code = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{1,63}$")]
Key = Annotated[str, Path(pattern=ITEM_KEY_PATTERN)]
TEXT_TYPES = {"csv": "text/csv; charset=utf-8", "md": "text/markdown; charset=utf-8"}


@router.get("/locations", response_model=list[LocationRead], responses=responses(401, 403))
def list_locations(ctx: PlainContext, active: bool = False) -> list[LocationRead]:
    """保管場所の一覧 / storage locations (R-23-7)."""
    return service.list_locations(ctx, include_retired=not active)


@router.post(
    "/locations",
    status_code=status.HTTP_201_CREATED,
    response_model=LocationRead,
    responses=responses(401, 403, 404, 409, 422),
)
def add_location(ctx: PlainContext, who: PrincipalDep, body: LocationIn) -> LocationRead:
    """保管場所を登録（外国は外的環境の把握 R-23-7、取り扱う事業者は提供先 R-28-4） / register a location."""
    require_body_purposes(who, body)
    return service.add_location(ctx, body)


@router.get("/locations/{code}", response_model=LocationRead, responses=responses(401, 403, 404, 422))
def show_location(ctx: PlainContext, code: Code) -> LocationRead:
    return service.show_location(ctx, code)


@router.patch("/locations/{code}", response_model=LocationRead, responses=responses(401, 403, 404, 422))
def update_location(ctx: PlainContext, who: PrincipalDep, code: Code, body: LocationUpdate) -> LocationRead:
    """指定した項目を変更 / change the given fields."""
    require_body_purposes(who, body)
    return service.update_location(ctx, code, body)


@router.post("/locations/{code}/retire", response_model=LocationRead, responses=responses(401, 403, 404, 422))
def retire_location(ctx: PlainContext, code: Code) -> LocationRead:
    """廃止（削除はしない） / retire (never deleted)."""
    return service.retire_location(ctx, code)


@router.get("/items", response_model=list[ItemRead], responses=responses(401, 403))
def list_items(ctx: PlainContext) -> list[ItemRead]:
    """データ項目とタグ（要配慮、GDPR 第9条・第10条） / data items and their tags (R-2.3-1, G-6)."""
    return service.list_items(ctx)


@router.put("/items/{key}", response_model=ItemRead, responses=responses(401, 403, 422))
def tag_item(ctx: PlainContext, key: Key, body: ItemIn) -> ItemRead:
    """タグを記録（個人情報保護管理者） / record an item's tags (privacy officer)."""
    return service.tag_item(ctx, key, body)


@router.get(
    "/ropa",
    response_model=Ropa,
    responses={**responses(401, 403, 422), 200: {"content": {"text/csv": {}, "text/markdown": {}}}},
)
def ropa(
    ctx: PlainContext, format: Annotated[Literal["json", "csv", "md"], Query()] = "json"
) -> Ropa | Response:
    """処理活動の記録（G-30） / the record of processing activities, generated from the registries."""
    record = service.ropa(ctx)
    if format == "csv":
        return PlainTextResponse(service.ropa_csv(record), media_type=TEXT_TYPES["csv"])
    if format == "md":
        return PlainTextResponse(service.ropa_markdown(record), media_type=TEXT_TYPES["md"])
    return record


@router.get(
    "/countries",
    response_model=list[Country],
    responses={**responses(401, 403, 422), 200: {"content": {"text/csv": {}, "text/markdown": {}}}},
)
def countries(
    ctx: PlainContext, format: Annotated[Literal["json", "csv", "md"], Query()] = "json"
) -> list[Country] | Response:
    """データを保管・提供する外国（R-23-7、R-32-1） / foreign countries where data is kept or provided."""
    rows = service.countries(ctx)
    if format == "csv":
        return PlainTextResponse(service.countries_csv(rows), media_type=TEXT_TYPES["csv"])
    if format == "md":
        return PlainTextResponse(service.countries_markdown(rows), media_type=TEXT_TYPES["md"])
    return rows
