"""REST routes of the purpose registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from mamori.kernel.http.deps import PlainContext
from mamori.kernel.http.problems import responses
from mamori.kernel.policy import OPT_IN_CHANNELS
from mamori.purposes import service
from mamori.purposes.schemas import PurposeCreate, PurposeRead

router = APIRouter(prefix="/purposes", tags=["purposes"])
Code = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{1,63}$")]


def _with_optin_note(p: PurposeRead) -> PurposeRead:
    """TE-3 (特定電子メール法 第3条): a marketing purpose with e-mail or SMS says, among its warnings, that the
    advertising reaches only persons who opted in beforehand (issue 20)."""
    if not (p.marketing and OPT_IN_CHANNELS.intersection(p.channels)):
        return p
    note = (
        "TE-3: 広告宣伝のメール・SMSは、事前に受信に同意（オプトイン）した本人にだけ送れます（特定電子メール法 第3条）。"
        "この目的への同意（POST /api/v1/customers/{id}/consents）か、連絡手段ごとの受信の同意（POST "
        "/api/v1/customers/{id}/contact-preferences、allow: true）で記録します。"
    )
    return p.model_copy(update={"warnings": [*p.warnings, note]})


@router.get("", response_model=list[PurposeRead], responses=responses(401))
def list_purposes(ctx: PlainContext) -> list[PurposeRead]:
    """利用目的の一覧 / list purposes (current versions)."""
    return service.list_purposes(ctx)


@router.get("/{code}", response_model=PurposeRead, responses=responses(401, 404, 422))
def show_purpose(ctx: PlainContext, code: Code) -> PurposeRead:
    return service.show(ctx, code)


@router.get("/{code}/versions", response_model=list[PurposeRead], responses=responses(401, 404, 422))
def purpose_versions(ctx: PlainContext, code: Code) -> list[PurposeRead]:
    """全ての版（通知した版の証跡） / every version."""
    return service.history(ctx, code)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PurposeRead,
    responses=responses(401, 403, 409, 422),
)
def add_purpose(ctx: PlainContext, body: PurposeCreate) -> PurposeRead:
    """利用目的を登録（曖昧な表現には warnings、R-17-1。連絡手段 ``channels``、広告宣伝 ``marketing``、分析・
    プロファイリングを含む ``profiling``） / register a purpose (its contact channels, whether it is advertising,
    whether it includes analysis and profiling)."""
    return _with_optin_note(service.add(ctx, body))


@router.post(
    "/{code}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=PurposeRead,
    responses=responses(401, 403, 404, 422),
)
def revise_purpose(ctx: PlainContext, code: Code, body: PurposeCreate) -> PurposeRead:
    """新しい版を登録（R-17-2。連絡手段・分析の有無の変更も新しい版） / a new version (changing the channels or
    the profiling flag too)."""
    return _with_optin_note(service.revise(ctx, body.model_copy(update={"code": code})))


@router.post("/{code}/retire", response_model=PurposeRead, responses=responses(401, 403, 404, 422))
def retire_purpose(ctx: PlainContext, code: Code) -> PurposeRead:
    """廃止（削除はしない） / retire (never deleted)."""
    return service.retire(ctx, code)
