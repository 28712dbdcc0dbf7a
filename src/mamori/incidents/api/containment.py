"""REST routes of the incidents slice: containment (issue 22 "Deliver" 7; R-26-7).

- ``POST /api/v1/incidents/{key}/containment`` ``{"kind", "target"}`` — one step done and recorded (201, the
  measure); refused steps are 403 problem+json with the rule id, unknown targets 404, bad input 422.
- ``GET /api/v1/incidents/{key}/measures`` — the steps recorded so far.

``key`` is the incident id or its 事案番号 (``INC-0003`` or ``3``). The service authorises and audits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from mamori.incidents.containment_schemas import ContainmentIn, MeasureRead
from mamori.incidents.service import containment as service
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses

router = APIRouter()
Key = Annotated[str, Path(pattern=r"^(?:[Ii][Nn][Cc]-\d{1,9}|\d{1,9}|[0-9a-f]{32})$")]


@router.post(
    "/incidents/{key}/containment",
    status_code=status.HTTP_201_CREATED,
    response_model=MeasureRead,
    responses=responses(401, 403, 404, 409, 422),
)
def contain(ctx: PlainContext, key: Key, body: ContainmentIn) -> MeasureRead:
    """封じ込めの手順を実施して記録（R-26-7） / take a containment step and record it."""
    return service.take(ctx, key, body)


@router.get(
    "/incidents/{key}/measures",
    response_model=list[MeasureRead],
    responses=responses(401, 403, 404, 422),
)
def measures(ctx: PlainContext, key: Key) -> list[MeasureRead]:
    """事案で実施した措置の一覧 / the measures recorded for the incident."""
    return service.measures(ctx, key)
