"""Human measures (人的安全管理措置, R-23-3): training courses, completions, pledges (誓約書) and the training policy.

- courses have a validity in days; a completion is valid until ``completed_at + validity_days``;
- a pledge is published in versions (the body's SHA-256 kept with it); a new version means everyone signs again;
- the policy (one row) says whether staff of some roles need a current training and the latest pledge before they
  may handle personal data. When it is on, the actor built for such a staff member who is not current has
  ``cleared=False`` (:func:`cleared_actor`, called where sessions, API tokens and the CLI's ``--as`` build actors)
  and the policy engine refuses every personal-data action with ``training_required`` / R-23-3;
- :func:`require_current` is for other slices (a handover to a successor): it refuses a staff member who is not
  current whether or not the policy is on.

Managing courses, completions, pledge versions and the policy is ``Action.STAFF_TRAINING`` (admin, privacy
officer; no personal data). Every staff member reads their own status and signs the pledge themselves.
Audit entries name staff ids, course codes, versions and counts only.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mamori.kernel import mail
from mamori.kernel.auditing import authorise, record_info, record_read, record_write
from mamori.kernel.clock import JST, ensure_aware, today_jst
from mamori.kernel.context import Actor, ActorKind, Context, Role
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Resource, decide
from mamori.staff.models import (
    Pledge,
    PledgeVersion,
    StaffUser,
    TrainingCompletion,
    TrainingCourse,
    TrainingPolicy,
)
from mamori.staff.permissions import STAFF_TRAINING
from mamori.staff.schemas import (
    DEFAULT_POLICY_ROLES,
    TRAINABLE_ROLES,
    CompletionCreate,
    CompletionRead,
    CourseCreate,
    CourseRead,
    CourseStatus,
    OverdueEntry,
    PledgePublish,
    PledgeRead,
    PledgeSign,
    PledgeVersionRead,
    TrainingPolicyRead,
    TrainingPolicyUpdate,
    TrainingStatus,
)
from mamori.staff.service.common import actor_of, find_user, forget_checked_tokens, is_self

log = logging.getLogger(__name__)

RULE_ID = "R-23-3"  # 人的安全管理措置: training and pledges of the staff who handle personal data
EXPIRING_WITHIN = timedelta(days=30)
POLICY_ID = 1
TOPIC_EXPIRY = "staff.training_expiry"
_TRAINABLE = frozenset(TRAINABLE_ROLES)


# -- authorisation ----------------------------------------------------------------------------------------------------


def require_training_manage(ctx: Context) -> None:
    authorise(ctx, STAFF_TRAINING, Resource(kind="staff_training"))


def may_manage(ctx: Context) -> bool:
    """Whether the actor manages training (no audit entry: pages use it to pick what to show)."""
    return decide(ctx, STAFF_TRAINING, Resource(kind="staff_training")).allowed


def _is_person(ctx: Context) -> bool:
    return ctx.actor.kind in (ActorKind.STAFF, ActorKind.OUTSOURCEE)


# -- courses ----------------------------------------------------------------------------------------------------------


def _course(ctx: Context, code: str) -> TrainingCourse:
    row = ctx.session.execute(select(TrainingCourse).where(TrainingCourse.code == code)).scalar_one_or_none()
    if row is None:
        raise NotFound("研修コースが見つかりません。", "No such training course.", code="unknown_course")
    return row


def add_course(ctx: Context, data: CourseCreate) -> CourseRead:
    require_training_manage(ctx)
    found = ctx.session.execute(select(TrainingCourse.id).where(TrainingCourse.code == data.code)).first()
    if found is not None:
        raise Conflict(
            "同じコードの研修コースが既にあります。",
            "A training course with this code already exists.",
            code="course_exists",
        )
    row = TrainingCourse(
        id=new_id(),
        code=data.code,
        title=data.title,
        validity_days=data.validity_days,
        required=data.required,
        created_at=ctx.clock.now(),
        created_by=ctx.actor.label,
    )
    ctx.session.add(row)
    ctx.session.flush()
    forget_checked_tokens(ctx)  # a new required course changes who is current
    record_write(
        ctx,
        "staff.training_course_added",
        (),
        (),
        rule_ids=(RULE_ID,),
        details={
            "course_id": row.id,
            "course": row.code,
            "validity_days": row.validity_days,
            "required": row.required,
        },
    )
    return CourseRead.model_validate(row)


def list_courses(ctx: Context, *, include_retired: bool = False) -> list[CourseRead]:
    require_training_manage(ctx)
    stmt = select(TrainingCourse).order_by(TrainingCourse.code)
    if not include_retired:
        stmt = stmt.where(TrainingCourse.retired_at.is_(None))
    return [CourseRead.model_validate(r) for r in ctx.session.execute(stmt).scalars()]


def retire_course(ctx: Context, code: str) -> CourseRead:
    """Retire a course: no longer required nor offered; its completions stay on record."""
    require_training_manage(ctx)
    row = _course(ctx, code)
    if row.retired_at is None:
        row.retired_at = ctx.clock.now()
        ctx.session.flush()
        forget_checked_tokens(ctx)
        record_write(
            ctx,
            "staff.training_course_retired",
            (),
            (),
            rule_ids=(RULE_ID,),
            details={"course_id": row.id, "course": row.code},
        )
    return CourseRead.model_validate(row)


# -- completions ------------------------------------------------------------------------------------------------------


def _start_of_day(on: date) -> datetime:
    return datetime.combine(on, time(0, 0), tzinfo=JST).astimezone(UTC)


def record_completion(ctx: Context, data: CompletionCreate) -> CompletionRead:
    """Record that a staff member completed a course (on ``completed_on``, JST, default today); valid for the
    course's ``validity_days`` from then."""
    require_training_manage(ctx)
    user = find_user(ctx, data.username)
    course = _course(ctx, data.course)
    if course.retired_at is not None:
        raise Conflict(
            "廃止された研修コースには受講を記録できません。",
            "Cannot record a completion of a retired course.",
            code="course_retired",
        )
    if user.is_service or not user.active:
        raise Conflict(
            "無効なアカウントやサービスアカウントには受講を記録できません。",
            "Cannot record training for a disabled or service account.",
            code="staff_not_trainable",
        )
    now = ctx.clock.now()
    if data.completed_on is None:
        completed_at = now
    else:
        if data.completed_on > today_jst(ctx.clock):
            raise ValidationFailed(
                "受講日に未来の日付は指定できません。",
                "The completion date cannot be in the future.",
                code="completion_in_future",
            )
        completed_at = _start_of_day(data.completed_on)
    row = TrainingCompletion(
        id=new_id(),
        course_id=course.id,
        user_id=user.id,
        completed_at=completed_at,
        expires_at=completed_at + timedelta(days=course.validity_days),
        recorded_by=ctx.actor.label,
        reference=data.reference,
    )
    ctx.session.add(row)
    ctx.session.flush()
    forget_checked_tokens(ctx)
    record_write(
        ctx,
        "staff.training_recorded",
        (),
        (),
        rule_ids=(RULE_ID,),
        details={"staff_id": user.id, "course": course.code, "completion_id": row.id},
    )
    return CompletionRead(
        id=row.id,
        user_id=user.id,
        username=user.username,
        course=course.code,
        completed_at=completed_at,
        expires_at=row.expires_at,
        reference=row.reference,
    )


# -- pledges ----------------------------------------------------------------------------------------------------------


def _latest_version(session: Session) -> int | None:
    found = session.execute(select(func.max(PledgeVersion.version))).scalar_one_or_none()
    return int(found) if found is not None else None


def _signers(ctx: Context) -> dict[int, int]:
    rows = ctx.session.execute(select(Pledge.version, func.count(Pledge.id)).group_by(Pledge.version)).all()
    return {int(v): int(n) for v, n in rows}


def publish_pledge(ctx: Context, data: PledgePublish) -> PledgeVersionRead:
    """Publish a new version of the pledge: from now on everyone covered must sign it (again)."""
    require_training_manage(ctx)
    version = (_latest_version(ctx.session) or 0) + 1
    row = PledgeVersion(
        version=version,
        title=data.title,
        body=data.body,
        sha256=hashlib.sha256(data.body.encode("utf-8")).hexdigest(),
        published_at=ctx.clock.now(),
        published_by=ctx.actor.label,
    )
    ctx.session.add(row)
    try:
        ctx.session.flush()
    except IntegrityError as exc:  # two publications at once: the second is refused
        raise Conflict(
            "同時に別の版が公開されました。もう一度お試しください。",
            "Another version was published at the same time; try again.",
            code="pledge_conflict",
        ) from exc
    forget_checked_tokens(ctx)
    record_write(
        ctx,
        "staff.pledge_published",
        (),
        (),
        rule_ids=(RULE_ID,),
        details={"version": version, "sha256": row.sha256},
    )
    return PledgeVersionRead.model_validate(row)


def list_pledges(ctx: Context) -> list[PledgeVersionRead]:
    """Every published version, newest first, with how many staff signed each."""
    require_training_manage(ctx)
    counts = _signers(ctx)
    rows = ctx.session.execute(select(PledgeVersion).order_by(PledgeVersion.version.desc())).scalars()
    return [
        PledgeVersionRead.model_validate(r).model_copy(update={"signed": counts.get(r.version, 0)})
        for r in rows
    ]


def latest_pledge(ctx: Context) -> PledgeVersionRead | None:
    """The version to sign now (anyone signed in may read it), or None when none is published."""
    row = ctx.session.execute(
        select(PledgeVersion).order_by(PledgeVersion.version.desc()).limit(1)
    ).scalar_one_or_none()
    return PledgeVersionRead.model_validate(row) if row is not None else None


def sign_pledge(ctx: Context, data: PledgeSign | None = None) -> PledgeRead:
    """Sign the latest pledge version: the caller themselves, or (``data.username``, the officer) a signature
    given on paper. ``data.version`` is the version the signer read: refused when a newer one was published since.
    Signing a version already signed returns the earlier signature."""
    data = data or PledgeSign()
    self_service = data.username is None or (data.username == ctx.actor.name and _is_person(ctx))
    if self_service and not _is_person(ctx):
        raise ValidationFailed(
            "署名する担当者のユーザー名を指定してください。",
            "Say which staff member signs.",
            code="signer_required",
        )
    if not self_service:
        require_training_manage(ctx)
    user = find_user(ctx, ctx.actor.name if data.username is None else data.username)
    if user.is_service or not user.active:
        raise Conflict(
            "無効なアカウントやサービスアカウントは署名できません。",
            "A disabled or service account cannot sign.",
            code="staff_not_trainable",
        )
    latest = _latest_version(ctx.session)
    if latest is None:
        raise NotFound("公開された誓約書がありません。", "No pledge has been published.", code="no_pledge")
    if data.version is not None and data.version != latest:
        raise Conflict(
            "誓約書が改訂されました。最新の版を読んでから署名してください。",
            "The pledge has been revised: read the latest version before signing.",
            code="pledge_outdated",
        )
    existing = ctx.session.execute(
        select(Pledge).where(Pledge.user_id == user.id, Pledge.version == latest)
    ).scalar_one_or_none()
    self_signed = is_self(ctx, user)
    if existing is not None:
        return PledgeRead(
            id=existing.id,
            user_id=user.id,
            username=user.username,
            version=latest,
            signed_at=ensure_aware(existing.signed_at),
            self_signed=existing.recorded_by == actor_of(user).label,
        )
    row = Pledge(
        id=new_id(),
        user_id=user.id,
        version=latest,
        signed_at=ctx.clock.now(),
        recorded_by=ctx.actor.label,
    )
    ctx.session.add(row)
    ctx.session.flush()
    forget_checked_tokens(ctx)
    record_write(
        ctx,
        "staff.pledge_signed",
        (),
        (),
        rule_ids=(RULE_ID,),
        details={"staff_id": user.id, "version": latest, "self_service": self_signed},
    )
    return PledgeRead(
        id=row.id,
        user_id=user.id,
        username=user.username,
        version=latest,
        signed_at=row.signed_at,
        self_signed=self_signed,
    )


# -- the policy -------------------------------------------------------------------------------------------------------


def _roles_of(raw: str) -> list[Role]:
    out = []
    for part in raw.split(","):
        try:
            role = Role(part.strip())
        except ValueError:
            continue
        if role in _TRAINABLE:
            out.append(role)
    return out


def _policy_read(row: TrainingPolicy | None) -> TrainingPolicyRead:
    if row is None:  # never set: off, with the roles it would cover when switched on
        return TrainingPolicyRead(enforced=False, roles=list(DEFAULT_POLICY_ROLES))
    return TrainingPolicyRead(
        enforced=bool(row.enforced), roles=_roles_of(row.roles), updated_at=ensure_aware(row.updated_at)
    )


def policy(ctx: Context) -> TrainingPolicyRead:
    require_training_manage(ctx)
    return _policy_read(ctx.session.get(TrainingPolicy, POLICY_ID))


def set_policy(ctx: Context, enforced: bool, roles: Sequence[Role] | None = None) -> TrainingPolicyRead:
    """Switch the requirement on or off, for ``roles`` (default: the roles it covers now, or sales, support,
    analyst and privacy officer). Roles that see no personal data (admin) cannot be covered."""
    require_training_manage(ctx)
    row = ctx.session.get(TrainingPolicy, POLICY_ID)
    if roles is None:
        roles = _roles_of(row.roles) if row is not None else list(DEFAULT_POLICY_ROLES)
    data = TrainingPolicyUpdate(enforced=enforced, roles=list(roles))
    value = ",".join(r.value for r in data.roles)
    now = ctx.clock.now()
    if row is None:
        row = TrainingPolicy(id=POLICY_ID, enforced=data.enforced, roles=value, updated_at=now)
        ctx.session.add(row)
    row.enforced = data.enforced
    row.roles = value
    row.updated_at = now
    row.updated_by = ctx.actor.label
    ctx.session.flush()
    forget_checked_tokens(ctx)
    record_write(
        ctx,
        "staff.training_policy_set",
        (),
        (),
        rule_ids=(RULE_ID,),
        details={"enforced": data.enforced, "roles": value},
    )
    return _policy_read(row)


# -- status -----------------------------------------------------------------------------------------------------------


def _state(expires_at: datetime | None, now: datetime) -> str:
    if expires_at is None:
        return "missing"
    if expires_at <= now:
        return "expired"
    if expires_at <= now + EXPIRING_WITHIN:
        return "expiring"
    return "current"


def _statuses(ctx: Context, users: Sequence[StaffUser]) -> dict[str, TrainingStatus]:
    """The training status of ``users`` in four small queries, whatever their number."""
    if not users:
        return {}
    now = ctx.clock.now()
    ids = [u.id for u in users]
    courses = list(
        ctx.session.execute(
            select(TrainingCourse).where(TrainingCourse.retired_at.is_(None)).order_by(TrainingCourse.code)
        ).scalars()
    )
    done: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for user_id, course_id, completed, expires in ctx.session.execute(
        select(
            TrainingCompletion.user_id,
            TrainingCompletion.course_id,
            func.max(TrainingCompletion.completed_at),
            func.max(TrainingCompletion.expires_at),
        )
        .where(TrainingCompletion.user_id.in_(ids))
        .group_by(TrainingCompletion.user_id, TrainingCompletion.course_id)
    ).all():
        done[(user_id, course_id)] = (ensure_aware(completed), ensure_aware(expires))
    latest = _latest_version(ctx.session)
    signed: dict[str, int] = {
        uid: int(v)
        for uid, v in ctx.session.execute(
            select(Pledge.user_id, func.max(Pledge.version))
            .where(Pledge.user_id.in_(ids))
            .group_by(Pledge.user_id)
        ).all()
    }
    pol = _policy_read(ctx.session.get(TrainingPolicy, POLICY_ID))
    out: dict[str, TrainingStatus] = {}
    for user in users:
        items = []
        for c in courses:
            found = done.get((user.id, c.id))
            items.append(
                CourseStatus(
                    code=c.code,
                    title=c.title,
                    required=c.required,
                    state=_state(found[1] if found else None, now),
                    completed_at=found[0] if found else None,
                    expires_at=found[1] if found else None,
                )
            )
        mine = signed.get(user.id)
        pledge_ok = latest is None or mine == latest
        trained = all(i.state in ("current", "expiring") for i in items if i.required)
        out[user.id] = TrainingStatus(
            user_id=user.id,
            username=user.username,
            role=Role(user.role),
            covered=Role(user.role) in pol.roles,
            enforced=pol.enforced,
            courses=items,
            pledge_version=latest,
            pledge_signed=pledge_ok,
            signed_version=mine,
            current=trained and pledge_ok,
        )
    return out


def _user_by_id(ctx: Context, user_id: str) -> StaffUser:
    user = ctx.session.get(StaffUser, user_id)
    if user is None:
        raise NotFound("担当者が見つかりません。", "No such staff member.", code="unknown_staff")
    return user


def status(ctx: Context, user_id: str) -> TrainingStatus:
    """A staff member's training and pledge status: their own (anyone), anybody's (``STAFF_TRAINING``)."""
    own = _is_person(ctx) and ctx.actor.id == user_id
    if not own:
        require_training_manage(ctx)
    user = _user_by_id(ctx, user_id)
    result = _statuses(ctx, [user])[user.id]
    if not own:
        record_read(
            ctx,
            "staff.training_status",
            (),
            (),
            details={"staff_id": user.id, "current": result.current},
        )
    return result


def status_of(ctx: Context, username: str | None = None) -> TrainingStatus:
    """:func:`status` by user name (None: the caller's own)."""
    if username is None or username == ctx.actor.name:
        if not _is_person(ctx):
            raise ValidationFailed(
                "担当者のユーザー名を指定してください。", "Say which staff member.", code="staff_required"
            )
        return status(ctx, ctx.actor.id)
    if not may_manage(ctx):
        require_training_manage(ctx)  # refused and audited before the name is looked up
    return status(ctx, find_user(ctx, username).id)


def _covered_staff(ctx: Context, roles: Iterable[Role]) -> list[StaffUser]:
    wanted = [r.value for r in roles]
    if not wanted:
        return []
    return list(
        ctx.session.execute(
            select(StaffUser)
            .where(StaffUser.active.is_(True), StaffUser.kind == "person", StaffUser.role.in_(wanted))
            .order_by(StaffUser.username)
        ).scalars()
    )


def _overdue(ctx: Context) -> tuple[list[OverdueEntry], list[TrainingStatus]]:
    pol = _policy_read(ctx.session.get(TrainingPolicy, POLICY_ID))
    statuses = list(_statuses(ctx, _covered_staff(ctx, pol.roles)).values())
    entries = [
        OverdueEntry(
            user_id=s.user_id,
            username=s.username,
            role=s.role,
            courses={c.code: c.state for c in s.courses if c.required and c.state in ("expired", "missing")},
            pledge_missing=not s.pledge_signed,
        )
        for s in statuses
        if not s.current
    ]
    return entries, statuses


def overdue(ctx: Context) -> list[OverdueEntry]:
    """Every active staff member whose role the policy covers (on or off) and who is not current, with what
    is missing (required course code → "expired" / "missing", the latest pledge)."""
    require_training_manage(ctx)
    entries, _ = _overdue(ctx)
    record_read(ctx, "staff.training_overdue", (), (), details={"count": len(entries)})
    return entries


# -- the gate (R-23-3) ------------------------------------------------------------------------------------------------


def _gate_statement(user_id: str, now: datetime) -> Select[Any]:
    """One row (none without a policy): enforced, roles, required courses not current, latest pledge version,
    the latest version this user signed."""
    not_current = (
        select(func.count(TrainingCourse.id))
        .where(
            TrainingCourse.required.is_(True),
            TrainingCourse.retired_at.is_(None),
            ~exists().where(
                TrainingCompletion.course_id == TrainingCourse.id,
                TrainingCompletion.user_id == user_id,
                TrainingCompletion.expires_at > now,
            ),
        )
        .scalar_subquery()
    )
    latest = select(func.max(PledgeVersion.version)).scalar_subquery()
    signed = select(func.max(Pledge.version)).where(Pledge.user_id == user_id).scalar_subquery()
    return select(TrainingPolicy.enforced, TrainingPolicy.roles, not_current, latest, signed).where(
        TrainingPolicy.id == POLICY_ID
    )


def is_cleared(ctx: Context, user: StaffUser, *, role: Role | None = None) -> bool:
    """False when the policy is on, covers ``role`` (default: the user's) and the user lacks a current required
    course or the latest pledge (R-23-3). One query, and none for a role that is never covered (admin) or a
    machine client's service account. ``ctx`` may be the authentication edge's system Context."""
    effective = role or Role(user.role)
    if effective not in _TRAINABLE or user.is_service:
        return True
    row = ctx.session.execute(_gate_statement(user.id, ctx.clock.now())).one_or_none()
    if row is None:
        return True
    enforced, roles, not_current, latest, signed = row
    if not enforced or effective not in _roles_of(roles or ""):
        return True
    return int(not_current or 0) == 0 and (latest is None or signed == latest)


def cleared_actor(ctx: Context, user: StaffUser, role: Role | None = None) -> Actor:
    """The Actor of ``user`` (with ``role``, e.g. an API token's), ``cleared=False`` when the policy gates them."""
    actor = actor_of(user, role)
    if is_cleared(ctx, user, role=actor.role):
        return actor
    return replace(actor, cleared=False)


def require_current(ctx: Context, user_id: str) -> None:
    """Refuse (R-23-3, ``training_required``) a staff member without a current required training or the latest
    pledge, whether or not the policy is on (e.g. a successor taking over customers). No authorisation of its own:
    the calling service has authorised its action."""
    user = _user_by_id(ctx, user_id)
    if not _statuses(ctx, [user])[user.id].current:
        raise PolicyDenied(
            "この担当者は有効な研修の受講または最新の誓約書の提出がないため、個人データを扱えません。",
            "This staff member lacks a current training or the latest signed pledge and may not handle "
            "personal data.",
            rule_id=RULE_ID,
            code="training_required",
            details={"staff_id": user.id},
        )


# -- the scheduled expiry check ---------------------------------------------------------------------------------------


def _addresses(raw: str | None) -> list[str]:
    return [a.strip() for a in (raw or "").split(",") if a.strip()]


def _digest(lang: str, expiring: Mapping[str, str], not_current: Mapping[str, str]) -> tuple[str, str]:
    """(subject, text) of the privacy team's digest: user names and states only."""
    if lang == "en":
        lines = ["Training and pledges (R-23-3):", ""]
        lines += [f"- {u}: not current ({why})" for u, why in sorted(not_current.items())]
        lines += [f"- {u}: a training expires within 30 days ({why})" for u, why in sorted(expiring.items())]
        lines += [
            "",
            "Record completions and signatures on the 研修・誓約 page or with mamori staff training.",
        ]
        return f"[mamori] training: {len(not_current)} not current, {len(expiring)} expiring", "\n".join(
            lines
        )
    lines = ["研修・誓約の状況（R-23-3）:", ""]
    lines += [f"- {u}: 未受講・期限切れ・誓約未提出（{why}）" for u, why in sorted(not_current.items())]
    lines += [f"- {u}: 30日以内に研修の有効期限（{why}）" for u, why in sorted(expiring.items())]
    lines += ["", "受講と署名は「研修・誓約」画面または mamori staff training で記録してください。"]
    return f"[mamori] 研修: 期限切れ等 {len(not_current)} 名・期限間近 {len(expiring)} 名", "\n".join(lines)


def expiry_check(ctx: Context, *, job_run_id: str | None = None) -> dict[str, object]:
    """The scheduled check (``mamori.staff.jobs.expiry_job`` runs it as the system): how many covered staff have a
    required training expiring within 30 days, how many are not current (expired, missing or the pledge
    unsigned); one audit entry, and a digest (user names and states only) to the privacy team's mailbox
    (``MAMORI_REMINDER_TO``) when set. Staff accounts have no e-mail address, so each staff member sees their own
    status on the 研修・誓約 page. Returns counts only."""
    require_training_manage(ctx)
    _, statuses = _overdue(ctx)
    not_current = {
        s.username: ",".join(
            [c.code for c in s.courses if c.required and c.state in ("expired", "missing")]
            + ([] if s.pledge_signed else ["pledge"])
        )
        for s in statuses
        if not s.current
    }
    expiring = {
        s.username: ",".join(c.code for c in s.courses if c.required and c.state == "expiring")
        for s in statuses
        if s.current and any(c.required and c.state == "expiring" for c in s.courses)
    }
    settings = ctx.runtime.settings
    addresses = _addresses(settings.reminder_to)
    mails = 0
    if addresses and (not_current or expiring):
        subject, text = _digest(settings.lang, expiring, not_current)
        for to in addresses:  # one message per address: a recipient never sees the others
            mail.enqueue(ctx, mail.Mail(to=to, subject=subject, text=text, topic=TOPIC_EXPIRY))
            mails += 1
    elif not addresses:
        log.info("training expiry: reminder_to is not set; no digest is sent")
    counts: dict[str, int] = {
        "covered": len(statuses),
        "expiring": len(expiring),
        "not_current": len(not_current),
        "mails": mails,
    }
    record_info(ctx, "staff.training_expiry", details={"job_run_id": job_run_id, **counts})
    return dict(counts)
