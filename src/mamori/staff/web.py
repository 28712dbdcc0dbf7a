"""Web pages of the staff slice (issue 15): staff administration (admin) and the first-sign-in TOTP enrolment.

Staff administration — thin: parse, call the service (which authorises ``STAFF_MANAGE`` and audits), render:

- ``GET  /staff`` — every staff member: name, user name, role in words, active, 2FA enrolled, locked;
- ``GET  /staff/new`` + ``POST /staff/new`` — add (user name, name, role, team, an initial password or a generated
  one shown once on the result page);
- ``GET  /staff/{staff_id}`` — one staff member with their API tokens and the actions;
- ``POST /staff/{staff_id}/disable`` and ``/reset-2fa`` — first a confirmation page, then with ``confirm=1`` the
  action; ``POST /staff/{staff_id}/enable``;
- ``POST /staff/{staff_id}/tokens`` — issue a SERVICE ACCOUNT's API token (admin; issue 17): the token is on
  that response only, never again; a person's tokens are made by that person only;
- ``GET /staff/me/tokens`` + ``POST /staff/me/tokens`` — anyone signed in with a verification code: their own
  tokens and a new one (the owner's role; acts as the owner);
- ``POST /staff/tokens/{token_id}/revoke`` — confirmation, then with ``confirm=1`` the revocation (an admin any
  token, anyone their own);
- ``GET /staff/training`` — 研修・誓約 (R-23-3, issue 21): everyone's own status and the pledge with its sign
  button (``POST /staff/training/sign``); for the privacy officer and the admin also the courses (``POST
  /staff/training/courses``, ``…/courses/{code}/retire``), the overdue list by user name, recording a completion
  (``POST /staff/training/record``), publishing a pledge version (``POST /staff/training/pledges``) and the policy
  switch (``POST /staff/training/policy``).

``POST /staff/new`` with ``kind=service`` adds a service account (a machine client: no password, no sign-in).

Staff are named in paths by their opaque id (never the user name); every write is a POST with the session's CSRF
token (no GET has a side effect).

First-sign-in enrolment — the web sign-in (``mamori.web.app.sign_in``) calls ``sign_in(…, enrol=True)``; for an
account that must enrol, it renders :func:`enrolment_page` (the QR code as inline SVG made by segno, the key for
manual entry, a field for the code). The form posts to ``POST /sign-in/enrol`` here with its opaque ticket, which
calls ``finish_enrolment``: the right code signs in (the same session cookie as the sign-in), a wrong one shows
the page again with the error, an expired or unknown ticket goes back to the sign-in form.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from mamori.kernel import registry
from mamori.kernel.auditing import authorise
from mamori.kernel.context import SYSTEM_ACTOR, Context, Role
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import lang_of, render
from mamori.kernel.labels import fmt_datetime, label
from mamori.kernel.policy import Resource, decide
from mamori.staff import service
from mamori.staff.permissions import STAFF_MANAGE
from mamori.staff.schemas import (
    MAX_PLEDGE_BODY,
    TRAINABLE_ROLES,
    ApiTokenCreate,
    CompletionCreate,
    CourseCreate,
    EnrolmentStarted,
    PledgePublish,
    PledgeSign,
    ServiceAccountCreate,
    StaffCreate,
    StaffRead,
    TrainingPolicyUpdate,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"
router = APIRouter(include_in_schema=False)

SESSION_COOKIE = "__Host-mamori_session"  # the API's and the web sign-in's session cookie
_ID = re.compile(r"^[0-9a-f]{32}$")
STAFF_ROLES: tuple[str, ...] = tuple(
    r.value for r in Role if r not in (Role.SYSTEM, Role.PERSON)
)  # the roles a staff account may have
GENERATED_PASSWORD_BYTES = 15  # 20 URL-safe characters (120 bits)
Csrf = Annotated[str, Form(max_length=128)]
Confirm = Annotated[str, Form(max_length=1)]


# -- the signed-in user, transactions, the same check the service makes -------------------------------------------


@contextmanager
def _transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=readonly) as ctx:
        yield ctx


def _may_manage(request: Request, who: Principal) -> MamoriError | None:
    """The service's own check (``STAFF_MANAGE``), audited when it refuses — for pages that only show a form."""
    try:
        with _transaction(request, who, readonly=True) as ctx:
            authorise(ctx, STAFF_MANAGE, Resource(kind="staff"))
    except MamoriError as exc:
        return exc
    return None


def _is_admin(request: Request, who: Principal) -> bool:
    """Whether the user manages staff (no audit entry: this only picks the page to go back to)."""
    with _transaction(request, who, readonly=True) as ctx:
        return decide(ctx, STAFF_MANAGE, Resource(kind="staff")).allowed


def _refusal(request: Request, who: Principal, exc: MamoriError, *, back: str = "/staff") -> HTMLResponse:
    return pages.refusal(
        request, who, exc, not_found_message=label("web_staff.not_found", lang_of(request)), back=back
    )


def _not_found(request: Request, who: Principal) -> HTMLResponse:
    return pages.not_found(request, who, label("web_staff.not_found", lang_of(request)), back="/staff")


def _common(request: Request, who: Principal, **extra: Any) -> dict[str, Any]:
    return pages.page_context(request, who, roles=STAFF_ROLES, **extra)


# -- the list -------------------------------------------------------------------------------------------------------


@router.get("/staff", response_class=HTMLResponse)
def staff_list(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    try:
        with _transaction(request, who, readonly=True) as ctx:
            users = service.overview(ctx)
    except MamoriError as exc:
        return _refusal(request, who, exc, back="/")
    return render(request, "staff/list.html", _common(request, who, users=users))


# -- add ------------------------------------------------------------------------------------------------------------


@router.get("/staff/new", response_class=HTMLResponse)
def new_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    refused = _may_manage(request, who)
    if refused is not None:
        return _refusal(request, who, refused)
    return render(request, "staff/new.html", _common(request, who))


@router.post("/staff/new", response_class=HTMLResponse)
def add(
    request: Request,
    csrf: Csrf = "",
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    team: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    kind: Annotated[str, Form(max_length=16)] = "staff",
) -> Response:
    """Add a staff member with an initial password (the typed one, or a generated one shown once), or with
    ``kind=service`` a service account (no password: it never signs in)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if kind not in ("staff", "service"):
        return _not_found(request, who)
    model = ServiceAccountCreate if kind == "service" else StaffCreate
    try:
        data = model.model_validate(
            {
                "username": username.strip(),
                "display_name": display_name.strip(),
                "role": role,
                "team": team.strip() or None,
            }
        )
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back="/staff/new")
    if not data.display_name:
        data = data.model_copy(update={"display_name": data.username})
    if isinstance(data, ServiceAccountCreate):
        try:
            with _transaction(request, who) as ctx:
                user = service.add_service(ctx, data)
        except MamoriError as exc:
            return _refusal(request, who, exc, back="/staff/new")
        context = _common(request, who, user=user, generated_password=None, service_account=True)
        return render(request, "staff/added.html", context, status_code=201)
    generated = password == ""
    initial = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES) if generated else password
    try:
        with _transaction(request, who) as ctx:  # one transaction: no account without its password
            user = service.add(ctx, data)
            user = service.set_password(ctx, user.username, initial)
    except MamoriError as exc:
        return _refusal(request, who, exc, back="/staff/new")
    context = _common(request, who, user=user, generated_password=initial if generated else None)
    return render(request, "staff/added.html", context, status_code=201)


# -- my own API tokens (issue 17) ---------------------------------------------------------------------------------

MY_TOKENS = "/staff/me/tokens"


def _mine(request: Request, who: Principal, *, notice: str | None = None, status: int = 200) -> HTMLResponse:
    try:
        with _transaction(request, who, readonly=True) as ctx:
            tokens = service.list_tokens(ctx, who.actor.name)
    except MamoriError as exc:
        return _refusal(request, who, exc, back="/")
    return render(
        request, "staff/mine.html", _common(request, who, tokens=tokens, notice=notice), status_code=status
    )


@router.get(MY_TOKENS, response_class=HTMLResponse)
def my_tokens(request: Request) -> Response:
    """My API tokens and the form for a new one (it acts as me, with my role)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    return _mine(request, who)


@router.post(MY_TOKENS, response_class=HTMLResponse)
def create_my_token(
    request: Request,
    csrf: Csrf = "",
    name: Annotated[str, Form(max_length=200)] = "",
    purposes: Annotated[str, Form(max_length=4000)] = "",
    expires_in_days: Annotated[str, Form(max_length=8)] = "90",
) -> Response:
    """Create my own token: only from a session signed in with a verification code (the service checks it)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    try:
        data = _token_data(name, purposes, expires_in_days)
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back=MY_TOKENS)
    try:
        with _transaction(request, who) as ctx:
            issued = service.create_token(ctx, who.actor.name, data, session_digest=_digest(who))
    except MamoriError as exc:
        return _refusal(request, who, exc, back=MY_TOKENS)
    me = {"display_name": who.actor.name, "username": who.actor.name, "id": who.actor.id}
    context = _common(request, who, user=me, issued=issued, back=MY_TOKENS)
    return render(request, "staff/token_issued.html", context, status_code=201)


# -- training and pledges (R-23-3, issue 21) ------------------------------------------------------------------------

TRAINING = "/staff/training"
_COURSE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _training(
    request: Request,
    who: Principal,
    *,
    notice: str | None = None,
    status: int = 200,
    signed: bool = False,
) -> HTMLResponse:
    """The 研修・誓約 page: my own status and the pledge to sign (everyone); for the officer and the admin also
    the courses, who is overdue (by user name), the forms and the policy switch."""
    try:
        with _transaction(request, who, readonly=True) as ctx:
            mine = service.status_of(ctx, None)
            pledge = service.latest_pledge(ctx)
            manage = service.training.may_manage(ctx)
            courses = service.list_courses(ctx, include_retired=True) if manage else []
            overdue = service.overdue(ctx) if manage else []
            policy = service.policy(ctx) if manage else None
            versions = service.list_pledges(ctx) if manage else []
    except MamoriError as exc:
        return _refusal(request, who, exc, back="/")
    context = _common(
        request,
        who,
        mine=mine,
        pledge=pledge,
        manage=manage,
        courses=courses,
        overdue=overdue,
        policy=policy,
        versions=versions,
        trainable=[r.value for r in TRAINABLE_ROLES],
        notice=notice,
        signed=signed,
    )
    return render(request, "staff/training.html", context, status_code=status)


@router.get(TRAINING, response_class=HTMLResponse)
def training_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    return _training(request, who)


def _training_write(request: Request, who: Principal, csrf: str) -> HTMLResponse | None:
    """The checks every training form makes before it acts: CSRF (same site, the session's token)."""
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    return None


@router.post(TRAINING + "/sign", response_class=HTMLResponse)
def training_sign(
    request: Request, csrf: Csrf = "", version: Annotated[str, Form(max_length=8)] = ""
) -> Response:
    """Sign the latest pledge myself; ``version`` is the version shown on the page (refused if a newer one came)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    refused = _training_write(request, who, csrf)
    if refused is not None:
        return refused
    try:
        data = PledgeSign.model_validate({"version": version or None})
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back=TRAINING)
    try:
        with _transaction(request, who) as ctx:
            service.sign_pledge(ctx, data)
    except MamoriError as exc:
        return _refusal(request, who, exc, back=TRAINING)
    return _training(
        request, who, notice=t_(request, "誓約書に署名しました。", "You signed the pledge."), signed=True
    )


def t_(request: Request, ja: str, en: str) -> str:
    return en if lang_of(request) == "en" else ja


@router.post(TRAINING + "/courses", response_class=HTMLResponse)
def training_course_add(
    request: Request,
    csrf: Csrf = "",
    code: Annotated[str, Form(max_length=200)] = "",
    title: Annotated[str, Form(max_length=400)] = "",
    validity_days: Annotated[str, Form(max_length=8)] = "",
    required: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    refused = _training_write(request, who, csrf)
    if refused is not None:
        return refused
    try:
        data = CourseCreate.model_validate(
            {
                "code": code.strip(),
                "title": title,
                "validity_days": validity_days.strip(),
                "required": required == "1",
            }
        )
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back=TRAINING)
    try:
        with _transaction(request, who) as ctx:
            course = service.add_course(ctx, data)
    except MamoriError as exc:
        return _refusal(request, who, exc, back=TRAINING)
    notice = t_(request, f"研修コースを追加しました: {course.code}", f"Course added: {course.code}")
    return _training(request, who, notice=notice, status=201)


@router.post(TRAINING + "/courses/{code}/retire", response_class=HTMLResponse)
def training_course_retire(request: Request, code: str, csrf: Csrf = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    refused = _training_write(request, who, csrf)
    if refused is not None:
        return refused
    if not _COURSE.match(code):
        return _not_found(request, who)
    try:
        with _transaction(request, who) as ctx:
            course = service.retire_course(ctx, code)
    except MamoriError as exc:
        return _refusal(request, who, exc, back=TRAINING)
    return _training(
        request, who, notice=t_(request, f"廃止しました: {course.code}", f"Retired: {course.code}")
    )


@router.post(TRAINING + "/record", response_class=HTMLResponse)
def training_record(
    request: Request,
    csrf: Csrf = "",
    username: Annotated[str, Form(max_length=200)] = "",
    course: Annotated[str, Form(max_length=200)] = "",
    completed_on: Annotated[str, Form(max_length=32)] = "",
    reference: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    refused = _training_write(request, who, csrf)
    if refused is not None:
        return refused
    try:
        data = CompletionCreate.model_validate(
            {
                "username": username.strip(),
                "course": course.strip(),
                "completed_on": completed_on.strip() or None,
                "reference": reference.strip() or None,
            }
        )
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back=TRAINING)
    try:
        with _transaction(request, who) as ctx:
            done = service.record_completion(ctx, data)
    except MamoriError as exc:
        return _refusal(request, who, exc, back=TRAINING)
    notice = t_(request, f"受講を記録しました: {done.username}", f"Completion recorded: {done.username}")
    return _training(request, who, notice=notice, status=201)


@router.post(TRAINING + "/pledges", response_class=HTMLResponse)
def training_publish(
    request: Request,
    csrf: Csrf = "",
    title: Annotated[str, Form(max_length=400)] = "",
    body: Annotated[str, Form(max_length=MAX_PLEDGE_BODY + 1000)] = "",
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    refused = _training_write(request, who, csrf)
    if refused is not None:
        return refused
    try:
        data = PledgePublish.model_validate({"title": title, "body": body})
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back=TRAINING)
    try:
        with _transaction(request, who) as ctx:
            version = service.publish_pledge(ctx, data)
    except MamoriError as exc:
        return _refusal(request, who, exc, back=TRAINING)
    notice = t_(
        request,
        f"誓約書の第{version.version}版を公開しました。全員の署名が必要です。",
        f"Pledge version {version.version} published; everyone must sign it.",
    )
    return _training(request, who, notice=notice, status=201)


@router.post(TRAINING + "/policy", response_class=HTMLResponse)
def training_policy(
    request: Request,
    csrf: Csrf = "",
    enforced: Annotated[str, Form(max_length=1)] = "",
    roles: Annotated[list[str] | None, Form(max_length=10)] = None,
) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    refused = _training_write(request, who, csrf)
    if refused is not None:
        return refused
    try:
        data = TrainingPolicyUpdate.model_validate({"enforced": enforced == "1", "roles": roles or []})
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back=TRAINING)
    try:
        with _transaction(request, who) as ctx:
            service.set_policy(ctx, data.enforced, data.roles)
    except MamoriError as exc:
        return _refusal(request, who, exc, back=TRAINING)
    return _training(request, who, notice=t_(request, "設定を保存しました。", "Policy saved."))


# -- one staff member -----------------------------------------------------------------------------------------------


def _show(
    request: Request,
    who: Principal,
    staff_id: str,
    *,
    notice: str | None = None,
    status: int = 200,
    holdings: bool = False,
) -> HTMLResponse:
    try:
        with _transaction(request, who, readonly=True) as ctx:
            user = service.get(ctx, staff_id)
            tokens = service.list_tokens(ctx, user.username)
            held = registry.staff_holdings(ctx, staff_id) if holdings or not user.active else []
    except MamoriError as exc:
        return _refusal(request, who, exc)
    lang = lang_of(request)
    data = _common(
        request,
        who,
        user=user,
        tokens=tokens,
        notice=label(notice, lang) if notice else None,
        is_me=user.id == who.actor.id,
        holdings=held,
    )
    return render(request, "staff/show.html", data, status_code=status)


@router.get("/staff/{staff_id}", response_class=HTMLResponse)
def show_page(request: Request, staff_id: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(staff_id):
        return _not_found(request, who)
    return _show(request, who, staff_id)


def _target(request: Request, who: Principal, staff_id: str) -> StaffRead | HTMLResponse:
    """The staff member a POST acts on (the service refuses a non-admin here, audited)."""
    if not _ID.match(staff_id):
        return _not_found(request, who)
    try:
        with _transaction(request, who, readonly=True) as ctx:
            return service.get(ctx, staff_id)
    except MamoriError as exc:
        return _refusal(request, who, exc)


def _confirm_page(request: Request, who: Principal, **extra: Any) -> HTMLResponse:
    return render(request, "staff/confirm.html", _common(request, who, **extra))


@router.post("/staff/{staff_id}/disable", response_class=HTMLResponse)
def disable(request: Request, staff_id: str, csrf: Csrf = "", confirm: Confirm = "") -> Response:
    """Disable an account (sessions and API tokens revoked): first the question, then with ``confirm=1``."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    user = _target(request, who, staff_id)
    if isinstance(user, HTMLResponse):
        return user
    if confirm != "1":
        return _confirm_page(
            request, who, user=user, action="disable", holdings=_holdings(request, who, user.id)
        )
    try:
        with _transaction(request, who) as ctx:
            service.disable(ctx, user.username)
    except MamoriError as exc:
        return _refusal(request, who, exc, back=f"/staff/{staff_id}")
    return _show(request, who, staff_id, notice="web_staff.disabled_done", holdings=True)


def _holdings(request: Request, who: Principal, staff_id: str) -> list[registry.StaffHolding]:
    """What the staff member still holds (issue 21: customers owned → the handover wizard); counts only."""
    with _transaction(request, who, readonly=True) as ctx:
        return registry.staff_holdings(ctx, staff_id)


@router.post("/staff/{staff_id}/enable", response_class=HTMLResponse)
def enable(request: Request, staff_id: str, csrf: Csrf = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    user = _target(request, who, staff_id)
    if isinstance(user, HTMLResponse):
        return user
    try:
        with _transaction(request, who) as ctx:
            service.enable(ctx, user.username)
    except MamoriError as exc:
        return _refusal(request, who, exc, back=f"/staff/{staff_id}")
    return _show(request, who, staff_id, notice="web_staff.enabled_done")


@router.post("/staff/{staff_id}/reset-2fa", response_class=HTMLResponse)
def reset_2fa(request: Request, staff_id: str, csrf: Csrf = "", confirm: Confirm = "") -> Response:
    """Remove the second factor and end the sessions; the person enrols again at the next sign-in."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    user = _target(request, who, staff_id)
    if isinstance(user, HTMLResponse):
        return user
    if confirm != "1":
        return _confirm_page(request, who, user=user, action="reset-2fa")
    try:
        with _transaction(request, who) as ctx:
            service.reset_2fa(ctx, user.username)
    except MamoriError as exc:
        return _refusal(request, who, exc, back=f"/staff/{staff_id}")
    if user.id == who.actor.id:  # an admin who reset their own 2FA has just ended their own session
        return pages.to_sign_in()
    return _show(request, who, staff_id, notice="web_staff.reset_done")


# -- API tokens -----------------------------------------------------------------------------------------------------


@router.post("/staff/{staff_id}/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    staff_id: str,
    csrf: Csrf = "",
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    purposes: Annotated[str, Form(max_length=4000)] = "",
    expires_in_days: Annotated[str, Form(max_length=8)] = "90",
) -> Response:
    """Issue an API token; the token is in this response only (stored as its SHA-256, never shown again)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    user = _target(request, who, staff_id)
    if isinstance(user, HTMLResponse):
        return user
    back = f"/staff/{staff_id}"
    try:
        data = _token_data(name, purposes, expires_in_days, role)
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back=back)
    try:
        with _transaction(request, who) as ctx:
            issued = service.create_token(ctx, user.username, data, session_digest=_digest(who))
    except MamoriError as exc:
        return _refusal(request, who, exc, back=back)
    context = _common(request, who, user=user, issued=issued, back=back)
    return render(request, "staff/token_issued.html", context, status_code=201)


def _digest(who: Principal) -> str | None:
    return who.session_token_hash.decode() if who.session_token_hash else None


def _token_data(name: str, purposes: str, expires_in_days: str, role: str = "") -> ApiTokenCreate:
    return ApiTokenCreate.model_validate(
        {
            "name": name.strip(),
            "role": role or None,
            "purposes": [p for p in re.split(r"[\s,、，]+", purposes) if p],
            "expires_in_days": expires_in_days.strip() or "90",
        }
    )


@router.post("/staff/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke_token(request: Request, token_id: str, csrf: Csrf = "", confirm: Confirm = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _ID.match(token_id):
        return _not_found(request, who)
    admin = _is_admin(request, who)
    try:
        if confirm != "1":
            with _transaction(request, who, readonly=True) as ctx:
                token = next((t for t in service.list_tokens(ctx) if t.id == token_id), None)
            if token is None:
                refused = None if admin else _may_manage(request, who)  # another's token: audited refusal
                return _refusal(request, who, refused) if refused else _not_found(request, who)
            back = f"/staff/{token.staff_id}" if admin else MY_TOKENS
            return _confirm_page(request, who, token=token, action="revoke", back_url=back)
        with _transaction(request, who) as ctx:
            token = service.revoke_token(ctx, token_id)
    except MamoriError as exc:
        return _refusal(request, who, exc, back="/staff" if admin else MY_TOKENS)
    if not admin:
        return _mine(request, who, notice=label("web_staff.revoked_done", lang_of(request)))
    return _show(request, who, token.staff_id, notice="web_staff.revoked_done")


# -- first-sign-in TOTP enrolment -----------------------------------------------------------------------------------


def qr_svg(uri: str, title: str) -> Markup:
    """The QR code of ``uri`` as inline SVG with a white quiet zone, named by ``title`` (segno escapes it).

    No script and no style attribute (only SVG presentation attributes), so the page's CSP needs nothing more."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title=title, svgclass="qr"
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 (segno's markup, escaped title)


def _grouped(secret: str) -> str:
    """ABCD EFGH …: the key in groups of four, easier to type (authenticator apps ignore the spaces)."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def enrolment_page(request: Request, started: EnrolmentStarted, *, status_code: int = 200) -> HTMLResponse:
    """The enrolment screen: the QR code, the key for manual entry and the code field (no session yet)."""
    lang = lang_of(request)
    data = {
        "ticket": started.ticket,
        "qr": qr_svg(started.provisioning_uri, label("web_staff_enrol.qr_title", lang)),
        "secret": _grouped(started.secret),
        "expires": fmt_datetime(started.expires_at, lang),
        "wrong_code": started.wrong_code,
        "attempts_left": started.attempts_left,
    }
    return render(request, "staff/enrol.html", data, status_code=status_code)


def _idle_timeout(request: Request) -> timedelta:
    return timedelta(minutes=runtime_of(request).settings.session_idle_minutes)


def _back_to_sign_in(request: Request, message_key: str, status_code: int) -> HTMLResponse:
    message = label(message_key, lang_of(request))
    return render(
        request, "web/sign_in.html", {"failed": False, "enrol_message": message}, status_code=status_code
    )


@router.post("/sign-in/enrol", response_class=HTMLResponse)
def finish_enrolment(
    request: Request,
    ticket: Annotated[str, Form(max_length=256)] = "",
    code: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """The 6-digit code from the new key: right → signed in (the sign-in's cookie); wrong → the page again."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return render(request, "web/sign_in.html", {"failed": True}, status_code=403)
    rt = runtime_of(request)
    try:
        with rt.transaction(SYSTEM_ACTOR, lang=lang_of(request)) as ctx:
            outcome = service.finish_enrolment(ctx, ticket, code, idle_timeout=_idle_timeout(request))
    except MamoriError:
        return _back_to_sign_in(request, "web_staff_enrol.invalid", 401)
    if isinstance(outcome, EnrolmentStarted):
        if outcome.attempts_left <= 0:
            return _back_to_sign_in(request, "web_staff_enrol.ended", 401)
        return enrolment_page(request, outcome, status_code=401)
    response = RedirectResponse("/", status_code=303)
    max_age = int((outcome.expires_at - rt.clock.now()).total_seconds())
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        max_age=max_age,
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    return response
