"""REST routes of accuracy (issue 21, R-22-1): ``POST /api/v1/customers/{id}/confirm`` and ``GET
/api/v1/customers/unconfirmed``.

Mounted BEFORE the customers router: its ``GET /customers/{customer_id}`` would otherwise take
``/customers/unconfirmed`` for a customer id. The service decides (a confirmation is a customer update for the
declared ``Mamori-Purpose``; the list is scoped to those the caller may confirm) and audits. Ids and dates only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from mamori.customers.schemas import (
    CONFIRMATION_PERIOD_DAYS,
    MAX_CONFIRMATION_DAYS,
    MAX_UNCONFIRMED_LIMIT,
    ConfirmationRead,
    UnconfirmedList,
)
from mamori.customers.service import accuracy
from mamori.kernel.http.deps import PlainContext, PurposeContext
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/customers", tags=["customers"])
CustomerId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="顧客ID（推測できないランダム値）")]


@router.post(
    "/{customer_id}/confirm", response_model=ConfirmationRead, responses=responses(401, 403, 404, 422)
)
def confirm_customer(ctx: PurposeContext, customer_id: CustomerId) -> ConfirmationRead:
    """顧客情報を本人に確認したことを記録する（最終確認日を今に、R-22-1） / record that the data was confirmed with
    the person (last confirmation = now)."""
    return accuracy.confirm(ctx, customer_id)


@router.get("/unconfirmed", response_model=UnconfirmedList, responses=responses(401, 403, 422))
def list_unconfirmed(
    ctx: PlainContext,
    days: Annotated[int, Query(ge=1, le=MAX_CONFIRMATION_DAYS, description="確認の期間（日）")] = (
        CONFIRMATION_PERIOD_DAYS
    ),
    limit: Annotated[int, Query(ge=1, le=MAX_UNCONFIRMED_LIMIT)] = 100,
) -> UnconfirmedList:
    """確認が必要な顧客（期間内に確認していない、古い順、R-22-1） / customers due for confirmation, oldest first."""
    due = accuracy.unconfirmed(ctx, older_than_days=days, limit=limit)
    return UnconfirmedList(
        older_than_days=days,
        before=accuracy.cutoff(ctx, days),
        total=accuracy.count_unconfirmed(ctx, older_than_days=days),
        customers=due,
    )
