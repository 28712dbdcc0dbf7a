"""Purpose notices per person (R-17-2, R-21-1) and notice exceptions (R-21-3).

Each person's ``customer_purposes`` row names the version of the purpose they were notified of. A revision of
the purpose (a new version) reaches a person only once they are notified of it: until then reads and writes
use the version they were told (``common.resources``). Here the privacy office records that persons were
notified of the current version, lists who still needs the notice, and records a notice exception (ACT 21(4)),
which stands in for the notice of the current version and names its ground and who decided.

Every function is authorised (``purpose.notice``) and audited with customer ids and purpose versions only.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from mamori.customers import queries
from mamori.customers.models import CustomerPurpose
from mamori.customers.schemas import (
    NOTICE_EXCEPTION_GROUNDS,
    NoticeExceptionIn,
    NoticeIn,
    NoticeResult,
    PendingNotice,
    PendingNoticeList,
    PurposeNoticeRead,
)
from mamori.customers.service.core.common import _not_found, notice_reads
from mamori.kernel import registry
from mamori.kernel.auditing import authorise, record_info, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import chunks
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Action, Resource
from mamori.law.rules import R_17_1, R_17_2, R_18_1, R_18_2, R_21_1, R_21_3
from mamori.purposes import service as purposes_service

NOTICE_METHODS = ("notified", "stated", "published")


def _authorise(ctx: Context, subject_ids: Sequence[str] = ()) -> None:
    authorise(ctx, Action.PURPOSE_NOTICE, Resource(kind="purpose_notice"), subject_ids)


def _current_version(ctx: Context, code: str) -> int:
    """The purpose's current version; unknown or retired purposes are refused (R-17-1)."""
    found = purposes_service.current_versions(ctx, [code]).get(code)
    if found is None:
        raise NotFound(
            f"利用目的「{code}」は登録されていません。",
            f"Purpose '{code}' is not registered.",
            rule_id=R_17_1.id,
            code="purpose_unknown",
        )
    version, retired = found
    if retired:
        raise PolicyDenied(
            f"利用目的「{code}」は廃止されています。",
            f"Purpose '{code}' has been retired.",
            rule_id=R_17_1.id,
            code="purpose_retired",
        )
    return version


def _live(ids: Sequence[str], ctx: Context) -> set[str]:
    live: set[str] = set()
    for chunk in chunks(list(dict.fromkeys(ids))):
        live.update(ctx.session.execute(queries.live_ids(chunk)).scalars())
    return live


def pending_count(ctx: Context, code: str) -> int:
    """How many live persons were notified of an older version of ``code`` only (counts, no ids)."""
    found = purposes_service.current_versions(ctx, [code]).get(code)
    if found is None:
        return 0
    stmt = select(func.count()).select_from(queries.notices_behind(code, found[0]).subquery())
    return int(ctx.session.execute(stmt).scalar_one())


def pending(ctx: Context, code: str) -> PendingNoticeList:
    """Who still needs the notice of ``code``'s current version (R-17-2 / R-21-1), and who stands on a recorded
    notice exception (R-21-3). Customer ids and versions only; audited."""
    _authorise(ctx)
    found = purposes_service.current_versions(ctx, [code]).get(code)
    if found is None:
        _current_version(ctx, code)  # raises purpose_unknown
        raise AssertionError("unreachable")
    version = found[0]
    rows = list(ctx.session.execute(queries.notices_behind(code, version)).scalars())
    exception_rows = list(ctx.session.execute(queries.notice_exception_ids(code)).scalars())
    exceptions = [n for cid, ns in notice_reads(ctx, exception_rows, code).items() for n in ns]
    result = PendingNoticeList(
        purpose=code,
        current_version=version,
        pending=[
            PendingNotice(
                customer_id=r.customer_id,
                notified_version=r.purpose_version,
                method=r.method,
                notified_at=r.notified_at,
            )
            for r in rows
        ],
        exceptions=exceptions,
    )
    record_info(
        ctx,
        "purpose.pending_notice",
        [r.customer_id for r in rows],
        details={"purpose": code, "version": version, "pending": len(rows), "exceptions": len(exceptions)},
    )
    return result


def notify(ctx: Context, data: NoticeIn) -> NoticeResult:
    """Record that these persons (or every person still pending) were notified of the current version.

    Only persons already notified of an earlier version of the purpose can be moved on (a revision stays within
    what is reasonably related to the old purpose, R-17-2); using a person's data for a purpose they were never
    told of is use beyond the purpose (R-18-1), which a notice alone does not cure.
    """
    _authorise(ctx, data.customer_ids)
    if data.all_pending == bool(data.customer_ids):
        raise ValidationFailed(
            "通知した本人か「通知が必要な全員」のどちらか一方を指定してください。",
            "Give either the notified customers or all pending persons, not both or neither.",
            code="notice_targets",
        )
    version = _current_version(ctx, data.purpose)
    if data.all_pending:
        rows = list(ctx.session.execute(queries.notices_behind(data.purpose, version)).scalars())
        already: list[str] = []
    else:
        wanted = list(dict.fromkeys(data.customer_ids))
        live = _live(wanted, ctx)
        missing = [cid for cid in wanted if cid not in live]
        if missing:
            raise _not_found(missing[0])
        found: dict[str, CustomerPurpose] = {}
        for chunk in chunks(wanted):
            for row in ctx.session.execute(queries.notices_of(chunk, data.purpose)).scalars():
                found[row.customer_id] = row
        never = [cid for cid in wanted if cid not in found]
        if never:
            raise PolicyDenied(
                f"利用目的「{data.purpose}」のどの版も通知されていない本人がいます（{len(never)} 人）。"
                "新たな目的での利用には本人の同意が必要です。",
                f"{len(never)} of these persons were never notified of any version of '{data.purpose}'; "
                "a new purpose needs the person's consent.",
                rule_id=R_18_1.id,
                code="purpose_never_notified",
                details={"customer_ids": never[:20]},
            )
        rows = [found[cid] for cid in wanted if found[cid].purpose_version < version]
        already = [cid for cid in wanted if found[cid].purpose_version >= version]
    held = _beyond_succession(ctx, [r.customer_id for r in rows], data.purpose)
    if held and not data.all_pending:
        raise PolicyDenied(
            f"事業承継で取得した本人（{len(held)} 人）には、承継前の利用目的の版を超える新しい版を"
            "本人の同意なく適用できません。",
            f"{len(held)} of these persons were received by succession: a newer version of the purpose than the "
            "one that applied before the succession needs their consent.",
            rule_id=R_18_2.id,
            code="purpose_outside_succession",
            details={"customer_ids": held[:20]},
        )
    rows = [r for r in rows if r.customer_id not in set(held)]
    now = ctx.clock.now()
    for row in rows:
        row.purpose_version = version
        row.method = data.method
        row.notified_at = now
        row.exception_ground = None
        row.exception_by = None
    ctx.session.flush()
    recorded = [r.customer_id for r in rows]
    if recorded:
        record_write(
            ctx,
            "purpose.notify",
            recorded,
            ("customer_purposes",),
            rule_ids=(R_17_2.id, R_21_1.id),
            details={"purpose": data.purpose, "version": version, "method": data.method, "n": len(recorded)},
        )
    return NoticeResult(
        purpose=data.purpose,
        version=version,
        method=data.method,
        recorded=recorded,
        already_current=already,
        held_back=held,
    )


def _beyond_succession(ctx: Context, customer_ids: Sequence[str], purpose: str) -> list[str]:
    """R-18-2: of these persons, those received by succession (a purpose limit on their provenance) who have not
    consented to ``purpose``: data acquired by succession is used without consent only within the purposes as
    they applied before the succession, so a newer version of the purpose does not reach them by notice alone."""
    limited = {
        cid for cid, _limit in ctx.session.execute(queries.succession_limits(list(customer_ids))).all()
    }
    if not limited:
        return []
    states = registry.purpose_states(ctx, sorted(limited), purpose)
    return sorted(
        cid
        for cid in limited
        if states.get(cid) is None or states[cid].consent != registry.ConsentState.GRANTED
    )


def record_exception(ctx: Context, customer_id: str, data: NoticeExceptionIn) -> PurposeNoticeRead:
    """Record a notice exception (ACT 21(4), R-21-3) for one person and purpose: it stands in for the notice of
    the current version. A ground is required; who decided is the acting staff member."""
    _authorise(ctx, [customer_id])
    if data.ground is None or data.ground not in NOTICE_EXCEPTION_GROUNDS:
        raise ValidationFailed(
            "通知等の例外には法21条4項の事由（" + " / ".join(NOTICE_EXCEPTION_GROUNDS) + "）が必要です。",
            "A notice exception needs its ACT 21(4) ground (" + " / ".join(NOTICE_EXCEPTION_GROUNDS) + ").",
            rule_id=R_21_3.id,
            code="exception_ground_missing",
        )
    version = _current_version(ctx, data.purpose)
    if customer_id not in _live([customer_id], ctx):
        raise _not_found(customer_id)
    row = ctx.session.execute(queries.notices_of([customer_id], data.purpose)).scalar_one_or_none()
    now = ctx.clock.now()
    if row is None:
        row = CustomerPurpose(customer_id=customer_id, purpose_code=data.purpose)
        ctx.session.add(row)
    row.purpose_version = version
    row.method = "exception"
    row.notified_at = now
    row.exception_ground = data.ground
    row.exception_by = ctx.actor.label
    ctx.session.flush()
    record_write(
        ctx,
        "purpose.notice_exception",
        [customer_id],
        ("customer_purposes",),
        rule_ids=(R_21_3.id,),
        details={"purpose": data.purpose, "version": version, "ground": data.ground},
    )
    return notice_reads(ctx, [customer_id], data.purpose)[customer_id][0]


__all__ = ["NOTICE_METHODS", "notify", "pending", "pending_count", "record_exception"]
