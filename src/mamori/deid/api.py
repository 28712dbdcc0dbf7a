"""REST routes of the deid slice: the register of de-identified datasets.

De-identifying a file stays a CLI job (files on the operator's machine); the register it keeps is readable here by
the privacy officer and the analyst. No record value is ever returned.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mamori.deid import service
from mamori.deid.schemas import DatasetKind, DatasetRead
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/deid", tags=["deid"])


@router.get("/datasets", response_model=list[DatasetRead], responses=responses(401, 403, 422))
def list_datasets(
    ctx: PlainContext,
    kind: Annotated[DatasetKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIST)] = 100,
) -> list[DatasetRead]:
    """仮名加工情報・匿名加工情報の台帳 / the register of de-identified datasets, newest first."""
    return service.list_datasets(ctx, kind=kind, limit=limit)
