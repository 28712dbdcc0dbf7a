"""REST routes for staff administration (admin), service accounts (admin) and API tokens (issue 17).

- ``POST /staff/tokens`` — create your OWN token: only with a browser session (cookie + CSRF) that was signed in
  with a verification code; the token has your role and acts as you (a token cannot create tokens);
- ``GET /staff/tokens`` — every token (admin) or your own; ``POST /staff/tokens/{id}/revoke`` — admin any,
  anyone their own;
- ``POST /staff/service-accounts`` — a machine client's account (admin; never admin or system role), and
  ``POST /staff/service-accounts/{username}/tokens`` — its tokens (admin).

Training and pledges (R-23-3, issue 21; admin and privacy officer manage, everyone reads their own status and
signs themselves):

- ``GET|POST /staff/training/courses``, ``POST /staff/training/courses/{code}/retire``;
- ``POST /staff/training/completions``; ``GET /staff/training/status`` (own) and ``…/status/{username}``;
- ``GET /staff/training/overdue``; ``GET|PUT /staff/training/policy``;
- ``GET|POST /staff/pledges`` (versions; publish), ``GET /staff/pledges/latest``, ``POST /staff/pledges/sign``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from mamori.kernel.errors import NotFound
from mamori.kernel.http.deps import PlainContext, PrincipalDep
from mamori.kernel.http.problems import responses
from mamori.staff import service
from mamori.staff.schemas import (
    ApiTokenCreate,
    ApiTokenIssued,
    ApiTokenRead,
    CompletionCreate,
    CompletionRead,
    CourseCreate,
    CourseRead,
    OverdueEntry,
    PledgePublish,
    PledgeRead,
    PledgeSign,
    PledgeVersionRead,
    ServiceAccountCreate,
    StaffCreate,
    StaffRead,
    TrainingPolicyRead,
    TrainingPolicyUpdate,
    TrainingStatus,
)

router = APIRouter(prefix="/staff", tags=["staff"])
TokenId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
Username = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_.-]{1,63}$")]
CourseCode = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


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


# -- training and pledges (R-23-3, issue 21) ------------------------------------------------------------------------


@router.get("/training/courses", response_model=list[CourseRead], responses=responses(401, 403))
def list_courses(ctx: PlainContext, include_retired: bool = False) -> list[CourseRead]:
    """研修コース一覧 / training courses (admin, privacy officer)."""
    return service.list_courses(ctx, include_retired=include_retired)


@router.post(
    "/training/courses",
    status_code=status.HTTP_201_CREATED,
    response_model=CourseRead,
    responses=responses(401, 403, 409, 422),
)
def add_course(ctx: PlainContext, body: CourseCreate) -> CourseRead:
    """研修コースを追加 / add a training course."""
    return service.add_course(ctx, body)


@router.post(
    "/training/courses/{code}/retire", response_model=CourseRead, responses=responses(401, 403, 404, 422)
)
def retire_course(ctx: PlainContext, code: CourseCode) -> CourseRead:
    """研修コースを廃止 / retire a training course (its completions stay)."""
    return service.retire_course(ctx, code)


@router.post(
    "/training/completions",
    status_code=status.HTTP_201_CREATED,
    response_model=CompletionRead,
    responses=responses(401, 403, 404, 409, 422),
)
def record_completion(ctx: PlainContext, body: CompletionCreate) -> CompletionRead:
    """受講を記録 / record a completed training."""
    return service.record_completion(ctx, body)


@router.get("/training/status", response_model=TrainingStatus, responses=responses(401, 422))
def my_status(ctx: PlainContext) -> TrainingStatus:
    """自分の研修・誓約の状況 / my own training and pledge status."""
    return service.status_of(ctx, None)


@router.get(
    "/training/status/{username}", response_model=TrainingStatus, responses=responses(401, 403, 404, 422)
)
def staff_status(ctx: PlainContext, username: Username) -> TrainingStatus:
    """担当者の研修・誓約の状況（自分、または管理者・個人情報保護管理者） / a staff member's status."""
    return service.status_of(ctx, username)


@router.get("/training/overdue", response_model=list[OverdueEntry], responses=responses(401, 403))
def overdue(ctx: PlainContext) -> list[OverdueEntry]:
    """未受講・期限切れ・誓約未提出の担当者 / staff who are not current."""
    return service.overdue(ctx)


@router.get("/training/policy", response_model=TrainingPolicyRead, responses=responses(401, 403))
def get_policy(ctx: PlainContext) -> TrainingPolicyRead:
    """研修必須化の設定 / the training policy."""
    return service.policy(ctx)


@router.put("/training/policy", response_model=TrainingPolicyRead, responses=responses(401, 403, 422))
def put_policy(ctx: PlainContext, body: TrainingPolicyUpdate) -> TrainingPolicyRead:
    """研修必須化の設定を変更 / change the training policy."""
    return service.set_policy(ctx, body.enforced, body.roles)


@router.get("/pledges", response_model=list[PledgeVersionRead], responses=responses(401, 403))
def list_pledges(ctx: PlainContext) -> list[PledgeVersionRead]:
    """誓約書の版と署名者数 / pledge versions with how many signed each."""
    return service.list_pledges(ctx)


@router.post(
    "/pledges",
    status_code=status.HTTP_201_CREATED,
    response_model=PledgeVersionRead,
    responses=responses(401, 403, 409, 422),
)
def publish_pledge(ctx: PlainContext, body: PledgePublish) -> PledgeVersionRead:
    """誓約書の新しい版を公開（全員が署名し直す） / publish a new pledge version."""
    return service.publish_pledge(ctx, body)


@router.get("/pledges/latest", response_model=PledgeVersionRead, responses=responses(401, 404))
def latest_pledge(ctx: PlainContext) -> PledgeVersionRead:
    """署名する誓約書（最新版） / the pledge version to sign now."""
    found = service.latest_pledge(ctx)
    if found is None:
        raise NotFound("公開された誓約書がありません。", "No pledge has been published.", code="no_pledge")
    return found


@router.post(
    "/pledges/sign",
    status_code=status.HTTP_201_CREATED,
    response_model=PledgeRead,
    responses=responses(401, 403, 404, 409, 422),
)
def sign_pledge(ctx: PlainContext, body: PledgeSign) -> PledgeRead:
    """最新の誓約書に署名（自分、または書面の署名を管理者が記録） / sign the latest pledge."""
    return service.sign_pledge(ctx, body)
