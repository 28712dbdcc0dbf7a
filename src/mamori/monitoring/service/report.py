"""The monthly governance report (issue 25, "Deliver" 4): the figures behind seed 002's checklist, for one month of
JST days, for the management (Japanese first, English available; HTML and PDF).

``build(ctx, month)`` (``monitoring.report``: privacy officer, administrator) reads:

- **閲覧・持出し by role** — ``monitoring_daily`` (what the evaluation of the audit log counted per account and JST
  day) summed per role over the month, with the active accounts per role (``staff_users``). When the actor may
  run the evaluation (:mod:`mamori.monitoring.service.evaluate`, ``monitoring.evaluate``), it runs first, so the
  figures reach the newest audit entry; the report always says how far the log had been evaluated
  (``monitoring_state``).
- **アラート** — ``monitoring_alerts`` whose JST day is in the month: by signal and by status now, the high-severity
  ones, the median days from raised to handled (dismissed or an incident opened).
- **開示等の請求** — ``rights_requests`` received in the month, read with the KPI dashboard's query
  (``analytics.queries.requests_received``) and counted as ``analytics.service.kpi`` counts them (on time against
  the due date, the extended one when extended; open past due = late; open not yet due left out; median calendar
  days to the answer), and the requests of any month open past their due date at the end of the month. The KPI
  service itself is not called: it computes the whole dashboard, and for the privacy officer its data-quality
  figure opens every customer's values.
- **漏えい等事案** — incidents known in the month (``known_at``, R-26-2), each through the register's board row
  (``incidents.service.register.board_row``: R-26-1 classification and the report clock) and its filing dates.
- **アクセス権の見直し** — ``access_reviews`` / ``access_review_lines``: the period now due (the interval in force,
  ``service.settings``, periods aligned to the calendar year), whether a closed review covers it, overdue when none
  covers the previous period (as the access reviews page judges it), the last closed review and the one under way.
- **実践チェックリスト** — seed 002's checklist as :func:`mamori.analytics.service.checklist.checklist` answers it
  now (when the actor holds ``analytics.governance``; it audits itself).

Counts, rates, dates, codes and roles only: no customer's value or id, no member of staff by name (roles and
counts), incidents by number without their title. Each report is audited ``monitoring.report`` with the month and
the format. :mod:`mamori.monitoring.service.report_layout` lays it out (``sections``, the layout all renderers
share) and renders it (``render_html`` / ``render_pdf``).
"""

from __future__ import annotations

import calendar
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select

from mamori.analytics import queries as analytics_queries
from mamori.analytics.permissions import ANALYTICS_GOVERNANCE
from mamori.analytics.service import checklist as checklist_service
from mamori.incidents.models import Incident
from mamori.incidents.service.classify import TRIGGERS
from mamori.incidents.service.register import board_row
from mamori.kernel import labels
from mamori.kernel.auditing import authorise, record_info
from mamori.kernel.clock import JST, ensure_aware, today_jst
from mamori.kernel.context import Context, Role
from mamori.kernel.errors import Conflict, ValidationFailed
from mamori.kernel.policy import Resource, decide
from mamori.monitoring import signals
from mamori.monitoring.models import (
    CHANGE,
    DISMISSED,
    INCIDENT,
    LOOKING,
    NEW,
    REVIEW_CLOSED,
    REVIEW_OPEN,
    STATUSES,
    AccessReview,
    AccessReviewLine,
    MonitoringAlert,
    MonitoringDaily,
    MonitoringState,
)
from mamori.monitoring.permissions import GOVERNANCE_REPORT, MONITORING_EVALUATE
from mamori.monitoring.report_schemas import (
    FILING_STATES,
    FORMATS,
    ActivitySection,
    AlertSection,
    ChecklistLine,
    ChecklistSection,
    EvaluationStatus,
    FilingState,
    GovernanceReport,
    IncidentLine,
    IncidentSection,
    RequestSection,
    ReviewPeriod,
    ReviewSection,
    ReviewSummary,
    RoleActivity,
    SignalCount,
)
from mamori.monitoring.service import evaluate as evaluate_service
from mamori.monitoring.service import settings as settings_service
from mamori.staff.models import StaffUser

A_REPORT = "monitoring.report"
RESOURCE = Resource(kind="monitoring_report")
EARLIEST = date(1900, 1, 1)
_MONTH = re.compile(r"^(\d{4})[-/年](\d{1,2})月?$")
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# -- the month -------------------------------------------------------------------------------------------------------


def jst_midnight(day: date) -> datetime:
    """00:00 JST of ``day`` as an aware UTC datetime."""
    return datetime.combine(day, time(0), JST).astimezone(UTC)


def jst_day(at: datetime) -> date:
    return ensure_aware(at).astimezone(JST).date()


def previous_month(today: date) -> date:
    return date(today.year - 1, 12, 1) if today.month == 1 else date(today.year, today.month - 1, 1)


def add_months(day: date, months: int) -> date:
    """``day`` ``months`` months later (the last day of the month when it has no such day: 31 Jan + 1 = 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def recent_months(today: date, n: int = 12) -> list[date]:
    """The first days of the ``n`` months before ``today``'s, newest first: the web page's month picker."""
    first = previous_month(today)
    return [add_months(first, -i) for i in range(n)]


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def month(self) -> str:
        return f"{self.first.year:04d}-{self.first.month:02d}"

    @property
    def start_utc(self) -> datetime:
        return jst_midnight(self.first)

    @property
    def end_utc(self) -> datetime:
        """Exclusive: 00:00 JST of the first day of the next month."""
        return jst_midnight(self.last + timedelta(days=1))


def period_of(month: str | None, today: date) -> Period:
    """The month asked (YYYY-MM; 2026/11 and 2026年11月 and full-width digits too), by default the one before
    ``today``'s. A malformed month or one after today's is refused (the message never repeats the input)."""
    if month is None or not month.strip():
        first = previous_month(today)
    else:
        m = _MONTH.match(unicodedata.normalize("NFKC", month).strip())
        year, number = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        if m is None or not 1 <= number <= 12 or year < EARLIEST.year:
            raise ValidationFailed(
                "対象月は YYYY-MM の形式（例: 2026-11）で指定してください。",
                "Give the month as YYYY-MM (e.g. 2026-11).",
                code="bad_month",
                details={"field": "month"},
            )
        first = date(year, number, 1)
        if first > today.replace(day=1):
            raise ValidationFailed(
                "まだ来ていない月の報告は作成できません。",
                "A month that has not begun cannot be reported.",
                code="future_month",
                details={"field": "month"},
            )
    last = date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
    return Period(first, last)


def era_month(first: date) -> str:
    """The month in 和暦: 令和8年11月 (令和元年5月)."""
    return f"{labels.era_year(first)}{first.month}月"


def month_label(first: date, lang: str = "ja") -> str:
    """2026年11月（令和8年11月） / November 2026: 西暦 and 和暦."""
    if lang == "en":
        return f"{_MONTHS_EN[first.month - 1]} {first.year}"
    return f"{first.year}年{first.month}月（{era_month(first)}）"


# -- the evaluation of the audit log -------------------------------------------------------------------------------


def _evaluation(ctx: Context, period: Period) -> EvaluationStatus:
    """Evaluate the audit log first when the actor may (``monitoring.evaluate``; the evaluation authorises and
    audits itself), then say how far it has been read (``monitoring_state``)."""
    ran = decide(ctx, MONITORING_EVALUATE, evaluate_service.RESOURCE).allowed
    if ran:
        try:
            with ctx.session.begin_nested():  # an evaluation running at the same moment: report what it left
                evaluate_service.evaluate(ctx)
        except Conflict as exc:
            if exc.code != "evaluation_busy":
                raise
            ran = False
    state = ctx.session.get(MonitoringState, evaluate_service.STATE_ID)
    at = ensure_aware(state.evaluated_at) if state is not None and state.evaluated_at is not None else None
    return EvaluationStatus(
        ran_now=ran,
        evaluated_at=at,
        last_seq=int(state.last_seq) if state is not None else 0,
        covers_period=at is not None and at >= period.end_utc,
    )


# -- 閲覧・持出し by role ------------------------------------------------------------------------------------------------


def _role_order(role: str) -> tuple[int, str]:
    order = [r.value for r in Role]
    return (order.index(role) if role in order else len(order), role)


def _activity(ctx: Context, period: Period) -> ActivitySection:
    d = MonitoringDaily
    sums = {
        str(role): [int(v or 0) for v in rest]
        for role, *rest in ctx.session.execute(
            select(
                d.role,
                func.count(func.distinct(d.actor)),
                func.count(),
                func.sum(d.entries),
                func.sum(d.reads),
                func.sum(d.denials),
                func.sum(d.exports),
                func.sum(d.off_hours),
                func.sum(d.sensitive),
            )
            .where(d.day >= period.first, d.day <= period.last)
            .group_by(d.role)
        ).all()
    }
    accounts: Counter[str] = Counter()
    services: Counter[str] = Counter()
    for role, kind, n in ctx.session.execute(
        select(StaffUser.role, StaffUser.kind, func.count())
        .where(StaffUser.active.is_(True))
        .group_by(StaffUser.role, StaffUser.kind)
    ).all():
        (services if kind == "service" else accounts)[str(role)] += int(n)
    staff_roles = {r.value for r in Role if r not in (Role.SYSTEM, Role.PERSON)}
    roles = sorted(staff_roles | set(sums) | set(accounts) | set(services), key=_role_order)
    rows = []
    for role in roles:
        active, days, entries, reads, denials, exports, off_hours, sensitive = sums.get(role, [0] * 8)
        rows.append(
            RoleActivity(
                role=role,
                role_ja=labels.value("role", role, "ja"),
                role_en=labels.value("role", role, "en"),
                accounts=accounts[role],
                service_accounts=services[role],
                active_staff=active,
                staff_days=days,
                entries=entries,
                reads=reads,
                denials=denials,
                exports=exports,
                off_hours=off_hours,
                sensitive=sensitive,
            )
        )
    numbers = (
        "accounts",
        "service_accounts",
        "active_staff",
        "staff_days",
        "entries",
        "reads",
        "denials",
        "exports",
        "off_hours",
        "sensitive",
    )
    total = RoleActivity(
        role="total",
        role_ja="合計",
        role_en="Total",
        **{n: sum(getattr(r, n) for r in rows) for n in numbers},
    )
    return ActivitySection(
        roles=rows, total=total, sources=["monitoring_daily", "staff_users (role, kind, active)"]
    )


# -- alerts ----------------------------------------------------------------------------------------------------------


def _alerts(ctx: Context, period: Period) -> AlertSection:
    a = MonitoringAlert
    rows = ctx.session.execute(
        select(a.signal, a.severity, a.status, a.dismiss_reason, a.created_at, a.handled_at).where(
            a.day >= period.first, a.day <= period.last
        )
    ).all()
    by_status = {s: 0 for s in STATUSES}
    per_signal: dict[str, Counter[str]] = {}
    reasons: Counter[str] = Counter()
    waits: list[float] = []
    for signal, severity, status, reason, created_at, handled_at in rows:
        by_status[status] = by_status.get(status, 0) + 1
        counts = per_signal.setdefault(signal, Counter())
        counts["raised"] += 1
        counts[status] += 1
        counts["high"] += int(severity == "high")
        if status == DISMISSED and reason:
            reasons[reason] += 1
        if handled_at is not None:
            waits.append((ensure_aware(handled_at) - ensure_aware(created_at)).total_seconds() / 86400)
    known = [s.code for s in signals.SIGNALS]
    ordered = [c for c in known if c in per_signal] + sorted(set(per_signal) - set(known))
    by_signal = []
    for code in ordered:
        c = per_signal[code]
        sig = signals.BY_CODE.get(code)
        by_signal.append(
            SignalCount(
                signal=code,
                name_ja=sig.ja if sig else code,
                name_en=sig.en if sig else code,
                raised=c["raised"],
                high=c["high"],
                new=c[NEW],
                looking=c[LOOKING],
                dismissed=c[DISMISSED],
                incident=c[INCIDENT],
            )
        )
    return AlertSection(
        raised=len(rows),
        high=sum(1 for r in rows if r.severity == "high"),
        by_status=by_status,
        by_signal=by_signal,
        handled=len(waits),
        median_days_to_handle=round(statistics.median(waits), 1) if waits else None,
        dismiss_reasons=dict(sorted(reasons.items())),
        sources=["monitoring_alerts (day, signal, severity, status, created_at, handled_at)"],
    )


# -- requests from the person ----------------------------------------------------------------------------------------


def _requests(ctx: Context, period: Period, now: datetime) -> RequestSection:
    """The analytics slice's query of the KPI (``analytics.queries.requests_received``): every request received
    before the month's end, for those received in it and those of any month still open at its end."""
    today = jst_day(now)
    as_of = min(period.end_utc, now)
    rows = ctx.session.execute(
        analytics_queries.requests_received(jst_midnight(EARLIEST), period.end_utc)
    ).all()
    received = decided = on_time = answered = overdue = 0
    days: list[int] = []
    for _id, received_at, due_on, extended_due_on, answered_at, _status in rows:
        due = extended_due_on or due_on
        answer_day = jst_day(answered_at) if answered_at is not None else None
        if jst_midnight(due + timedelta(days=1)) <= as_of and (
            answered_at is None or ensure_aware(answered_at) >= as_of
        ):
            overdue += 1  # open and past its due date at the end of the month (or now)
        got = jst_day(received_at)
        if not period.first <= got <= period.last:
            continue
        received += 1
        if answer_day is not None:
            answered += 1
            days.append((answer_day - got).days)
        if answer_day is not None or due < today:  # its timeliness is known
            decided += 1
            on_time += int(answer_day is not None and answer_day <= due)
    return RequestSection(
        received=received,
        decided=decided,
        on_time=on_time,
        late=decided - on_time,
        pending_not_due=received - decided,
        on_time_rate=round(100.0 * on_time / decided, 1) if decided else None,
        answered=answered,
        median_days=float(statistics.median(days)) if days else None,
        overdue_open=overdue,
        overdue_as_of=as_of,
        sources=["rights_requests (received_at, due_on, extended_due_on, answered_at)"],
    )


# -- incidents -------------------------------------------------------------------------------------------------------


def _filing(owed: bool, filed_at: datetime | None, due: date, today: date) -> FilingState:
    if not owed:
        return "not_required"
    if filed_at is not None:
        return "on_time" if jst_day(filed_at) <= due else "late"
    return "overdue" if due < today else "pending"


def _incidents(ctx: Context, period: Period, today: date) -> IncidentSection:
    rows = (
        ctx.session.execute(
            select(Incident)
            .where(Incident.known_at >= period.start_utc, Incident.known_at < period.end_utc)
            .order_by(Incident.number)
        )
        .scalars()
        .all()
    )
    lines = []
    for row in rows:
        board = board_row(ctx, row)  # the R-26-1 classification and the clock: ids and counts only
        owed = (
            board.reportable and row.entrustor_notified_at is None
        )  # R-26-5: notified the entrustor instead
        prelim_filed = row.prelim_filed_at or row.final_filed_at  # one report can serve as both (R-26-3)
        lines.append(
            IncidentLine(
                ref=board.ref,
                kind=board.kind,
                cause=board.cause,
                suspected=board.suspected,
                status=board.status,
                known_at=ensure_aware(board.known_at),
                reportable=board.reportable,
                triggers=list(board.triggers),
                prelim_due=board.prelim_due,
                final_due=board.final_due,
                prelim=_filing(owed, prelim_filed, board.prelim_due, today),
                final=_filing(owed, row.final_filed_at, board.final_due, today),
            )
        )
    triggers: Counter[str] = Counter(t for line in lines for t in line.triggers)
    open_now = int(
        ctx.session.execute(
            select(func.count()).select_from(Incident).where(Incident.status == "open")
        ).scalar_one()
    )
    return IncidentSection(
        known=len(lines),
        reportable=sum(1 for line in lines if line.reportable),
        open=sum(1 for line in lines if line.status == "open"),
        closed=sum(1 for line in lines if line.status == "closed"),
        prelim={s: sum(1 for line in lines if line.prelim == s) for s in FILING_STATES[:-1]},
        final={s: sum(1 for line in lines if line.final == s) for s in FILING_STATES[:-1]},
        by_trigger={t: triggers.get(t, 0) for t in TRIGGERS},
        open_now=open_now,
        incidents=lines,
        sources=[
            "incidents (known_at, status, prelim_filed_at, final_filed_at)",
            "incidents.service.register.board_row",
        ],
    )


# -- access reviews --------------------------------------------------------------------------------------------------


def _review_summary(ctx: Context, review: AccessReview | None) -> ReviewSummary | None:
    if review is None:
        return None
    line = AccessReviewLine
    total, decided, changes, flagged = ctx.session.execute(
        select(
            func.count(),
            func.sum(case((line.decision.is_not(None), 1), else_=0)),
            func.sum(case((line.decision == CHANGE, 1), else_=0)),
            func.sum(case((line.flags != "", 1), else_=0)),
        ).where(line.review_id == review.id)
    ).one()
    return ReviewSummary(
        ref=review.ref,
        period_start=review.period_start,
        period_end=review.period_end,
        started_at=ensure_aware(review.started_at),
        closed_at=ensure_aware(review.closed_at) if review.closed_at is not None else None,
        lines=int(total or 0),
        decided=int(decided or 0),
        changes=int(changes or 0),
        flagged=int(flagged or 0),
    )


def review_period(day: date, months: int) -> ReviewPeriod:
    """The review period of ``months`` months (aligned to the calendar year, the last one ending on 31 December)
    that contains ``day``, labelled as the access reviews label theirs: 2026-Q4, 2026-H2, 2026-Y, 2026-11, 2026-P2."""
    index = (day.month - 1) // months + 1
    first = 1 + (index - 1) * months
    last = min(12, first + months - 1)
    tail = {3: f"Q{index}", 6: f"H{index}", 12: "Y", 1: f"{index:02d}"}.get(months, f"P{index}")
    return ReviewPeriod(
        label=f"{day.year}-{tail}",
        start=date(day.year, first, 1),
        end=date(day.year, last, calendar.monthrange(day.year, last)[1]),
    )


def _covered(ctx: Context, period: ReviewPeriod) -> bool:
    """A closed review's period overlaps ``period``."""
    r = AccessReview
    found = ctx.session.execute(
        select(r.id)
        .where(r.status == REVIEW_CLOSED, r.period_start <= period.end, r.period_end >= period.start)
        .limit(1)
    ).scalar()
    return found is not None


def _reviews(ctx: Context, today: date) -> ReviewSection:
    months = settings_service.current(ctx).review_interval_months
    current = review_period(today, months)
    previous = review_period(current.start - timedelta(days=1), months)
    r = AccessReview
    last = ctx.session.execute(
        select(r).where(r.status == REVIEW_CLOSED).order_by(r.closed_at.desc(), r.ref.desc()).limit(1)
    ).scalar()
    under_way = ctx.session.execute(
        select(r).where(r.status == REVIEW_OPEN).order_by(r.started_at.desc()).limit(1)
    ).scalar()
    return ReviewSection(
        interval_months=months,
        period=current,
        previous=previous,
        done=_covered(ctx, current),
        overdue=not _covered(ctx, previous),
        last_closed=_review_summary(ctx, last),
        open_review=_review_summary(ctx, under_way),
        as_of=today,
        sources=["access_reviews", "access_review_lines", "monitoring_settings (review)"],
    )


# -- seed 002's checklist --------------------------------------------------------------------------------------------


def _checklist(ctx: Context) -> ChecklistSection:
    if not decide(ctx, ANALYTICS_GOVERNANCE, Resource(kind="analytics_governance")).allowed:
        return ChecklistSection(
            available=False,
            note_ja="この役割では実践チェックリストを確認できないため、載せていません（analytics.governance）。",
            note_en="The checklist is left out: this role may not run it (analytics.governance).",
        )
    found = checklist_service.checklist(ctx)  # authorised and audited by the analytics slice
    return ChecklistSection(
        available=True,
        generated_at=found.generated_at,
        counts=dict(found.counts),
        items=[
            ChecklistLine(
                id=i.id,
                question_ja=i.question_ja,
                question_en=i.question_en,
                status=i.status,
                evidence_ja=[f.ja for f in i.evidence],
                evidence_en=[f.en for f in i.evidence],
                rule_ids=list(i.rule_ids),
            )
            for i in found.items
        ],
    )


# -- the report ------------------------------------------------------------------------------------------------------


def build(ctx: Context, month: str | None = None, *, fmt: str = "json") -> GovernanceReport:
    """The governance report of ``month`` (YYYY-MM, JST; default the previous month). ``monitoring.report``;
    audited with the month and ``fmt``, the format it is made for."""
    authorise(ctx, GOVERNANCE_REPORT, RESOURCE)
    if fmt not in FORMATS:
        raise ValidationFailed(
            f"形式は {' / '.join(FORMATS[:-1])} のいずれかです。",
            f"The format must be one of {', '.join(FORMATS[:-1])}.",
            code="bad_format",
            details={"field": "format"},
        )
    now = ctx.clock.now()
    today = today_jst(ctx.clock)
    period = period_of(month, today)
    evaluation = _evaluation(ctx, period)
    report = GovernanceReport(
        month=period.month,
        start=period.first,
        end=period.last,
        era=era_month(period.first),
        complete=period.end_utc <= now,
        generated_at=now,
        generated_by_role=ctx.actor.role.value,
        evaluation=evaluation,
        activity=_activity(ctx, period),
        alerts=_alerts(ctx, period),
        requests=_requests(ctx, period, now),
        incidents=_incidents(ctx, period, today),
        access_review=_reviews(ctx, today),
        checklist=_checklist(ctx),
    )
    record_info(
        ctx,
        A_REPORT,
        details={
            "month": period.month,
            "format": fmt,
            "evaluated": evaluation.ran_now,
            "alerts": report.alerts.raised,
            "requests": report.requests.received,
            "incidents": report.incidents.known,
        },
    )
    return report
