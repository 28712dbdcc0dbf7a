"""REST routes of e-mail campaigns under /api/v1/contact/campaigns (issue 20).

A purpose-limited API token is bound to its purposes (R-23-2): it can draft and send only campaigns of those
purposes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from mamori.contact.campaign_schemas import (
    BounceIn,
    CampaignCreate,
    CampaignPreview,
    CampaignRead,
    CampaignSendRead,
    CampaignSummary,
)
from mamori.contact.service import campaigns as service
from mamori.kernel.http.deps import (
    PlainContext,
    PrincipalDep,
    require_body_purposes,
    require_token_purpose,
)
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/campaigns", tags=["contact"])
Id = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignRead,
    responses=responses(401, 403, 404, 422),
)
def create_campaign(ctx: PlainContext, who: PrincipalDep, body: CampaignCreate) -> CampaignRead:
    """メール配信の下書きを作成（差し込みは {name} のみ） / create a campaign draft."""
    require_body_purposes(who, body)
    return service.create(ctx, body)


@router.get("", response_model=list[CampaignSummary], responses=responses(401, 403))
def list_campaigns(ctx: PlainContext) -> list[CampaignSummary]:
    """メール配信の一覧 / campaigns."""
    return service.list_campaigns(ctx)


@router.get("/{campaign_id}", response_model=CampaignRead, responses=responses(401, 403, 404, 422))
def show_campaign(ctx: PlainContext, campaign_id: Id) -> CampaignRead:
    """メール配信の内容と件数 / a campaign with its counts."""
    return service.show(ctx, campaign_id)


@router.get("/{campaign_id}/preview", response_model=CampaignPreview, responses=responses(401, 403, 404, 422))
def preview_campaign(ctx: PlainContext, campaign_id: Id) -> CampaignPreview:
    """受信者に届く形（送信者表示・配信停止リンク付き）のプレビュー / the message as recipients see it."""
    return service.preview(ctx, campaign_id)


@router.get(
    "/{campaign_id}/sends", response_model=list[CampaignSendRead], responses=responses(401, 403, 404, 422)
)
def campaign_sends(ctx: PlainContext, campaign_id: Id) -> list[CampaignSendRead]:
    """送信ごとの状態（ID・状態・エラーコードのみ） / each send's status."""
    return service.sends(ctx, campaign_id)


@router.post("/{campaign_id}/send", response_model=CampaignRead, responses=responses(401, 403, 404, 409, 422))
def send_campaign(ctx: PlainContext, who: PrincipalDep, campaign_id: Id) -> CampaignRead:
    """送信する（一度だけ。宛先は利用目的と同意・オプトインに従って作成） / send once."""
    require_token_purpose(who, service.show(ctx, campaign_id).purpose)
    return service.send(ctx, campaign_id)


@router.post(
    "/sends/{send_id}/bounce",
    response_model=CampaignSendRead,
    responses=responses(401, 403, 404, 409, 422),
)
def bounce_send(ctx: PlainContext, send_id: Id, body: BounceIn) -> CampaignSendRead:
    """後から届いたバウンスを記録（コードのみ） / record a bounce (its code)."""
    return service.bounce(ctx, send_id, body.reason)
