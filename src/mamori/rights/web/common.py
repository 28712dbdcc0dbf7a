"""What every rights page shares: the session, one transaction, the error page, the CSRF refusal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from mamori.kernel import labels, validation
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.http import pages, templating
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.policy.actions import scope_for
from mamori.rights.permissions import RIGHTS_MANAGE
from mamori.rights.schemas import (
    RequestView,
)

ID = re.compile(r"[0-9a-f]{32}")
SOON_DAYS = 3  # shared/UI.md: 3日以内 in amber
Csrf = Annotated[str, Form(max_length=128)]


# -- the session, the layout's context, the form CSRF check (the kernel's authenticator, as mamori.web.app) -------


signed_in = pages.signed_in
page_ctx = pages.page_context
csrf_ok = pages.csrf_ok


def lang_of(request: Request) -> str:
    return templating.lang_of(request)


@contextmanager
def transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=readonly) as ctx:
        yield ctx


def to_sign_in() -> RedirectResponse:
    return pages.to_sign_in()


def error_page(request: Request, who: Principal, err: MamoriError) -> HTMLResponse:
    """A refusal in plain words with its rule id small beside it (never a stack trace)."""
    if err.code == "role_not_permitted":  # the engine names codes (「ロール「sales」…」): say it in words
        role_ja, role_en = (labels.value("role", who.actor.role.value, lang) for lang in ("ja", "en"))
        err = PolicyDenied(
            f"{role_ja}には、本人からの請求のこの操作を行う権限がありません。個人情報保護管理者に依頼してください。",
            f"A {role_en.lower()} may not do this with requests from the person. Ask the privacy officer.",
            rule_id=err.rule_id,
            code=err.code,
        )
    if err.http_status == 404:
        return pages.not_found(request, who, err.message(lang_of(request)), back="/rights")
    return pages.error_page(
        request, who, err.http_status, err.message(lang_of(request)), rule_id=err.rule_id, back="/rights"
    )


def not_found() -> NotFound:
    return NotFound("請求が見つかりません。", "Request not found.", code="request_not_found")


def csrf_refused() -> PolicyDenied:
    return PolicyDenied(
        "CSRF トークンがないか一致しません。画面を開き直してから、もう一度操作してください。",
        "Missing or wrong CSRF token. Reload the page and try again.",
        code="csrf_rejected",
    )


def invalid(exc: ValidationError, lang: str) -> ValidationFailed:
    """A form's bad input as one line in words (no value echoed)."""
    text = validation.message(exc, lang)
    return ValidationFailed(text, validation.message(exc, "en"), code="invalid_input")


def can_manage(who: Principal) -> bool:
    """Only chooses what to render next (the request page or the intake step); the service still decides."""
    return scope_for(who.actor.role, RIGHTS_MANAGE) is not None


OPENED = ("受け付けました。", "The request has been received.")


def deadline(v: RequestView) -> str:
    """期限超過 / 3日以内 / 余裕あり / 完了: the word beside the colour (web_rights_deadline)."""
    if v.status == "closed":
        return "closed"
    if v.overdue:
        return "overdue"
    return "soon" if v.days_left <= SOON_DAYS else "ok"
