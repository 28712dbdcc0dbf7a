"""``POST /api/v1/contact/lists`` (a call or mailing list through the policy engine) and ``POST
/api/v1/contact/reach`` (the check before a contact), issue 20. The purpose is in the JSON body (bound to an API
token's purposes, R-23-2); personal values travel only in response bodies, never in a URL."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from mamori.contact.schemas import ListRead, ListRequest, ReachRead, ReachRequest
from mamori.contact.service import lists, reach
from mamori.kernel.http.deps import PlainContext, PrincipalDep, require_body_purposes
from mamori.kernel.http.problems import responses

router = APIRouter()

CSV_TYPE = "text/csv; charset=utf-8"


def _wants_csv(request: Request, body: ListRequest) -> bool:
    return body.format == "csv" or "text/csv" in request.headers.get("accept", "")


@router.post(
    "/lists",
    response_model=ListRead,
    responses={**responses(401, 403, 422), 200: {"content": {"text/csv": {}}}},
)
def build_list(
    request: Request, ctx: PlainContext, who: PrincipalDep, body: ListRequest
) -> Response | ListRead:
    """架電・送付リストを作る（JSON、または Accept: text/csv / format "csv" で CSV） / build a call or mailing list.

    Only people notified of the purpose, with consent where it needs it, not stopped, not erased, not
    do-not-contact on the channel (opted in for marketing e-mail / SMS); only the channel's fields; audited with
    the counts of who was left out and why."""
    require_body_purposes(who, body)
    pctx = ctx.with_purpose(body.purpose)
    built = lists.build(pctx, channel=body.channel, segment=body.segment, ids=body.ids)
    if _wants_csv(request, body):
        built, data = lists.export_csv(pctx, built)
        return Response(
            data,
            media_type=CSV_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="contact-{built.channel}-{built.build_id}.csv"',
                "Cache-Control": "no-store",
                "Mamori-List-Build": built.build_id,
            },
        )
    return ListRead.of(built)


@router.post("/reach", response_model=ReachRead, responses=responses(401, 403, 404, 422))
def check_reach(ctx: PlainContext, who: PrincipalDep, body: ReachRequest) -> ReachRead:
    """この人にこの手段で連絡してよいか（可なら連絡先） / may this person be contacted on this channel?"""
    require_body_purposes(who, body)
    return reach.check(ctx.with_purpose(body.purpose), body.customer_id, body.channel)
