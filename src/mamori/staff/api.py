"""REST routes for staff administration (admin), service accounts (admin) and API tokens (issue 17).

- ``POST /staff/tokens`` — create your OWN token: only with a browser session (cookie + CSRF) that was signed in
  with a verification code; the token has your role and acts as you (a token cannot create tokens);
- ``GET /staff/tokens`` — every token (admin) or your own; ``POST /staff/tokens/{id}/revoke`` — admin any,
  anyone their own;
- ``POST /staff/service-accounts`` — a machine client's account (admin; never admin or system role), and
  ``POST /staff/service-accounts/{username}/tokens`` — its tokens (admin).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from mamori.kernel.http.deps import PlainContext, PrincipalDep
from mamori.kernel.http.problems import responses
from mamori.staff import service
from mamori.staff.schemas import (
    ApiTokenCreate,
    ApiTokenIssued,
    ApiTokenRead,
    ServiceAccountCreate,
    StaffCreate,
    StaffRead,
)

router = APIRouter(prefix="/staff", tags=["staff"])
TokenId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
Username = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_.-]{1,63}$")]


@router.get("", response_model=list[StaffRead], responses=responses(401, 403))
def list_staff(ctx: PlainContext) -> list[StaffRead]:
    """スタッフ一覧（管理者） / list staff users (admin)."""
    return service.list_all(ctx)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=StaffRead, responses=responses(401, 403, 409, 422)
)
def add_staff(ctx: PlainContext, body: StaffCreate) -> StaffRead:
    """スタッフを追加（管理者） / add a staff user (admin)."""
    return service.add(ctx, body)


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiTokenIssued,
    responses=responses(401, 403, 409, 422),
)
def create_own_token(ctx: PlainContext, who: PrincipalDep, body: ApiTokenCreate) -> ApiTokenIssued:
    """自分の API トークンを作る（二要素認証済みのセッションのみ、一度だけ表示） / create your own API token."""
    digest = who.session_token_hash.decode() if who.via == "session" and who.session_token_hash else None
    return service.create_token(ctx, ctx.actor.name, body, session_digest=digest)


@router.get("/tokens", response_model=list[ApiTokenRead], responses=responses(401, 403))
def list_tokens(ctx: PlainContext) -> list[ApiTokenRead]:
    """API トークン一覧（管理者は全員分、それ以外は自分の分） / tokens: all (admin) or your own."""
    return service.list_tokens(ctx)


@router.post(
    "/tokens/{token_id}/revoke", response_model=ApiTokenRead, responses=responses(401, 403, 404, 422)
)
def revoke_token(ctx: PlainContext, token_id: TokenId) -> ApiTokenRead:
    """API トークンを失効（管理者は誰の分でも、本人は自分の分） / revoke a token (admin: any; owner: own)."""
    return service.revoke_token(ctx, token_id)


@router.post(
    "/service-accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=StaffRead,
    responses=responses(401, 403, 409, 422),
)
def add_service_account(ctx: PlainContext, body: ServiceAccountCreate) -> StaffRead:
    """サービスアカウント（機械クライアント用、サインイン不可）を追加（管理者） / add a service account (admin)."""
    return service.add_service(ctx, body)


@router.post(
    "/service-accounts/{username}/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiTokenIssued,
    responses=responses(401, 403, 404, 409, 422),
)
def issue_service_token(ctx: PlainContext, username: Username, body: ApiTokenCreate) -> ApiTokenIssued:
    """サービスアカウントの API トークンを発行（管理者、一度だけ表示） / issue a service account's token (admin)."""
    found = service.service_account(ctx, username)
    return service.create_token(ctx, found.username, body)
