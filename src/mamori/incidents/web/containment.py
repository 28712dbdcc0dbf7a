"""The incident page's containment section (issue 22 "Deliver" 7; R-26-7: escalate and contain).

- ``GET  /incidents/{key}/containment`` — the fragment: the measures taken (what, target, counts, who, when) and a
  form for each step the user may take (disable an account, revoke its sessions or one session, revoke its API
  tokens or one token, suspend an outsourcee's contract, rotate the keys), each with a confirmation (a required
  check box, and htmx asks again before posting).
- ``POST /incidents/{key}/containment`` (``kind``, ``target``, ``confirm``) — the step, done and recorded; an htmx
  post re-renders the fragment with a notice, a plain post goes back to ``/incidents/{id}#containment``.
- ``POST /incidents/{key}/containment/sessions`` (``username``) — the fragment with that account's open sessions
  (ids and times), to pick the one to revoke. A POST so that no user name travels in a URL.

Thin: the services authorise (incident.read to view; incident.contain, then each slice's own action to act) and
audit. Every write needs the session's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.incidents.containment_schemas import (
    CONTAINMENT_KINDS,
    CONTAINMENT_LABELS,
    COUNT_LABELS,
    TARGETS,
    ContainmentIn,
)
from mamori.incidents.permissions import INCIDENT_CONTAIN
from mamori.incidents.service import containment as service
from mamori.incidents.service.register import find
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError, ValidationFailed
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import is_htmx, lang_of, render
from mamori.kernel.policy import Action, Resource, decide
from mamori.staff import service as staff_service

router = APIRouter(include_in_schema=False)
_KEY = re.compile(r"^(?:[0-9a-f]{32}|(?:INC-|inc-)?[0-9]{1,9})$")
Text = Annotated[str, Form()]
TARGET_WORDS = {
    "username": ("ユーザー名", "user name"),
    "session_id": ("セッション ID", "session id"),
    "token_id": ("API トークン ID", "API token id"),
    "contract_id": ("委託契約 ID", "contract id"),
}


@contextmanager
def _transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    # ids, codes and counts only: no purpose is declared
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=readonly) as ctx:
        yield ctx


def _allowed(ctx: Context) -> dict[str, bool]:
    """Which steps the user may take (the forms shown); the services decide again when a step is posted."""
    contain = decide(ctx, INCIDENT_CONTAIN, Resource(kind="incident")).allowed
    staff = contain and decide(ctx, Action.STAFF_CONTAIN, Resource(kind="staff")).allowed
    outsourcee = contain and decide(ctx, Action.PROCESSOR_MANAGE, Resource(kind="processor_contract")).allowed
    keys = contain and decide(ctx, Action.KEYS_ROTATE, Resource(kind="keys")).allowed
    return {
        kind: (keys if kind == "rotate_keys" else outsourcee if kind == "suspend_outsourcee" else staff)
        for kind in CONTAINMENT_KINDS
    }


def _fragment(
    request: Request,
    who: Principal,
    key: str,
    *,
    notice: str | None = None,
    failure: MamoriError | None = None,
    errors: list[dict[str, str]] | None = None,
    sessions_of: str | None = None,
    status: int = 200,
) -> Response:
    sessions: list[Any] | None = None
    try:
        with _transaction(request, who, readonly=True) as ctx:
            rows = service.measures(ctx, key)
            incident = find(ctx, key)
            allowed = _allowed(ctx)
            if sessions_of is not None:
                try:
                    sessions = staff_service.contain_sessions_of(ctx, sessions_of)
                except MamoriError as exc:
                    failure = exc
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/incidents")
    lang = lang_of(request)
    data: dict[str, Any] = {
        "incident": incident,
        "measures": rows,
        "kinds": CONTAINMENT_KINDS,
        "kind_labels": CONTAINMENT_LABELS,
        "count_labels": COUNT_LABELS,
        "targets": TARGETS,
        "target_words": TARGET_WORDS,
        "allowed": allowed,
        "sessions": sessions,
        "sessions_of": sessions_of,
        "notice": notice,
        "failure": failure.message(lang) if failure else None,
        "rule_id": failure.rule_id if failure else None,
        "errors": errors or [],
    }
    return render(
        request, "incidents/_containment.html", pages.page_context(request, who, **data), status_code=status
    )


@router.get("/incidents/{key}/containment", response_class=HTMLResponse)
def containment_fragment(request: Request, key: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    return _fragment(request, who, key)


def _unconfirmed() -> ValidationFailed:
    return ValidationFailed(
        "実施する前に確認欄にチェックしてください。",
        "Tick the confirmation box before taking the step.",
        code="not_confirmed",
    )


@router.post("/incidents/{key}/containment", response_class=HTMLResponse)
def take_step(
    request: Request, key: str, csrf: Text = "", kind: Text = "", target: Text = "", confirm: Text = ""
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    back = "/incidents"
    bad_input: ValidationError | None = None
    try:
        with _transaction(request, who) as ctx:
            # who may act is decided first (refused and audited): a refused role never learns about its input
            incident = service.authorise_contain(ctx, key)
            back = f"/incidents/{incident.id}#containment"
            try:
                step = ContainmentIn.model_validate({"kind": kind, "target": target.strip() or None})
            except ValidationError as exc:
                bad_input = exc
            else:
                if confirm != "yes":
                    raise _unconfirmed()
                measure = service.take(ctx, key, step)
    except MamoriError as exc:
        if is_htmx(request) and exc.http_status in (404, 409, 422) and exc.code != "incident_not_found":
            return _fragment(request, who, key, failure=exc, status=exc.http_status)
        return pages.refusal(request, who, exc, back=back)
    if bad_input is not None:
        return _invalid(request, who, key, bad_input, back)
    lang = lang_of(request)
    words = CONTAINMENT_LABELS[measure.kind][1 if lang == "en" else 0]
    notice = (
        f"{words}: done and recorded as a measure of the incident."
        if lang == "en"
        else f"{words}を実施し、事案の措置として記録しました。"
    )
    if is_htmx(request):
        return _fragment(request, who, key, notice=notice)
    return RedirectResponse(f"/incidents/{measure.incident_id}#containment", status_code=303)


def _invalid(request: Request, who: Principal, key: str, exc: ValidationError, back: str) -> Response:
    lang = lang_of(request)
    if is_htmx(request):
        return _fragment(request, who, key, errors=pages.form_errors(exc, lang), status=422)
    return pages.invalid(request, who, exc, back=back)


@router.post("/incidents/{key}/containment/sessions", response_class=HTMLResponse)
def show_sessions(request: Request, key: str, csrf: Text = "", username: Text = "") -> Response:
    """An account's open sessions, to pick one to revoke (``staff.contain``)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _KEY.match(key):
        return pages.not_found(request, who, back="/incidents")
    return _fragment(request, who, key, sessions_of=username.strip())
