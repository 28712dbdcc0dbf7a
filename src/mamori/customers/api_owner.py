"""REST routes of customer ownership (issue 21, seed 001 case 1): change a customer's owner, one or many.

- ``PATCH /api/v1/customers/{customer_id}/owner`` — body ``{"to": "<user name or staff id>", "reason": …}``;
- ``POST /api/v1/customers/owner-transfers`` — every customer of ``from``, or the ``customer_ids`` given, to ``to``.

Mounted BEFORE the customers router (its ``/customers/{customer_id}`` routes). The service authorises each customer
(``customer.reassign``: a rep only their own, R-23-2), refuses a successor who is not current on training and pledge
(R-23-3, 403 problem+json ``training_required``) and audits; nothing moves when anything is refused."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from mamori.customers.schemas import OwnerChange, OwnershipResult, OwnerTransfer
from mamori.customers.service import ownership
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/customers", tags=["customers"])
CustomerId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="顧客ID / customer id")]


@router.patch("/{customer_id}/owner", response_model=OwnershipResult, responses=responses(401, 403, 404, 422))
def change_owner(ctx: PlainContext, customer_id: CustomerId, body: OwnerChange) -> OwnershipResult:
    """顧客の担当者を変更する / give one customer to another staff member (ids only; audited)."""
    return ownership.set_owner(ctx, [customer_id], body.to, reason=body.reason)


@router.post("/owner-transfers", response_model=OwnershipResult, responses=responses(401, 403, 404, 422))
def transfer_owner(ctx: PlainContext, body: OwnerTransfer) -> OwnershipResult:
    """担当顧客をまとめて移す / move many customers (every customer of ``from``, or ``customer_ids``) to ``to``.

    With both ``from`` and ``customer_ids``, every id must be owned by ``from`` (422 ``not_owned_by_from``)."""
    ids = body.customer_ids
    if body.from_ is not None:
        source = ownership.find_staff(ctx, body.from_)
        owned = ownership.owned_by(ctx, source.id)
        if ids is None:
            ids = owned
        else:
            ownership.require_owned(ids, owned)
    return ownership.set_owner(ctx, ids or [], body.to, reason=body.reason)
