"""Sign-in, sign-out and the authenticator of every API request.

Browsers use a server-side session in a ``__Host-`` cookie (Secure, HttpOnly, SameSite=Strict) and send the
session's CSRF token in ``X-CSRF-Token`` on writes; machine clients use ``Authorization: Bearer mamori_…`` API
tokens, which may be limited to some purposes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from mamori.kernel.context import SYSTEM_ACTOR, Context, Role
from mamori.kernel.http.deps import Principal, PrincipalDep, csrf_token, runtime_of
from mamori.kernel.http.problems import responses
from mamori.kernel.runtime import Runtime
from mamori.kernel.schemas import InputModel
from mamori.staff import service as staff_service

SESSION_COOKIE = "__Host-mamori_session"
router = APIRouter(prefix="/auth", tags=["auth"])


def authenticate(request: Request, session: Session, rt: Runtime) -> Principal | None:
    # No actor yet: the staff service reads the session or token through the auth edge's system Context.
    ctx = Context(actor=SYSTEM_ACTOR, session=session, runtime=rt, clock=rt.clock)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        actor, purposes = staff_service.validate_api_token(ctx, header[7:].strip())
        return Principal(actor=actor, via="token", purposes=purposes)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        actor = staff_service.validate_session(ctx, token)
        return Principal(
            actor=actor, via="session", session_token_hash=staff_service.token_digest(token).encode()
        )
    return None


class SignInRequest(InputModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024, json_schema_extra={"format": "password"})
    totp: str | None = Field(default=None, pattern=r"^\d{6}$", description="認証アプリの6桁のコード")

    model_config = {
        "json_schema_extra": {"examples": [{"username": "sato", "password": "…", "totp": "123456"}]}
    }


class SessionInfo(BaseModel):
    username: str
    role: Role
    csrf_token: str = Field(description="Cookie で書き込むときに X-CSRF-Token に入れる値")
    expires_at: datetime | None = None


@router.post("/sign-in", response_model=SessionInfo, responses=responses(401, 422))
def sign_in(request: Request, response: Response, body: Annotated[SignInRequest, Body()]) -> SessionInfo:
    """サインイン（パスワード＋TOTP）。新しいセッション ID を Cookie で返す / sign in; a new session each time."""
    rt = runtime_of(request)
    signed = staff_service.sign_in(
        rt,
        body.username,
        body.password,
        body.totp,
        idle_timeout=timedelta(minutes=rt.settings.session_idle_minutes),
        channel="api",
    )
    max_age = int((signed.expires_at - rt.clock.now()).total_seconds())
    response.set_cookie(
        SESSION_COOKIE, signed.token, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict"
    )
    return SessionInfo(
        username=signed.username,
        role=signed.role,
        expires_at=signed.expires_at,
        csrf_token=csrf_token(rt, staff_service.token_digest(signed.token).encode()),
    )


@router.post("/sign-out", status_code=204, responses=responses(401, 403))
def sign_out(request: Request, who: PrincipalDep) -> Response:
    """サインアウト（サーバー側でセッションを無効化） / sign out (the session is revoked server-side)."""
    rt = runtime_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token and who.via == "session":
        with rt.transaction(SYSTEM_ACTOR) as ctx:
            staff_service.sign_out(ctx, token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.get("/me", response_model=SessionInfo, responses=responses(401))
def me(request: Request, who: PrincipalDep) -> SessionInfo:
    """現在のユーザーと CSRF トークン / who am I, and the CSRF token for cookie writes."""
    rt = runtime_of(request)
    return SessionInfo(
        username=who.actor.name,
        role=who.actor.role,
        csrf_token=csrf_token(rt, who.session_token_hash) if who.session_token_hash else "",
    )
