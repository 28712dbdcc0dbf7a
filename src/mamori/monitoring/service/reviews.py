"""Access reviews (アクセス権の定期見直し, issue 25 "Deliver" 3): every staff account with its role, the purposes
of its live API tokens, its last sign-in, its training and pledge, the customers it owns and flags; the reviewer
confirms or changes each line; once closed the review is sealed.

- :func:`due` — the period now due (the review interval in force, periods aligned to the calendar year in Japan
  time), the last closed review, whether the previous period went without one (overdue).
- :func:`start` — one line per account: every active account, and every disabled one that still owns customers or
  holds live tokens. Flags: ``unused`` (no sign-in and no token use for ``unused_days``, or never),
  ``untrained`` / ``no_pledge`` (a person whose role the training policy covers, R-23-3), ``disabled_with_tokens``
  / ``disabled_owning``, ``admin`` and ``service`` (what kind of account it is). One open review at a time.
- :func:`decide` — confirm a line, or change it: ``disable`` the account or ``revoke_tokens``, CARRIED OUT by the
  staff slice's own services (``disable`` / ``revoke_token`` for an administrator, the containment functions of
  ``staff.contain`` for the privacy officer), or ``role:<role>`` — a move to another role, an administrator's change
  (``staff.service.change_role``: the privacy officer is refused by the staff slice, R-23-2). Nobody decides their
  own line (R-23-2, ``own_line``).
- :func:`close` — refused while a line is undecided; seals the review: the SHA-256 digest of the canonical JSON of
  the review and all its lines (:func:`canonical`) is stored in ``access_reviews.digest`` AND written into the
  audit log (``monitoring.review_close``), a keyed hash chain that someone editing the data store cannot rewrite.
  A closed review refuses every change (``review_closed``).
- :func:`verify` — recomputes the digest from the rows and compares it with the stored one and the audit log's.

Every function takes the Context first, authorises ``monitoring.access_review`` (privacy officer, administrator),
audits and never commits. Nothing here holds a customer's personal value: user names, roles, purpose codes,
dates, counts and codes.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mamori.customers import queries as customers_queries
from mamori.kernel import registry
from mamori.kernel.auditing import authorise, record_denial, record_info, record_write
from mamori.kernel.clock import ensure_aware, today_jst
from mamori.kernel.context import ActorKind, Context, Role
from mamori.kernel.db import chunks, new_id
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Decision, Resource
from mamori.kernel.policy import decide as policy_decide
from mamori.kernel.runtime import all_rows
from mamori.monitoring.models import (
    CHANGE,
    CONFIRM,
    REVIEW_CLOSED,
    REVIEW_OPEN,
    AccessReview,
    AccessReviewLine,
)
from mamori.monitoring.permissions import ACCESS_REVIEW
from mamori.monitoring.review_schemas import (
    ATTENTION,
    CHANGES,
    DECISIONS,
    MAX_NOTE,
    PERIOD_PATTERN,
    REF_PATTERN,
    DueRead,
    PeriodRead,
    ReviewDetail,
    ReviewLineRead,
    ReviewRead,
    VerifyRead,
)
from mamori.monitoring.service import settings as settings_service
from mamori.staff import queries as staff_queries
from mamori.staff import service as staff_service
from mamori.staff.models import StaffApiToken, StaffSession, StaffUser
from mamori.staff.permissions import STAFF_MANAGE

RESOURCE = Resource(kind="access_review")
RULE_ID = "R-23-2"  # who may do what: the data scope of each account, reviewed; nobody reviews themselves
A_READ = "monitoring.access_review"
A_START = "monitoring.review_start"
A_DECIDE = "monitoring.review_decide"
A_CLOSE = "monitoring.review_close"
A_VERIFY = "monitoring.review_verify"
_ID = re.compile(r"^[0-9a-f]{32}$")
_TRAINED_STATES = ("current", "expiring")
_AUDIT_PAGE = 500


# -- periods ---------------------------------------------------------------------------------------------------------


def _label(year: int, index: int, months: int) -> str:
    if months == 3:
        return f"{year}-Q{index}"
    if months == 6:
        return f"{year}-H{index}"
    if months == 12:
        return f"{year}-Y"
    if months == 1:
        return f"{year}-{index:02d}"
    return f"{year}-P{index}"


def _periods_per_year(months: int) -> int:
    return -(-12 // months)


def make_period(year: int, index: int, months: int) -> PeriodRead:
    """The ``index``-th period (from 1) of ``months`` months in ``year``; the last one ends on 31 December."""
    first = 1 + (index - 1) * months
    last = min(12, first + months - 1)
    return PeriodRead(
        label=_label(year, index, months),
        start=date(year, first, 1),
        end=date(year, last, calendar.monthrange(year, last)[1]),
    )


def period_of(day: date, months: int) -> PeriodRead:
    """The period of ``months`` months (aligned to the calendar year) that contains ``day``."""
    return make_period(day.year, (day.month - 1) // months + 1, months)


def previous_period(current: PeriodRead, months: int) -> PeriodRead:
    return period_of(current.start - timedelta(days=1), months)


def _bad_period() -> ValidationFailed:
    return ValidationFailed(
        "期間は 2026-Q4（四半期）・2026-H2（半期）・2026-11（月）・2026-Y（年）・2026-P2 の形で指定してください。",
        "Give the period as 2026-Q4 (quarter), 2026-H2 (half), 2026-11 (month), 2026-Y (year) or 2026-P2.",
        code="bad_period",
        details={"field": "period"},
    )


def parse_period(label: str, months: int) -> PeriodRead:
    """A period label: ``Qn``, ``Hn``, ``Y`` and ``MM`` say their own length; ``Pn`` is the n-th period of the
    interval in force (``months``)."""
    if not isinstance(label, str) or PERIOD_PATTERN.fullmatch(label.strip().upper()) is None:
        raise _bad_period()
    year_text, tail = label.strip().upper().split("-", 1)
    year = int(year_text)
    if not 2000 <= year <= 2199:
        raise _bad_period()
    if tail.startswith("Q"):
        return make_period(year, int(tail[1:]), 3)
    if tail.startswith("H"):
        return make_period(year, int(tail[1:]), 6)
    if tail == "Y":
        return make_period(year, 1, 12)
    if tail.startswith("P"):
        index = int(tail[1:])
        if not 1 <= index <= _periods_per_year(months):
            raise _bad_period()
        return make_period(year, index, months)
    return make_period(year, int(tail), 1)


def _period_of_row(row: AccessReview) -> PeriodRead:
    match = REF_PATTERN.fullmatch(row.ref)
    label = match.group(1) if match else row.ref
    return PeriodRead(label=label, start=row.period_start, end=row.period_end)


# -- reading rows ----------------------------------------------------------------------------------------------------


def _split(text: str | None) -> list[str]:
    return [p for p in (text or "").split(",") if p]


def _aware(value: datetime | None) -> datetime | None:
    return ensure_aware(value) if value is not None else None


def _line_read(row: AccessReviewLine) -> ReviewLineRead:
    return ReviewLineRead(
        id=row.id,
        staff_id=row.staff_id,
        username=row.username,
        role=row.role,
        kind=row.kind,
        active=bool(row.active),
        token_purposes=_split(row.token_purposes),
        tokens=int(row.tokens),
        last_sign_in=_aware(row.last_sign_in),
        trained=bool(row.trained),
        pledged=bool(row.pledged),
        owned_customers=int(row.owned_customers),
        flags=_split(row.flags),
        decision=row.decision,
        change=row.change,
        note=row.note,
        decided_by=row.decided_by,
        decided_at=_aware(row.decided_at),
    )


def _review_read(row: AccessReview, lines: Sequence[AccessReviewLine]) -> ReviewRead:
    return ReviewRead(
        id=row.id,
        ref=row.ref,
        period=_period_of_row(row),
        unused_days=int(row.unused_days),
        status=row.status,
        started_by=row.started_by,
        started_at=ensure_aware(row.started_at),
        closed_by=row.closed_by,
        closed_at=_aware(row.closed_at),
        digest=row.digest,
        lines=len(lines),
        decided=sum(1 for ln in lines if ln.decision is not None),
        flagged=sum(1 for ln in lines if ATTENTION & set(_split(ln.flags))),
        changes=sum(1 for ln in lines if ln.decision == CHANGE),
    )


def _lines_of(ctx: Context, review_ids: Sequence[str]) -> dict[str, list[AccessReviewLine]]:
    out: dict[str, list[AccessReviewLine]] = defaultdict(list)
    for part in chunks(list(review_ids)):
        stmt = (
            select(AccessReviewLine)
            .where(AccessReviewLine.review_id.in_(list(part)))
            .order_by(AccessReviewLine.username, AccessReviewLine.id)
        )
        for line in ctx.session.execute(stmt).scalars():
            out[line.review_id].append(line)
    return out


def _not_found() -> NotFound:
    return NotFound("アクセス権の見直しが見つかりません。", "No such access review.", code="review_not_found")


def _find(ctx: Context, key: str) -> AccessReview:
    """A review by its id (32 hex) or its reference (AR-2026-Q4, any case)."""
    text = key.strip() if isinstance(key, str) else ""
    row: AccessReview | None = None
    if _ID.fullmatch(text):
        row = ctx.session.get(AccessReview, text)
    elif REF_PATTERN.fullmatch(text):
        row = ctx.session.execute(
            select(AccessReview).where(AccessReview.ref == text.upper())
        ).scalar_one_or_none()
    if row is None:
        raise _not_found()
    return row


def _open_review(ctx: Context) -> AccessReview | None:
    return ctx.session.execute(
        select(AccessReview)
        .where(AccessReview.status == REVIEW_OPEN)
        .order_by(AccessReview.started_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _closed() -> Conflict:
    return Conflict(
        "この見直しは完了（封印）済みです。記録は変更できません。",
        "The review is closed and sealed: its record cannot change.",
        code="review_closed",
    )


def _require_open(row: AccessReview) -> None:
    if row.status != REVIEW_OPEN or row.digest is not None:
        raise _closed()


# -- due ---------------------------------------------------------------------------------------------------------------


def _covering(ctx: Context, wanted: PeriodRead) -> AccessReview | None:
    """The latest closed review whose period overlaps ``wanted``."""
    return ctx.session.execute(
        select(AccessReview)
        .where(
            AccessReview.status == REVIEW_CLOSED,
            AccessReview.period_start <= wanted.end,
            AccessReview.period_end >= wanted.start,
        )
        .order_by(AccessReview.closed_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def due(ctx: Context) -> DueRead:
    """The period now due, whether a closed review covers it, and whether the previous one went without."""
    authorise(ctx, ACCESS_REVIEW, RESOURCE)
    conf = settings_service.current(ctx)
    months = conf.review_interval_months
    today = today_jst(ctx.clock)
    current = period_of(today, months)
    previous = previous_period(current, months)
    open_row = _open_review(ctx)
    last = ctx.session.execute(
        select(AccessReview)
        .where(AccessReview.status == REVIEW_CLOSED)
        .order_by(AccessReview.closed_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    shown = [r for r in (open_row, last) if r is not None]
    lines = _lines_of(ctx, [r.id for r in shown])
    result = DueRead(
        interval_months=months,
        unused_days=conf.unused_days,
        today=today,
        period=current,
        previous=previous,
        done=_covering(ctx, current) is not None,
        overdue=_covering(ctx, previous) is None,
        open_review=_review_read(open_row, lines[open_row.id]) if open_row is not None else None,
        last_closed=_review_read(last, lines[last.id]) if last is not None else None,
    )
    record_info(
        ctx,
        A_READ,
        details={"view": "due", "period": current.label, "done": result.done, "overdue": result.overdue},
    )
    return result


# -- start -------------------------------------------------------------------------------------------------------------


def _next_ref(ctx: Context, base: str) -> str:
    taken = set(
        ctx.session.execute(
            select(AccessReview.ref).where((AccessReview.ref == base) | AccessReview.ref.like(base + "-%"))
        ).scalars()
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _survey(ctx: Context, review_id: str, unused_days: int) -> list[AccessReviewLine]:
    """One line per account to review (see the module's docstring)."""
    now = ctx.clock.now()
    users: list[StaffUser] = list(ctx.session.execute(staff_queries.all_staff()).scalars())
    live: dict[str, list[StaffApiToken]] = defaultdict(list)
    used: dict[str, datetime] = {}
    for token, owner in ctx.session.execute(staff_queries.tokens()).all():
        if token.last_used_at is not None:
            at = ensure_aware(token.last_used_at)
            used[owner.id] = max(at, used.get(owner.id, at))
        if token.revoked_at is None and ensure_aware(token.expires_at) > now:
            live[owner.id].append(token)
    signed_in: dict[str, datetime] = {
        str(staff_id): ensure_aware(at)
        for staff_id, at in ctx.session.execute(
            select(StaffSession.staff_id, func.max(StaffSession.created_at)).group_by(StaffSession.staff_id)
        ).all()
        if at is not None
    }
    owned: dict[str, int] = {}
    with all_rows(
        ctx
    ):  # counts over every customer (authorised above), whatever the reviewer's own row scope
        for part in chunks([u.id for u in users]):
            for owner_id, count in ctx.session.execute(customers_queries.owned_counts(list(part))).all():
                if owner_id is not None:
                    owned[str(owner_id)] = int(count)
    cutoff = now - timedelta(days=unused_days)
    lines: list[AccessReviewLine] = []
    for user in users:
        tokens = live.get(user.id, [])
        owns = owned.get(user.id, 0)
        if not user.active and not tokens and not owns:
            continue  # a disabled account holding nothing: nothing left to review
        trained = pledged = covered = False
        if not user.is_service:  # a machine client takes no training and signs no pledge
            status = staff_service.status(ctx, user.id)
            trained = all(c.state in _TRAINED_STATES for c in status.courses if c.required)
            pledged = status.pledge_signed
            covered = status.covered
        sign_in = signed_in.get(user.id)
        last_use = max((at for at in (sign_in, used.get(user.id)) if at is not None), default=None)
        flags: list[str] = []
        if last_use is None or last_use < cutoff:
            flags.append("unused")
        if covered and not trained:
            flags.append("untrained")
        if covered and not pledged:
            flags.append("no_pledge")
        if not user.active and tokens:
            flags.append("disabled_with_tokens")
        if not user.active and owns:
            flags.append("disabled_owning")
        if user.role == Role.ADMIN.value:
            flags.append("admin")
        if user.is_service:
            flags.append("service")
        purposes = sorted({p for t in tokens for p in _split(t.purposes)})
        lines.append(
            AccessReviewLine(
                id=new_id(),
                review_id=review_id,
                staff_id=user.id,
                username=user.username,
                role=user.role,
                kind=user.kind,
                active=bool(user.active),
                token_purposes=",".join(purposes),
                tokens=len(tokens),
                last_sign_in=sign_in,
                trained=trained,
                pledged=pledged,
                owned_customers=owns,
                flags=",".join(flags),
            )
        )
    return lines


def start(ctx: Context, period: str | None = None) -> ReviewDetail:
    """Start the review of ``period`` (a label such as ``2026-Q4``; default: the period now due) with one line
    per account."""
    authorise(ctx, ACCESS_REVIEW, RESOURCE)
    conf = settings_service.current(ctx)
    today = today_jst(ctx.clock)
    chosen = (
        parse_period(period, conf.review_interval_months)
        if period is not None
        else period_of(today, conf.review_interval_months)
    )
    if chosen.start > today:
        raise ValidationFailed(
            "まだ始まっていない期間の見直しは開始できません。",
            "A review cannot start for a period that has not begun.",
            code="period_in_future",
            details={"field": "period"},
        )
    running = _open_review(ctx)
    if running is not None:
        raise Conflict(
            f"見直し {running.ref} が進行中です。完了してから次を開始してください。",
            f"Review {running.ref} is open: close it before starting another.",
            code="review_open",
            details={"review_id": running.id},
        )
    now = ctx.clock.now()
    row = AccessReview(
        id=new_id(),
        ref=_next_ref(ctx, f"AR-{chosen.label}"),
        period_start=chosen.start,
        period_end=chosen.end,
        unused_days=conf.unused_days,
        status=REVIEW_OPEN,
        started_by=ctx.actor.label,
        started_at=now,
    )
    ctx.session.add(row)
    try:
        ctx.session.flush()
    except IntegrityError as exc:  # another review of the same period started at the same moment
        raise Conflict(
            "同時に別の見直しが開始されました。もう一度お試しください。",
            "Another review was started at the same moment; try again.",
            code="review_open",
        ) from exc
    lines = _survey(ctx, row.id, conf.unused_days)
    ctx.session.add_all(lines)
    ctx.session.flush()
    flagged = [set(_split(ln.flags)) for ln in lines]
    record_write(
        ctx,
        A_START,
        (),
        (),
        rule_ids=(RULE_ID,),
        details={
            "review_id": row.id,
            "ref": row.ref,
            "period": chosen.label,
            "lines": len(lines),
            "flagged": sum(1 for f in flagged if f & ATTENTION),
            "unused": sum(1 for f in flagged if "unused" in f),
            "untrained": sum(1 for f in flagged if "untrained" in f),
        },
    )
    ordered = sorted(lines, key=lambda ln: (ln.username, ln.id))
    return ReviewDetail(**_review_read(row, ordered).model_dump(), items=[_line_read(ln) for ln in ordered])


# -- decide ------------------------------------------------------------------------------------------------------------


def _line(ctx: Context, review: AccessReview, line: str) -> AccessReviewLine:
    """A line of ``review`` by its id or by the account's user name."""
    text = line.strip() if isinstance(line, str) else ""
    stmt = select(AccessReviewLine).where(AccessReviewLine.review_id == review.id)
    if _ID.fullmatch(text):
        stmt = stmt.where(AccessReviewLine.id == text)
    elif text and len(text) <= 64:
        stmt = stmt.where(AccessReviewLine.username == text)
    else:
        stmt = stmt.where(AccessReviewLine.id == "")
    found = ctx.session.execute(stmt).scalar_one_or_none()
    if found is None:
        raise NotFound(
            "見直しにその行（アカウント）はありません。",
            "The review has no such line (account).",
            code="line_not_found",
        )
    return found


def _check_decision(
    decision: str, change: str | None, note: str | None
) -> tuple[str, str | None, str | None]:
    if decision not in DECISIONS:
        raise ValidationFailed(
            "判断は confirm（承認）か change（変更）です。",
            "The decision is confirm or change.",
            code="bad_decision",
            details={"field": "decision"},
        )
    change = change.strip() if isinstance(change, str) and change.strip() else None
    if decision == CHANGE and change is None:
        raise ValidationFailed(
            "変更の内容（disable / revoke_tokens / role:<役割>）を指定してください。",
            "Say which change: disable, revoke_tokens or role:<role>.",
            code="change_required",
            details={"field": "change"},
        )
    if decision == CONFIRM and change is not None:
        raise ValidationFailed(
            "承認に変更の内容は付けられません。",
            "A confirmation carries no change.",
            code="change_not_allowed",
            details={"field": "change"},
        )
    if change is not None and change not in CHANGES:
        raise ValidationFailed(
            "変更の内容は disable（無効化）・revoke_tokens（トークン失効）・role:<役割>（役割の変更）のいずれかです。",
            "The change is disable, revoke_tokens or role:<role>.",
            code="bad_change",
            details={"field": "change"},
        )
    note = note.strip() if isinstance(note, str) and note.strip() else None
    if note is not None:
        if len(note) > MAX_NOTE:
            raise ValidationFailed(
                f"メモは{MAX_NOTE}文字以内です。",
                f"The note is at most {MAX_NOTE} characters.",
                code="note_too_long",
                details={"field": "note"},
            )
        if registry.text_scanning_available() and any(not f.sensitive for f in registry.scan_text(note)):
            raise ValidationFailed(
                "メモに個人データが含まれています。判断の理由を記載し、個人を特定する情報は記載しないでください。",
                "The note contains personal data: give the reason for the decision, never a person.",
                code="personal_data_in_text",
                details={"fields": ["note"]},
            )
    return decision, change, note


def _is_own(ctx: Context, line: AccessReviewLine) -> bool:
    return ctx.actor.kind in (ActorKind.STAFF, ActorKind.OUTSOURCEE) and ctx.actor.id == line.staff_id


def _refuse_own_line(ctx: Context, line: AccessReviewLine) -> PolicyDenied:
    record_denial(
        ctx,
        A_DECIDE,
        (),
        Decision(False, (RULE_ID,), code="own_line", reason_en="nobody decides their own line"),
    )
    return PolicyDenied(
        "自分のアカウントの行は判断できません。他の見直し担当者が判断します。",
        "Nobody decides their own line: another reviewer decides it.",
        rule_id=RULE_ID,
        code="own_line",
        details={"line_id": line.id},
    )


def _carry_out(ctx: Context, line: AccessReviewLine, change: str) -> None:
    """The change, done by the staff slice (it authorises and audits the staff action itself): an administrator
    through ``disable`` / ``revoke_token`` (``staff.manage``), the privacy officer through the containment
    functions (``staff.contain``)."""
    manage = policy_decide(ctx, STAFF_MANAGE, Resource(kind="staff")).allowed
    if change.startswith("role:"):  # an administrator's change (the staff slice refuses anyone else, audited)
        staff_service.change_role(ctx, line.username, Role(change.removeprefix("role:")))
        return
    if change == "disable":
        if manage:
            staff_service.disable(ctx, line.username)
        else:
            staff_service.contain_disable(ctx, line.username)
        return
    if manage:
        for token in staff_service.list_tokens(ctx, line.username):
            if token.revoked_at is None:
                staff_service.revoke_token(ctx, token.id)
    else:
        staff_service.contain_revoke_tokens(ctx, line.username)


def decide(
    ctx: Context,
    review_key: str,
    line: str,
    decision: str,
    change: str | None = None,
    note: str | None = None,
) -> ReviewLineRead:
    """Confirm or change one line (by its id or the account's user name); a change is carried out at once.

    A line decided with a change stays so (its change was done); a confirmed line may be decided again while the
    review is open."""
    authorise(ctx, ACCESS_REVIEW, RESOURCE)
    decision, change, note = _check_decision(decision, change, note)
    review = _find(ctx, review_key)
    _require_open(review)
    row = _line(ctx, review, line)
    if _is_own(ctx, row):
        raise _refuse_own_line(ctx, row)
    if row.decision == CHANGE:
        raise Conflict(
            "この行は変更済みです（変更は実施されました）。",
            "This line was decided with a change, already carried out.",
            code="line_changed",
            details={"line_id": row.id},
        )
    if change is not None:
        _carry_out(ctx, row, change)
    row.decision = decision
    row.change = change
    row.note = note
    row.decided_by = ctx.actor.label
    row.decided_at = ctx.clock.now()
    ctx.session.flush()
    record_write(
        ctx,
        A_DECIDE,
        (),
        ("decision",),
        rule_ids=(RULE_ID,),
        details={
            "review_id": review.id,
            "ref": review.ref,
            "line_id": row.id,
            "staff_id": row.staff_id,
            "decision": decision,
            "change": change,
            "note": note is not None,
        },
    )
    return _line_read(row)


# -- close and verify --------------------------------------------------------------------------------------------------


def _at(value: datetime | None) -> str | None:
    return (
        ensure_aware(value).astimezone(UTC).isoformat(timespec="microseconds") if value is not None else None
    )


def canonical(review: AccessReview, lines: Iterable[AccessReviewLine]) -> bytes:
    """The bytes the seal is the SHA-256 of: compact JSON with sorted keys (UTF-8, not ASCII-escaped) of
    ``{"review": {…}, "lines": [...]}`` — every column of the review except its digest, and every column of every
    line, lines sorted by staff id; dates as ``YYYY-MM-DD``, times in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``,
    booleans as JSON booleans, missing values as null."""
    doc: dict[str, Any] = {
        "review": {
            "id": review.id,
            "ref": review.ref,
            "period_start": review.period_start.isoformat(),
            "period_end": review.period_end.isoformat(),
            "unused_days": int(review.unused_days),
            "status": review.status,
            "started_by": review.started_by,
            "started_at": _at(review.started_at),
            "closed_by": review.closed_by,
            "closed_at": _at(review.closed_at),
        },
        "lines": [
            {
                "id": ln.id,
                "review_id": ln.review_id,
                "staff_id": ln.staff_id,
                "username": ln.username,
                "role": ln.role,
                "kind": ln.kind,
                "active": bool(ln.active),
                "token_purposes": ln.token_purposes,
                "tokens": int(ln.tokens),
                "last_sign_in": _at(ln.last_sign_in),
                "trained": bool(ln.trained),
                "pledged": bool(ln.pledged),
                "owned_customers": int(ln.owned_customers),
                "flags": ln.flags,
                "decision": ln.decision,
                "change": ln.change,
                "note": ln.note,
                "decided_by": ln.decided_by,
                "decided_at": _at(ln.decided_at),
            }
            for ln in sorted(lines, key=lambda x: (x.staff_id, x.id))
        ],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def digest_of(review: AccessReview, lines: Iterable[AccessReviewLine]) -> str:
    return hashlib.sha256(canonical(review, lines)).hexdigest()


def _fresh_lines(ctx: Context, review_id: str) -> list[AccessReviewLine]:
    """The lines as the database holds them now (not as this session remembers them)."""
    stmt = (
        select(AccessReviewLine)
        .where(AccessReviewLine.review_id == review_id)
        .execution_options(populate_existing=True)
    )
    return list(ctx.session.execute(stmt).scalars())


def close(ctx: Context, review_key: str) -> ReviewRead:
    """Close and seal the review (every line decided): the digest goes into the review row and the audit log."""
    authorise(ctx, ACCESS_REVIEW, RESOURCE)
    review = _find(ctx, review_key)
    _require_open(review)
    lines = _fresh_lines(ctx, review.id)
    undecided = sum(1 for ln in lines if ln.decision is None)
    if undecided:
        raise Conflict(
            f"判断していない行が{undecided}件あります。すべての行を判断してから完了してください。",
            f"{undecided} line(s) are undecided: decide every line before closing.",
            code="lines_undecided",
            details={"count": undecided},
        )
    review.status = REVIEW_CLOSED
    review.closed_by = ctx.actor.label
    review.closed_at = ctx.clock.now()
    ctx.session.flush()
    ctx.session.refresh(review)
    lines = _fresh_lines(ctx, review.id)
    review.digest = digest_of(review, lines)
    ctx.session.flush()
    changes = sum(1 for ln in lines if ln.decision == CHANGE)
    record_write(
        ctx,
        A_CLOSE,
        (),
        ("status", "digest"),
        rule_ids=(RULE_ID,),
        details={
            "review_id": review.id,
            "ref": review.ref,
            "digest": review.digest,
            "lines": len(lines),
            "changes": changes,
        },
    )
    return _review_read(review, lines)


def _sealed(ctx: Context, review: AccessReview) -> list[str]:
    """The digests the audit log's ``monitoring.review_close`` entries give for ``review``, oldest first."""
    found: list[tuple[int, str]] = []
    before: int | None = None
    since = ensure_aware(review.started_at) - timedelta(days=1)
    while True:
        page = ctx.runtime.audit.search(
            action=A_CLOSE, decision="allow", since=since, before=before, limit=_AUDIT_PAGE
        )
        for entry in page:
            value = entry.details.get("digest")
            if entry.details.get("review_id") == review.id and isinstance(value, str):
                found.append((entry.seq, value))
        if len(page) < _AUDIT_PAGE:
            break
        before = page[-1].seq
    return [digest for _, digest in sorted(found)]


def verify(ctx: Context, review_key: str) -> VerifyRead:
    """Recompute the seal from the rows; compare it with ``access_reviews.digest`` and with the audit log's."""
    authorise(ctx, ACCESS_REVIEW, RESOURCE)
    review = _find(ctx, review_key)
    ctx.session.refresh(review)
    lines = _fresh_lines(ctx, review.id)
    sealed = _sealed(ctx, review)
    if not sealed and review.status == REVIEW_OPEN and review.digest is None:
        raise Conflict(
            "この見直しはまだ完了していません（検証できる封印がありません）。",
            "The review is not closed yet: there is no seal to verify.",
            code="review_not_closed",
        )
    computed = digest_of(review, lines)
    audited = sealed[0] if sealed else None
    stored_matches = review.digest == computed
    audit_matches = audited == computed
    result = VerifyRead(
        review_id=review.id,
        ref=review.ref,
        ok=stored_matches and audit_matches,
        computed=computed,
        stored=review.digest,
        audited=audited,
        stored_matches=stored_matches,
        audit_matches=audit_matches,
        lines=len(lines),
    )
    record_info(
        ctx,
        A_VERIFY,
        details={
            "review_id": review.id,
            "ref": review.ref,
            "ok": result.ok,
            "stored_matches": result.stored_matches,
            "audit_matches": result.audit_matches,
        },
    )
    return result


# -- reading -----------------------------------------------------------------------------------------------------------


def list_reviews(ctx: Context) -> list[ReviewRead]:
    """Every review, newest first, with its counts."""
    authorise(ctx, ACCESS_REVIEW, RESOURCE)
    rows = list(
        ctx.session.execute(
            select(AccessReview).order_by(AccessReview.started_at.desc(), AccessReview.ref.desc())
        ).scalars()
    )
    lines = _lines_of(ctx, [r.id for r in rows])
    record_info(ctx, A_READ, details={"view": "list", "count": len(rows)})
    return [_review_read(r, lines[r.id]) for r in rows]


def get(ctx: Context, review_key: str) -> ReviewDetail:
    """One review with its lines (by user name)."""
    authorise(ctx, ACCESS_REVIEW, RESOURCE)
    row = _find(ctx, review_key)
    lines = _lines_of(ctx, [row.id])[row.id]
    read = _review_read(row, lines)
    record_info(
        ctx,
        A_READ,
        details={
            "view": "review",
            "review_id": row.id,
            "ref": row.ref,
            "lines": read.lines,
            "decided": read.decided,
        },
    )
    return ReviewDetail(**read.model_dump(), items=[_line_read(ln) for ln in lines])


def require(ctx: Context) -> None:
    """Refuse (and audit) an actor who may not take part in access reviews; nothing else (for the edges, before
    they read the input)."""
    authorise(ctx, ACCESS_REVIEW, RESOURCE)


def open_key(ctx: Context) -> str | None:
    """The id of the open review, if any (for the edges' defaults; the caller then reads it with :func:`get`)."""
    authorise(ctx, ACCESS_REVIEW, RESOURCE)
    row = _open_review(ctx)
    return row.id if row is not None else None
