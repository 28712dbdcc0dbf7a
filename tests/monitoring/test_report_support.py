"""Helpers of the governance-report tests (issue 25 "Deliver" 4), no tests of its own: a store with a known
November 2026 — activity per role, alerts, requests from the person, incidents and access reviews — and the figures
the report must show for it, worked out by hand in the comments. The clock stands at Wednesday 2 December 2026
10:00 JST, so the default month is November and every audit entry the set-up writes falls in December (the
evaluation of the audit log, which the report runs first, adds nothing to November). Synthetic data only."""

from __future__ import annotations

from datetime import UTC, date, datetime

from mamori.incidents.schemas import IncidentIn
from mamori.incidents.service import register as incidents_register
from mamori.kernel.clock import JST, FrozenClock
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.db import new_id
from mamori.kernel.runtime import Runtime
from mamori.monitoring.models import (
    AccessReview,
    AccessReviewLine,
    MonitoringAlert,
    MonitoringDaily,
)
from mamori.rights.models import RightsRequest
from mamori.staff import service as staff_service
from tests.factories import make_customer

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # Wednesday 2 Dec 2026 10:00 JST
MONTH_END = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 1 Dec 00:00 JST: the end of November
# A customer the report must never show (it reads counts only).
CUSTOMER = {"name": "監視 花子", "phone": "090-3141-5926", "email": "hanako.kanshi@example.jp"}
INCIDENT_TITLES = ("社内からの持ち出しのおそれ", "在宅勤務中に画面を見られたおそれ", "外部からの不正アクセス")


def december_clock() -> FrozenClock:
    return FrozenClock(NOW)


def jst(y: int, m: int, d: int, h: int = 9, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=JST).astimezone(UTC)


def actor(rt: Runtime, username: str) -> Actor:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


# -- monitoring_daily: what the evaluation counted per account and JST day ----------------------------------------

# (account, role, day, entries, reads, denials, exports, off_hours, sensitive)
DAILY = (
    ("sato", "sales", date(2026, 11, 2), 40, 30, 2, 0, 5, 0),
    ("sato", "sales", date(2026, 11, 30), 10, 8, 0, 100, 0, 1),
    ("suzuki", "sales", date(2026, 11, 15), 20, 12, 12, 0, 0, 0),
    ("support", "support", date(2026, 11, 10), 50, 45, 1, 0, 3, 2),
    # outside November: never counted
    ("sato", "sales", date(2026, 10, 31), 999, 999, 999, 999, 999, 999),
    ("support", "support", date(2026, 12, 1), 999, 999, 999, 999, 999, 999),
)
# sales: 2 staff, 3 staff-days, entries 40+10+20 = 70, reads 30+8+12 = 50, denials 2+0+12 = 14, exports 100,
#        off hours 5, 要配慮 1; support: 1 staff, 1 day, 50 / 45 / 1 / 0 / 3 / 2.
# total: 3 staff, 4 days, 120 entries, 95 reads, 15 denials, 100 exports, 8 off hours, 3 要配慮.


def add_daily(rt: Runtime, labels: dict[str, str]) -> None:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        for who, role, day, entries, reads, denials, exports, off_hours, sensitive in DAILY:
            ctx.session.add(
                MonitoringDaily(
                    actor=labels[who],
                    day=day,
                    role=role,
                    entries=entries,
                    reads=reads,
                    denials=denials,
                    exports=exports,
                    off_hours=off_hours,
                    sensitive=sensitive,
                    detail="{}",
                    last_seq=0,
                )
            )


# -- alerts ------------------------------------------------------------------------------------------------------

# (signal, severity, account, role, day, status, reason, created_at, handled_at)
ALERTS = (
    ("read_volume", "high", "sato", "sales", date(2026, 11, 2), "incident", None,
     datetime(2026, 11, 3, 0, 0, tzinfo=UTC), datetime(2026, 11, 4, 0, 0, tzinfo=UTC)),  # handled in 1.0 day
    ("denials", "high", "suzuki", "sales", date(2026, 11, 15), "dismissed", "expected",
     datetime(2026, 11, 16, 0, 0, tzinfo=UTC), datetime(2026, 11, 19, 0, 0, tzinfo=UTC)),  # 3.0 days
    ("off_hours", "medium", "sato", "sales", date(2026, 11, 2), "looking", None,
     datetime(2026, 11, 3, 0, 0, tzinfo=UTC), None),
    ("bulk_export", "high", "sato", "sales", date(2026, 11, 30), "new", None,
     datetime(2026, 12, 1, 0, 0, tzinfo=UTC), None),
    ("sensitive_read", "medium", "support", "support", date(2026, 11, 10), "dismissed", "business",
     datetime(2026, 11, 11, 0, 0, tzinfo=UTC), datetime(2026, 11, 13, 12, 0, tzinfo=UTC)),  # 2.5 days
    # outside November: never counted
    ("read_volume", "high", "support", "support", date(2026, 10, 31), "new", None,
     datetime(2026, 11, 1, 0, 0, tzinfo=UTC), None),
    ("denials", "high", "sato", "sales", date(2026, 12, 1), "dismissed", "expected",
     datetime(2026, 12, 1, 5, 0, tzinfo=UTC), datetime(2026, 12, 1, 6, 0, tzinfo=UTC)),
)  # fmt: skip
# November: 5 raised, 3 high; new 1, looking 1, dismissed 2, incident 1; handled 3 — median of 1.0, 3.0, 2.5 = 2.5.


def add_alerts(rt: Runtime, labels: dict[str, str]) -> None:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        for n, (signal, severity, who, role, day, status, reason, created, handled) in enumerate(ALERTS, 1):
            ctx.session.add(
                MonitoringAlert(
                    id=new_id(),
                    number=n,
                    fingerprint=f"{signal}|{labels[who]}|{day.isoformat()}",
                    signal=signal,
                    severity=severity,
                    actor=labels[who],
                    actor_role=role,
                    day=day,
                    first_at=created,
                    last_at=created,
                    observed=100,
                    threshold=10,
                    baseline=None,
                    baseline_kind=None,
                    entries_total=3,
                    entry_seqs="[1, 2, 3]",
                    detail="{}",
                    status=status,
                    dismiss_reason=reason,
                    handled_by="staff:po" if handled else None,
                    handled_at=handled,
                    created_at=created,
                    updated_at=handled or created,
                )
            )


# -- requests from the person ------------------------------------------------------------------------------------

# (received, due, extended due, answered): received 09:00 JST, answered 17:00 JST
REQUESTS = (
    (date(2026, 11, 2), date(2026, 11, 16), None, date(2026, 11, 10)),  # R1 on time, 8 days
    (date(2026, 11, 5), date(2026, 11, 19), None, date(2026, 11, 25)),  # R2 late, 20 days
    (date(2026, 11, 20), date(2026, 12, 4), None, None),  # R3 open, not due yet: left out of the rate
    (date(2026, 10, 1), date(2026, 10, 15), None, None),  # R4 October's, open past due at the end of November
    (
        date(2026, 10, 20),
        date(2026, 11, 3),
        None,
        date(2026, 12, 1),
    ),  # R5 answered after November: open past due
    (date(2026, 11, 25), date(2026, 11, 28), None, None),  # R6 open past due: late, and overdue at the end
    (date(2026, 11, 16), date(2026, 11, 30), None, None),  # R7 due on the last day, unanswered: late, overdue
    (
        date(2026, 11, 3),
        date(2026, 11, 17),
        date(2026, 12, 17),
        date(2026, 12, 1),
    ),  # R8 extended: on time, 28 d
    (date(2026, 9, 1), date(2026, 9, 15), None, date(2026, 9, 10)),  # R9 September's, answered: never counted
)
# November: received 6 (R1 R2 R3 R6 R7 R8); decided 5; on time 2 (R1 R8); late 3 (R2 R6 R7); pending 1 (R3);
# 40.0 %; answered 3, median of 8, 20, 28 days = 20.0; open past due at the end of November: R4 R5 R6 R7 = 4.


def add_requests(rt: Runtime) -> None:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        for n, (received, due, extended, answered) in enumerate(REQUESTS, 1):
            ctx.session.add(
                RightsRequest(
                    id=new_id(),
                    receipt_no=f"R-2026-{n:06d}",
                    kind="disclosure",
                    regime="appi",
                    regime_source="default",
                    channel="web",
                    status="closed" if answered else "verified",
                    received_at=jst(received.year, received.month, received.day, 9),
                    due_on=due,
                    extended_due_on=extended,
                    answered_at=jst(answered.year, answered.month, answered.day, 17) if answered else None,
                    created_by="test",
                )
            )


# -- incidents ---------------------------------------------------------------------------------------------------


def _incident(rt: Runtime, po: Actor, title: str, cause: str, known_at: datetime, *, suspected: bool) -> str:
    data = {
        "title": title,
        "kind": "leak",
        "suspected": suspected,
        "known_at": known_at,
        "known_by": "営業部",
        "discovered_by": "情報システム部",
        "cause": cause,
    }
    with rt.transaction(po) as ctx:
        return incidents_register.register(ctx, IncidentIn.model_validate(data)).ref


def add_incidents(rt: Runtime, po: Actor) -> None:
    """INC-0001 insider (R-26-1 ③ reportable), known Wed 4 Nov: 速報 due day 5 = 8 Nov, filed 6 Nov (on time); 確報
    day 60 = Sat 2 Jan 2027 → rolled past the new-year holidays to Mon 4 Jan 2027 (not yet due).
    INC-0002 remote work, suspected, known 20 Nov: not reportable; closed.
    INC-0003 external attack (③), known Tue 24 Nov: 速報 due 28 Nov, not filed (overdue on 2 Dec); 確報 day 60 =
    Fri 22 Jan 2027 (not yet due).
    INC-0004 known 20 Oct: not November's, still open."""
    first = _incident(rt, po, INCIDENT_TITLES[0], "insider", jst(2026, 11, 4, 10), suspected=False)
    second = _incident(rt, po, INCIDENT_TITLES[1], "remote_work", jst(2026, 11, 20, 10), suspected=True)
    _incident(rt, po, INCIDENT_TITLES[2], "external_attack", jst(2026, 11, 24, 10), suspected=False)
    _incident(rt, po, "10月の誤送信", "misdelivery", jst(2026, 10, 20, 10), suspected=False)
    with rt.transaction(po) as ctx:
        incidents_register.record_filing(ctx, first, "prelim", jst(2026, 11, 6, 15))
        incidents_register.close(ctx, second)


# -- access reviews ----------------------------------------------------------------------------------------------

# (ref, period, status, started, closed, [(decision, change, flags)])
REVIEWS = (
    ("AR-2026-Q2", (date(2026, 4, 1), date(2026, 6, 30)), "closed", jst(2026, 7, 1), jst(2026, 7, 3),
     [("confirm", None, ""), ("confirm", None, "")]),
    ("AR-2026-Q3", (date(2026, 7, 1), date(2026, 9, 30)), "closed", jst(2026, 10, 1), jst(2026, 10, 5, 10),
     [("confirm", None, ""), ("change", "disable", "unused"), ("change", "revoke_tokens", "untrained,no_pledge")]),
    ("AR-2026-Q4", (date(2026, 10, 1), date(2026, 12, 31)), "open", jst(2026, 12, 1, 10), None,
     [("confirm", None, ""), (None, None, "unused")]),
)  # fmt: skip
# Quarterly, on 2 Dec: the period now due is 2026-Q4 (not closed yet: not done); the previous, 2026-Q3, is covered
# by AR-2026-Q3 (not overdue). Last closed: AR-2026-Q3, closed 5 Oct, 3 lines, 3 decided, 2 changed, 2 flagged.
# Under way: AR-2026-Q4, 2 lines, 1 decided, 0 changed, 1 flagged.


def add_reviews(rt: Runtime) -> None:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        for ref, (start, end), status, started, closed, lines in REVIEWS:
            review_id = new_id()
            ctx.session.add(
                AccessReview(
                    id=review_id,
                    ref=ref,
                    period_start=start,
                    period_end=end,
                    unused_days=90,
                    status=status,
                    started_by="staff:po",
                    started_at=started,
                    closed_by="staff:po" if closed else None,
                    closed_at=closed,
                    digest="0" * 64 if closed else None,
                )
            )
            ctx.session.flush()
            for n, (decision, change, flags) in enumerate(lines):
                ctx.session.add(
                    AccessReviewLine(
                        id=new_id(),
                        review_id=review_id,
                        staff_id=f"s{n}",
                        username=f"reviewed-account-{n}",
                        role="sales",
                        kind="person",
                        active=True,
                        token_purposes="",
                        tokens=0,
                        last_sign_in=None,
                        trained=True,
                        pledged=True,
                        owned_customers=3,
                        flags=flags,
                        decision=decision,
                        change=change,
                        note=None,
                        decided_by="staff:po" if decision else None,
                        decided_at=started if decision else None,
                    )
                )


def november(rt: Runtime) -> dict[str, str]:
    """The whole story on a store whose staff exist (seed_basics or the Api): returns the audit labels by user."""
    labels = {name: actor(rt, name).label for name in ("sato", "suzuki", "support", "po")}
    po = actor(rt, "po")
    make_customer(
        rt, actor(rt, "sato"), name=CUSTOMER["name"], phone=CUSTOMER["phone"], email=CUSTOMER["email"]
    )
    add_daily(rt, labels)
    add_alerts(rt, labels)
    add_requests(rt)
    add_incidents(rt, po)
    add_reviews(rt)
    return labels


def no_external_url(html: str) -> bool:
    """No src / href pointing anywhere outside the document (and no URL at all in an attribute)."""
    import re

    return re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I) is None and not re.search(
        r"https?://", html
    )
