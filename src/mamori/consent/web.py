"""Web pages of the consent slice (issue 15): consent, do-not-contact and stop-use — thin: parse, call the
service, render the template.

URLs (nothing personal in any of them: customer ids are opaque, purpose codes are not personal):

- ``GET  /consent`` — the stop-use lists (利用停止: all use, third-party provision, one purpose) with how many
  persons each holds, a form to open one customer's consents by its id (POST, never a name in a URL) and, for a
  role the service lets stop use, a form to add a person to a list.
- ``POST /consent/open`` — the customer id from that form → ``/consent/customers/{id}``.
- ``GET  /consent/suppressions/all`` · ``/consent/suppressions/provision`` · ``/consent/suppressions/purpose/{code}``
  — the persons on one list (opaque ids, since when, the request it names) with a lift button each.
- ``POST /consent/suppressions`` — add or lift (``action=stop|resume``) from the overview or a list.
- ``GET  /consent/customers/{id}`` — one customer: consent per purpose (同意あり / 撤回済み / 未取得, the date and
  the method), consent to acquiring 要配慮個人情報, do-not-contact per channel, stop-use, and the ledger.
- ``POST /consent/customers/{id}/purposes`` (grant / withdraw), ``…/sensitive`` (grant / withdraw),
  ``…/contact`` (do-not-contact / allow per channel), ``…/suppression`` (stop / resume).

The service authorises (CONSENT_READ / CONSENT_RECORD with their row scope; RIGHTS_MANAGE for stop-use), checks
(R-CNS-1, R-R8-4, R-35-1) and audits; a view only maps its answer to a page. A customer outside the user's scope
and an unknown one get the same 404 page. The ledger holds ids and codes, not personal values: the page shows the
customer's opaque id only (the name is on the customer page, opened for a purpose). Every write needs the
session's CSRF token; every page carries the CSP and ``no-store`` (``render``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.consent import service
from mamori.consent.schemas import CHANNELS, GUARDIANS, ConsentEventRead, ConsentIn, ConsentSummary
from mamori.consent.service import ALL_PURPOSES, PROVISION, SUPPRESSION_SCOPES
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import is_htmx, lang_of, render
from mamori.kernel.labels import label
from mamori.kernel.policy import OPT_IN_CHANNELS, Action
from mamori.kernel.policy.actions import scope_for
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeRead

TEMPLATES = Path(__file__).resolve().parent / "templates"
router = APIRouter(include_in_schema=False)

_ID = re.compile(r"^[0-9a-f]{32}$")
_PURPOSE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
METHODS = (
    "oral",
    "paper",
    "email",
    "web_form",
    "checkbox",
    "button",
)  # as the CLI offers (import is for imports)
ACTIONS = ("grant", "withdraw")
MAX_INPUT = 256  # a form value longer than this is refused (422 page) before anything else
Csrf = Annotated[str, Form()]
Short = Annotated[str, Form()]


# -- the signed-in user, transactions, presentation helpers ----------------------------------------------------------


def _lang(request: Request) -> str:
    return lang_of(request)


@contextmanager
def _transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    # CONSENT_READ / CONSENT_RECORD use ids and codes only: no purpose of use is declared (as the REST API)
    with runtime_of(request).transaction(who.actor, None, lang=_lang(request), readonly=readonly) as ctx:
        yield ctx


def _can(who: Principal, action: Action) -> bool:
    """Only chooses which forms to show; the service still decides on every write."""
    return scope_for(who.actor.role, action) is not None


def _title(purposes: list[PurposeRead], lang: str) -> Any:
    by_code = {p.code: (p.title_en if lang == "en" else p.title_ja) for p in purposes}

    def title(target: str) -> str:
        if target == ALL_PURPOSES:
            return label("web_consent.scope_all", lang)
        if target == PROVISION:
            return label("web_consent.scope_provision", lang)
        return by_code.get(target, target)

    return title


def _list_url(scope: str, purpose: str | None) -> str:
    return (
        f"/consent/suppressions/purpose/{purpose}" if scope == "purpose" else f"/consent/suppressions/{scope}"
    )


def _common(request: Request, who: Principal, purposes: list[PurposeRead], **extra: Any) -> dict[str, Any]:
    lang = _lang(request)
    return pages.page_context(
        request,
        who,
        purposes=purposes,
        active=[p for p in purposes if not p.retired],
        title=_title(purposes, lang),
        list_url=_list_url,
        can_record=_can(who, Action.CONSENT_RECORD),
        can_stop=_can(who, Action.RIGHTS_MANAGE),
        methods=METHODS,
        guardians=GUARDIANS,
        channels=CHANNELS,
        opt_in_channels=OPT_IN_CHANNELS,
        channel_state=channel_state,
        scopes=SUPPRESSION_SCOPES,
        **extra,
    )


def _bad(request: Request, who: Principal, key: str, back: str = "/consent") -> HTMLResponse:
    """Input that is not one of the choices: 422 in words (the value is never echoed)."""
    lang = _lang(request)
    return pages.error_page(request, who, 422, label(f"web_consent.{key}", lang), back=back)


def _too_long(*values: str) -> bool:
    return any(len(v) > MAX_INPUT for v in values)


def _purposes(ctx: Context) -> list[PurposeRead]:
    return purposes_service.list_purposes(ctx, include_retired=True)


# -- the overview: stop-use lists and the way to one customer ----------------------------------------------------------


@router.get("/consent", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    try:
        with _transaction(request, who, readonly=True) as ctx:
            lists = service.suppression_lists(ctx)
            purposes = _purposes(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc)
    return render(request, "consent/overview.html", _common(request, who, purposes, lists=lists))


@router.post("/consent/open")
def open_customer(request: Request, csrf: Csrf = "", customer_id: Short = "") -> Response:
    """The customer id typed or pasted (not a name: search is on the customer screen) → that customer's page."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    cid = customer_id.strip().lower()
    if _too_long(customer_id) or not _ID.match(cid):
        return _bad(request, who, "bad_customer_id")
    return RedirectResponse(f"/consent/customers/{cid}", status_code=303)


def _list_page(
    request: Request, who: Principal, scope: str, purpose: str | None, *, saved: str | None = None
) -> HTMLResponse:
    try:
        with _transaction(request, who, readonly=True) as ctx:
            people = service.suppressed(ctx, scope, purpose)
            purposes = _purposes(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/consent")
    target = ALL_PURPOSES if scope == "all" else PROVISION if scope == "provision" else str(purpose)
    data = _common(
        request, who, purposes, people=people, scope=scope, purpose=purpose, target=target, saved=saved
    )
    return render(request, "consent/suppressions.html", data)


@router.get("/consent/suppressions/{scope}", response_class=HTMLResponse)
def suppression_list(request: Request, scope: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if scope not in ("all", "provision"):
        return pages.not_found(request, who, back="/consent")
    return _list_page(request, who, scope, None)


@router.get("/consent/suppressions/purpose/{code}", response_class=HTMLResponse)
def suppression_list_for_purpose(request: Request, code: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _PURPOSE.match(code):
        return pages.not_found(request, who, back="/consent")
    return _list_page(request, who, "purpose", code)


def _stop_input(
    request: Request, who: Principal, action: str, scope: str, purpose: str, reference: str, back: str
) -> tuple[str, str | None, str] | HTMLResponse:
    """(scope, purpose or None, reference) from a stop-use form, or the 422 page."""
    if _too_long(action, scope, purpose, reference):
        return _bad(request, who, "too_long", back)
    if action not in ("stop", "resume"):
        return _bad(request, who, "bad_choice", back)
    if scope not in SUPPRESSION_SCOPES:
        return _bad(request, who, "bad_scope", back)
    if scope == "purpose" and not _PURPOSE.match(purpose):
        return _bad(request, who, "bad_purpose", back)
    ref = reference.strip()
    if not ref or len(ref) > 200:
        return _bad(request, who, "bad_reference", back)
    return scope, (purpose if scope == "purpose" else None), ref


def _stop(ctx: Context, cid: str, action: str, scope: str, purpose: str | None, ref: str) -> None:
    fn = service.suppress if action == "stop" else service.lift_suppression
    fn(ctx, cid, scope, purpose, ref)


@router.post("/consent/suppressions", response_class=HTMLResponse)
def change_suppression(
    request: Request,
    csrf: Csrf = "",
    customer_id: Short = "",
    action: Short = "stop",
    scope: Short = "",
    purpose: Short = "",
    reference: Short = "",
) -> Response:
    """Add a person to a stop-use list or lift it (``service.suppress`` / ``lift_suppression``, R-35-1)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    cid = customer_id.strip().lower()
    if _too_long(customer_id) or not _ID.match(cid):
        return _bad(request, who, "bad_customer_id")
    parsed = _stop_input(request, who, action, scope, purpose, reference, "/consent")
    if isinstance(parsed, HTMLResponse):
        return parsed
    scope_, purpose_, ref = parsed
    try:
        with _transaction(request, who) as ctx:
            _stop(ctx, cid, action, scope_, purpose_, ref)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/consent")
    return _list_page(request, who, scope_, purpose_, saved=action)


# -- one customer ---------------------------------------------------------------------------------------------------


def _last(summary: ConsentSummary) -> dict[tuple[str, str], ConsentEventRead]:
    """The newest ledger line per (kind, target): what the state's date and method come from."""
    return {(e.kind, e.target): e for e in summary.events}


def channel_state(last: dict[tuple[str, str], ConsentEventRead], channel: str) -> str:
    """A channel's state (issue 20): opt_in (opted in, or a do-not-contact lifted), opt_out, or none."""
    e = last.get(("channel", channel))
    return e.action if e is not None and e.action in ("opt_in", "opt_out") else "none"


def _customer_page(
    request: Request,
    who: Principal,
    cid: str,
    *,
    saved: bool = False,
) -> HTMLResponse:
    try:
        with _transaction(request, who, readonly=True) as ctx:
            summary = service.show(ctx, cid)
            purposes = _purposes(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/consent")
    shown = [p for p in purposes if not p.retired or p.code in summary.purposes]
    data = _common(
        request,
        who,
        purposes,
        cid=cid,
        s=summary,
        shown=shown,
        last=_last(summary),
        saved=saved,
        oob=False,
    )
    if is_htmx(request) and saved:
        return render(request, "consent/_saved.html", {**data, "oob": True})
    return render(request, "consent/customer.html", data)


@router.get("/consent/customers/{cid}", response_class=HTMLResponse)
def customer_page(request: Request, cid: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(cid):
        return pages.not_found(request, who, back="/consent")
    return _customer_page(request, who, cid)


@router.get("/consent/customers/{cid}/summary", response_class=HTMLResponse)
def customer_summary(request: Request, cid: str) -> Response:
    """The customer page's consent block (htmx, loaded with the page): consent per purpose, do-not-contact per
    channel and stops, read through the same service (and audit) as the full page; forms stay on the full page."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(cid):
        return pages.not_found(request, who, back="/consent")
    try:
        with _transaction(request, who, readonly=True) as ctx:
            summary = service.show(ctx, cid)
            purposes = _purposes(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/consent")
    shown = [p for p in purposes if p.code in summary.purposes or p.consent_appi or p.consent_gdpr]
    data = _common(request, who, purposes, cid=cid, s=summary, shown=shown, last=_last(summary))
    return render(request, "consent/_summary.html", data)


def _consent_in(
    request: Request, who: Principal, cid: str, method: str, evidence: str, notice_version: str, guardian: str
) -> ConsentIn | HTMLResponse:
    back = f"/consent/customers/{cid}"
    if _too_long(method, evidence, notice_version, guardian):
        return _bad(request, who, "too_long", back)
    if method not in METHODS:
        return _bad(request, who, "bad_method", back)
    if guardian and guardian not in GUARDIANS:
        return _bad(request, who, "bad_guardian", back)
    try:
        return ConsentIn.model_validate(
            {
                "method": method,
                "evidence": evidence.strip() or None,
                "notice_version": notice_version.strip() or None,
                "guardian": guardian or None,
            }
        )
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back=back)


def _write(request: Request, who: Principal, cid: str, write: Any) -> HTMLResponse:
    back = f"/consent/customers/{cid}"
    try:
        with _transaction(request, who) as ctx:
            write(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=back)
    return _customer_page(request, who, cid, saved=True)


def _guard(request: Request, cid: str, csrf: str) -> Principal | Response:
    """Signed in, a well-formed id, the session's CSRF token: the checks every write of this page makes first."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(cid):
        return pages.not_found(request, who, back="/consent")
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    return who


@router.post("/consent/customers/{cid}/purposes", response_class=HTMLResponse)
def record_purpose(
    request: Request,
    cid: str,
    csrf: Csrf = "",
    action: Short = "",
    purpose: Short = "",
    method: Short = "",
    evidence: Short = "",
    notice_version: Short = "",
    guardian: Short = "",
) -> Response:
    """Consent to a purpose or its withdrawal (``consent grant|withdraw -p``; withdrawal effective at once)."""
    who = _guard(request, cid, csrf)
    if not isinstance(who, Principal):
        return who
    back = f"/consent/customers/{cid}"
    if _too_long(action, purpose):
        return _bad(request, who, "too_long", back)
    if action not in ACTIONS:
        return _bad(request, who, "bad_choice", back)
    if not _PURPOSE.match(purpose):
        return _bad(request, who, "bad_purpose", back)
    with _transaction(request, who, readonly=True) as ctx:
        known = any(p.code == purpose for p in _purposes(ctx))
    if not known:
        return _bad(request, who, "bad_purpose", back)
    data = _consent_in(request, who, cid, method, evidence, notice_version, guardian)
    if isinstance(data, HTMLResponse):
        return data
    fn = service.grant if action == "grant" else service.withdraw
    return _write(request, who, cid, lambda ctx: fn(ctx, cid, purpose, data))


@router.post("/consent/customers/{cid}/sensitive", response_class=HTMLResponse)
def record_sensitive(
    request: Request,
    cid: str,
    csrf: Csrf = "",
    action: Short = "",
    method: Short = "",
    evidence: Short = "",
    guardian: Short = "",
) -> Response:
    """Consent to acquiring 要配慮個人情報 or its withdrawal (R-20-2)."""
    who = _guard(request, cid, csrf)
    if not isinstance(who, Principal):
        return who
    if action not in ACTIONS:
        return _bad(request, who, "bad_choice", f"/consent/customers/{cid}")
    data = _consent_in(request, who, cid, method, evidence, "", guardian)
    if isinstance(data, HTMLResponse):
        return data
    fn = service.grant_sensitive if action == "grant" else service.withdraw_sensitive
    return _write(request, who, cid, lambda ctx: fn(ctx, cid, data))


@router.post("/consent/customers/{cid}/contact", response_class=HTMLResponse)
def record_contact(
    request: Request,
    cid: str,
    csrf: Csrf = "",
    channel: Short = "",
    allow: Short = "",
    method: Short = "oral",
    evidence: Short = "",
    notice_version: Short = "",
) -> Response:
    """Do-not-contact for one channel (seed 003: 「二度と電話しないで」, R-35-1), or with ``allow=1`` the person's
    opt-in to the channel — contact allowed again, and the prior consent advertising e-mail / SMS needs (TE-3) —
    with its method and evidence."""
    who = _guard(request, cid, csrf)
    if not isinstance(who, Principal):
        return who
    back = f"/consent/customers/{cid}"
    if channel not in CHANNELS:  # the channels the service accepts (schemas.CHANNELS)
        return _bad(request, who, "bad_channel", back)
    if allow not in ("", "0", "1"):
        return _bad(request, who, "bad_choice", back)
    data = _consent_in(request, who, cid, method, evidence, notice_version, "")
    if isinstance(data, HTMLResponse):
        return data
    fn = service.allow_contact if allow == "1" else service.do_not_contact
    return _write(request, who, cid, lambda ctx: fn(ctx, cid, channel, data))


@router.post("/consent/customers/{cid}/suppression", response_class=HTMLResponse)
def record_suppression(
    request: Request,
    cid: str,
    csrf: Csrf = "",
    action: Short = "stop",
    scope: Short = "",
    purpose: Short = "",
    reference: Short = "",
) -> Response:
    """Stop use (one purpose, all, third-party provision) or resume it, from the customer's page (R-35-1)."""
    who = _guard(request, cid, csrf)
    if not isinstance(who, Principal):
        return who
    parsed = _stop_input(request, who, action, scope, purpose, reference, f"/consent/customers/{cid}")
    if isinstance(parsed, HTMLResponse):
        return parsed
    scope_, purpose_, ref = parsed
    return _write(request, who, cid, lambda ctx: _stop(ctx, cid, action, scope_, purpose_, ref))
