"""REST routes of saved import mappings (issue 19): /api/v1/customers/import-mappings[/{name}].

Mounted BEFORE the customers router: its ``GET /customers/{customer_id}`` would otherwise take
``/customers/import-mappings`` for a customer id. The service decides (whoever may import) and audits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response, status

from mamori.customers.service import import_mapping
from mamori.customers.service.import_mapping import SavedMapping
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/customers/import-mappings", tags=["customers"])
Name = Annotated[str, Path(pattern=import_mapping.NAME_PATTERN, description="マッピング名 / mapping name")]
MAPPING_EXAMPLE = {
    "fields": {
        "name": {"columns": ["姓", "名"], "join": True, "sep": " "},
        "phone": {"columns": ["電話1", "電話2"]},
        "address": "都道府県+住所+建物",
        "attr:note": {"columns": ["備考"]},
    },
    "attributes": {"note": "attribute"},
    "values": {"gender": {"1": "male", "2": "female"}},
}


@router.get("", response_model=list[SavedMapping], responses=responses(401, 403))
def list_mappings(ctx: PlainContext) -> list[SavedMapping]:
    """保存した取込マッピングの一覧 / saved import mappings."""
    return import_mapping.list_(ctx)


@router.get("/{name}", response_model=SavedMapping, responses=responses(401, 403, 404, 422))
def show_mapping(ctx: PlainContext, name: Name) -> SavedMapping:
    """保存した取込マッピング / one saved import mapping."""
    return import_mapping.read(ctx, name)


@router.put("/{name}", response_model=SavedMapping, responses=responses(401, 403, 422))
def save_mapping(
    ctx: PlainContext,
    name: Name,
    body: Annotated[dict[str, Any], Body(examples=[MAPPING_EXAMPLE])],
) -> SavedMapping:
    """取込マッピングを保存（同名は置き換え） / save (create or replace) an import mapping.

    The body is a mapping file's content (JSON); refusals are problem+json with ``bad_mapping``,
    ``mapping_conflict`` or ``mapping_sensitive`` (R-20-2), naming the key path, never a value."""
    return import_mapping.save(ctx, name, import_mapping.from_dict(body))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(401, 403, 404, 422))
def delete_mapping(ctx: PlainContext, name: Name) -> Response:
    """取込マッピングを削除 / delete an import mapping."""
    import_mapping.delete(ctx, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
