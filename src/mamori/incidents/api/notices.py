"""REST routes of the incidents slice: notices to the people (R-26-6, G-34).

- ``GET  /incidents/{key}/notice-plan`` — who would be notified how (counts and customer ids; incident.read)
- ``POST /incidents/{key}/notices`` — send (body: channel preference, hold back; incident.notify)
- ``GET  /incidents/{key}/notices`` — the send log per person (no address; incident.read)
- ``POST /incidents/{key}/substitute-measures`` — publication / inquiry line for people without contact

``key`` is the 事案番号 (INC-0003) or the id. Errors are problem+json without values.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from mamori.incidents.notice_schemas import (
    NoticePlan,
    NoticeRead,
    NoticeSendIn,
    NoticeSendResult,
    SubstituteIn,
    SubstituteResult,
)
from mamori.incidents.service import notices as service
from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/incidents", tags=["incidents"])
Key = Annotated[str, Path(pattern=r"^(?:[0-9a-f]{32}|(?:INC-|inc-)?[0-9]{1,9})$")]


@router.get("/{key}/notice-plan", response_model=NoticePlan, responses=responses(401, 403, 404, 422))
def notice_plan(ctx: PlainContext, key: Key) -> NoticePlan:
    """本人への通知の計画（人数と顧客ID） / who would be notified how."""
    return service.plan(ctx, key)


@router.post(
    "/{key}/notices",
    status_code=status.HTTP_200_OK,
    response_model=NoticeSendResult,
    responses=responses(401, 403, 404, 409, 422),
)
def send_notices(ctx: PlainContext, key: Key, body: NoticeSendIn | None = None) -> NoticeSendResult:
    """本人へ通知する（R-26-6, G-34; 通知済みの方は省略） / notify the people not yet notified."""
    data = body or NoticeSendIn()
    return service.send(ctx, key, channel_preference=data.channel_preference, hold_back=data.hold_back)


@router.get("/{key}/notices", response_model=list[NoticeRead], responses=responses(401, 403, 404, 422))
def notice_log(ctx: PlainContext, key: Key) -> list[NoticeRead]:
    """通知の送付記録 / the send log per person."""
    return service.log(ctx, key)


@router.post(
    "/{key}/substitute-measures",
    status_code=status.HTTP_201_CREATED,
    response_model=SubstituteResult,
    responses=responses(401, 403, 404, 409, 422),
)
def substitute_measure(ctx: PlainContext, key: Key, body: SubstituteIn) -> SubstituteResult:
    """連絡先のない方への代替措置（公表・問合せ窓口） / record a substitute measure."""
    return service.substitute(ctx, key, body.kind, body.note)
