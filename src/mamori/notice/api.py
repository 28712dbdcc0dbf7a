"""REST routes of the notice slice (the published notice 公表事項, R-32-1), under ``/api/v1``.

- ``GET /notice``, ``GET /notice/versions``, ``GET /notice/versions/{version}``: the published notice is PUBLIC
  — no staff login and no API token (the law wants it knowable to the person: the privacy center's pages serve
  it without a login, and the company's own web site may fetch it). A token sent anyway is not looked at. The
  content holds the operator's public facts and the registries' wording, never a customer's data.
- ``GET /notice/draft`` and ``POST /notice/publish``: the privacy officer (NOTICE_PUBLISH decides, refusals are
  audited), through the same service functions as ``mamori notice draft|publish`` and the ``/notice`` page.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.http.deps import PlainContext, runtime_of
from mamori.kernel.http.problems import responses
from mamori.notice import service
from mamori.notice.schemas import (
    Draft,
    NoticeVersionRead,
    PublishedNoticeOut,
    PublishedNoticeRead,
    PublishIn,
    PublishResult,
)

router = APIRouter(prefix="/notice", tags=["notice"])
Version = Annotated[int, Path(ge=1, le=service.MAX_VERSION, description="版 / version number")]
Lang = Annotated[
    Literal["ja", "en"] | None,
    Query(description="本文を一つの言語の行でも返す / also return the notice as lines in this language"),
]


def _lang(request: Request, lang: str | None) -> str:
    if lang is not None:
        return lang
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "ja"


def _out(found: PublishedNoticeRead, lang: Literal["ja", "en"] | None) -> PublishedNoticeOut:
    text = service.text(found.content, lang) if lang is not None else None
    return PublishedNoticeOut(**found.model_dump(), lang=lang, text=text)


def _read(request: Request, version: int | None, lang: Literal["ja", "en"] | None) -> PublishedNoticeOut:
    with runtime_of(request).transaction(SYSTEM_ACTOR, readonly=True, lang=_lang(request, lang)) as ctx:
        return _out(service.shown(ctx, version), lang)


@router.get("", response_model=PublishedNoticeOut, responses=responses(404, 422))
def current_notice(request: Request, lang: Lang = None) -> PublishedNoticeOut:
    """公表中の版（公開: ログイン・トークン不要、R-32-1） / the version in force — public, no token needed.

    404 ``notice_not_found`` while nothing is published. ``?lang=ja|en`` adds the notice as plain lines."""
    return _read(request, None, lang)


@router.get("/versions", response_model=list[NoticeVersionRead])
def notice_versions(request: Request) -> list[NoticeVersionRead]:
    """改定履歴（公開: ログイン・トークン不要） / every published version, newest first — public, no token needed."""
    with runtime_of(request).transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return service.history(ctx)


@router.get("/versions/{version}", response_model=PublishedNoticeOut, responses=responses(404, 422))
def notice_version(request: Request, version: Version, lang: Lang = None) -> PublishedNoticeOut:
    """公表した版をそのままの内容で（公開: ログイン・トークン不要） / a version as it was published — public."""
    return _read(request, version, lang)


@router.get("/draft", response_model=Draft, responses=responses(401, 403, 422))
def notice_draft(ctx: PlainContext, request: Request, lang: Lang = None) -> Draft:
    """下書き・sha256・公表中の版との違い・未設定の項目（個人情報保護管理者） / the draft, its sha256, what changed
    section by section (diff lines in ``?lang``) and the settings not set — privacy officer."""
    return service.draft(ctx, _lang(request, lang))


@router.post("/publish", response_model=PublishResult, responses=responses(401, 403, 409, 422))
def publish_notice(ctx: PlainContext, body: PublishIn) -> PublishResult:
    """確認した下書き（``expect``: その sha256）を新しい版として公表（R-32-1、個人情報保護管理者） / publish the
    reviewed draft. 409 ``notice_draft_changed`` when the draft changed since; ``status: "unchanged"`` (no new
    version) when it equals the version in force."""
    return service.publish(ctx, expected_sha256=body.expect)
