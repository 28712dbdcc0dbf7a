"""The board of requests by due date and staff intake (phone, letter, counter)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.kernel.auditing import authorise
from mamori.kernel.errors import MamoriError, PolicyDenied
from mamori.kernel.http import templating
from mamori.kernel.http.deps import Principal
from mamori.kernel.policy import Resource
from mamori.rights import service
from mamori.rights.permissions import RIGHTS_INTAKE
from mamori.rights.schemas import (
    AGENT_DOCUMENTS,
    AGENT_KINDS,
    CHANNELS,
    KINDS,
    RequestOpen,
)
from mamori.rights.service import delivery
from mamori.rights.web.common import (
    OPENED,
    Csrf,
    can_manage,
    csrf_ok,
    csrf_refused,
    deadline,
    error_page,
    invalid,
    lang_of,
    page_ctx,
    signed_in,
    to_sign_in,
    transaction,
)

router = APIRouter(include_in_schema=False)

# -- the board ---------------------------------------------------------------------------------------------------


@router.get("/rights", response_class=HTMLResponse)
def board(request: Request, closed: str = "") -> Response:
    who = signed_in(request)
    if who is None:
        return to_sign_in()
    try:
        with transaction(request, who, readonly=True) as ctx:
            rows = service.board(ctx, include_closed=closed == "1")
            states = delivery.answer_states(ctx, [v.id for v in rows])
    except MamoriError as err:
        return error_page(request, who, err)
    lang = lang_of(request)
    return templating.render(
        request,
        "rights/web_board.html",
        page_ctx(
            request,
            who,
            rows=[
                (v, deadline(v), states.get(v.id), delivery.state_word(states.get(v.id), lang)) for v in rows
            ],
            include_closed=closed == "1",
        ),
    )


# -- intake ------------------------------------------------------------------------------------------------------


def _intake_form(request: Request, who: Principal, **more: Any) -> dict[str, Any]:
    return page_ctx(
        request,
        who,
        kinds=KINDS,
        channels=CHANNELS,
        agent_kinds=AGENT_KINDS,
        agent_documents=AGENT_DOCUMENTS,
        chosen={},
        error=None,
        **more,
    )


@router.get("/rights/new", response_class=HTMLResponse)
def new_request_page(request: Request) -> Response:
    who = signed_in(request)
    if who is None:
        return to_sign_in()
    try:  # the same check the service makes on intake, audited when it refuses
        with transaction(request, who, readonly=True) as ctx:
            authorise(ctx, RIGHTS_INTAKE, Resource(kind="rights_request"))
    except MamoriError as err:
        return error_page(request, who, err)
    return templating.render(request, "rights/web_new.html", _intake_form(request, who))


@router.post("/rights/new", response_class=HTMLResponse)
def new_request(
    request: Request,
    csrf: Csrf = "",
    kind: Annotated[str, Form(max_length=32)] = "",
    regime: Annotated[str, Form(max_length=8)] = "",
    channel: Annotated[str, Form(max_length=16)] = "phone",
    email: Annotated[str, Form(max_length=254)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    agent_kind: Annotated[str, Form(max_length=32)] = "",
    agent_document: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Take a request (the values the person gave go in the body, are sealed, and are never echoed)."""
    who = signed_in(request)
    if who is None:
        return to_sign_in()
    if not csrf_ok(request, who, csrf):
        return error_page(request, who, csrf_refused())
    chosen = {
        "kind": kind,
        "regime": regime,
        "channel": channel,
        "agent_kind": agent_kind,
        "agent_document": agent_document,
    }
    try:
        data = RequestOpen.model_validate(
            {
                "kind": kind,
                "regime": regime or None,
                "channel": channel,
                "emails": [email.strip()] if email.strip() else [],
                "phones": [phone.strip()] if phone.strip() else [],
                "agent_kind": agent_kind or None,
                "agent_document": agent_document or None,
            }
        )
        with transaction(request, who) as ctx:
            v = service.open_request(ctx, data)
    except ValidationError as exc:
        err: MamoriError = invalid(exc, lang_of(request))
        return _intake_error(request, who, err, chosen)
    except PolicyDenied as denied:
        if denied.rule_id == "R-23-2":
            return error_page(request, who, denied)
        return _intake_error(request, who, denied, chosen)
    except MamoriError as failed:
        return _intake_error(request, who, failed, chosen)
    if can_manage(who):
        return RedirectResponse(f"/rights/{v.id}?done=opened", status_code=303)
    return templating.render(
        request,
        "rights/web_intake.html",
        page_ctx(request, who, view=v, rid=v.id, identifier_id=None, notice=OPENED),
    )


def _intake_error(request: Request, who: Principal, err: MamoriError, chosen: dict[str, str]) -> HTMLResponse:
    ctx = _intake_form(request, who)
    ctx.update(error=err, chosen=chosen)
    return templating.render(request, "rights/web_new.html", ctx, status_code=err.http_status)
