"""REST routes of the departing rep's handover (issue 21, seed 001 case 1), under /api/v1/handovers.

- ``GET  /handovers/plan?from=<user name or staff id>`` — the rep's customers (ids, count) and the successors
  offered (current on training and pledge, R-23-3) and those not;
- ``POST /handovers`` — every customer of ``from`` to ``to``, with an optional ``greeting``; refused as a whole
  (403 ``training_required`` / R-23-3 for an untrained successor);
- ``GET  /handovers`` / ``GET /handovers/{id}``;
- ``POST /handovers/{id}/greeting`` — the successor's greeting e-mail to the customers handed over.

Thin: the service (``mamori.lifecycle.service.handover``) authorises, checks and audits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from mamori.kernel.http.deps import PlainContext, PrincipalDep, require_body_purposes
from mamori.kernel.http.problems import responses
from mamori.lifecycle.schemas import GreetingIn, GreetingResult, HandoverCreate, HandoverPlan, HandoverRead
from mamori.lifecycle.service import handover as service

router = APIRouter(prefix="/handovers", tags=["lifecycle"])
HandoverId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="引継ぎID / handover id")]
StaffRef = Annotated[
    str,
    Query(
        alias="from",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$",
        description="引継ぎ元の担当者（ユーザー名またはスタッフID） / the departing staff member",
    ),
]


@router.get("/plan", response_model=HandoverPlan, responses=responses(401, 403, 404, 422))
def plan(ctx: PlainContext, from_user: StaffRef) -> HandoverPlan:
    """引継ぎの準備: 担当顧客（ID・件数）と引継ぎ先の候補 / the departing rep's customers and possible successors."""
    return service.plan(ctx, from_user)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=HandoverRead,
    responses=responses(401, 403, 404, 409, 422),
)
def run(ctx: PlainContext, who: PrincipalDep, body: HandoverCreate) -> HandoverRead:
    """担当顧客を引継ぎ先へ一括で移す（挨拶メールも任意で） / hand every customer over, optionally greeting them."""
    require_body_purposes(who, body)  # an API token's purposes bind the greeting's purpose (R-23-2)
    return service.run(ctx, body)


@router.get("", response_model=list[HandoverRead], responses=responses(401, 403))
def list_handovers(ctx: PlainContext) -> list[HandoverRead]:
    """引継ぎの一覧 / handovers, newest first."""
    return service.list_handovers(ctx)


@router.get("/{handover_id}", response_model=HandoverRead, responses=responses(401, 403, 404, 422))
def show(ctx: PlainContext, handover_id: HandoverId) -> HandoverRead:
    """引継ぎ / one handover."""
    return service.get(ctx, handover_id)


@router.post(
    "/{handover_id}/greeting", response_model=GreetingResult, responses=responses(401, 403, 404, 409, 422)
)
def greet(ctx: PlainContext, who: PrincipalDep, handover_id: HandoverId, body: GreetingIn) -> GreetingResult:
    """引継ぎ先の担当者からの挨拶メール / the successor's greeting to the customers handed over."""
    require_body_purposes(who, body)
    return service.greet(ctx, handover_id, body)
