"""Evaluating the signals over the audit log (issue 25 "Deliver" 1).

One pass over the new entries (:func:`mamori.monitoring.queries.hourly`: entries after the last evaluated
sequence number, grouped by actor, role, hour, action, decision, reason and network) is folded into one row per
person and JST day (``monitoring_daily``: additive counts, so an incremental run adds exactly what is new). Each
day touched is then judged against the settings in force and the person's own history — the previous 30 days of
their rows (their role's when they have fewer than :data:`~mamori.monitoring.signals.MIN_HISTORY_DAYS` active
days):

- ``read_volume``: people read that day ≥ the floor and > threshold × the median of the person's active days;
- ``off_hours``: people read outside working hours (JST; weekends, national holidays and 29 Dec – 3 Jan are off);
- ``new_network``: reads from a network tag the person did not use in the 30 days (only once they have history);
- ``denials``: refusals within one JST hour; ``out_of_book``: a sales rep's reads refused as outside their rows;
- ``bulk_export``: one export (a contact list, a provision, a handover, a de-identified dataset) naming at least
  the threshold of people; ``sensitive_read``: reads that included 要配慮 data;
- ``disabled_account``: a session or token of a disabled account presented (``staff.credential_refused``).

An alert is one signal, person and day (its fingerprint). A day evaluated again updates an open alert's counts;
a dismissed one (or one an incident was opened from) stays as it was. Each alert names its entries: their
sequence numbers (the first 500) and the full count, fetched per person through the (actor, at) index; never a
value. The system's own work and the data subjects' public requests are not watched (``system:``, ``person:``).

``rebuild`` re-derives the daily rows from a date on (after a threshold change, or to evaluate a past month).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, insert, select, update

from mamori.kernel.auditing import authorise, record_write
from mamori.kernel.clock import JST
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict
from mamori.kernel.policy import Resource
from mamori.law.calendar_jp import is_business_day
from mamori.monitoring import queries
from mamori.monitoring.models import (
    DISMISSED,
    INCIDENT,
    MonitoringAlert,
    MonitoringAlertEvent,
    MonitoringDaily,
    MonitoringState,
)
from mamori.monitoring.permissions import MONITORING_EVALUATE
from mamori.monitoring.schemas import EvaluationRead
from mamori.monitoring.service.settings import Settings, current
from mamori.monitoring.signals import (
    BULK_EXPORT,
    DEAD_CREDENTIAL,
    DENIALS,
    DISABLED_ACCOUNT,
    EXPORT_ACTIONS,
    HISTORY_DAYS,
    MAX_ENTRY_SEQS,
    MIN_HISTORY_DAYS,
    NEW_NETWORK,
    OFF_HOURS,
    OUT_OF_BOOK,
    OUT_OF_SCOPE_CODES,
    READ_ACTIONS,
    READ_VOLUME,
    SENSITIVE_READ,
)

RESOURCE = Resource(kind="monitoring")
A_EVALUATE = "monitoring.evaluate"
A_RAISED = "monitoring.alert_raised"
STATE_ID = 1
UNWATCHED = ("system:", "person:")
UNWATCHED_ROLES = frozenset(
    {"system", "person"}
)  # the system's own work (and the log's genesis), data subjects
_READS = frozenset(READ_ACTIONS)
_EXPORTS = frozenset(EXPORT_ACTIONS)
SEVERITY_ORDER = {"low": 0, "medium": 1, "high": 2}


@dataclass
class DayCounts:
    """One person's day, as folded from the audit groups (additive)."""

    role: str
    entries: int = 0
    reads: int = 0
    denials: int = 0
    exports: int = 0
    off_hours: int = 0
    sensitive: int = 0
    last_seq: int = 0
    nets: Counter[str] = field(default_factory=Counter)
    deny_hours: Counter[str] = field(default_factory=Counter)
    out_of_book: int = 0
    dead: int = 0
    export_max: int = 0

    def add(self, other: DayCounts) -> None:
        self.role = other.role or self.role
        self.entries += other.entries
        self.reads += other.reads
        self.denials += other.denials
        self.exports += other.exports
        self.off_hours += other.off_hours
        self.sensitive += other.sensitive
        self.last_seq = max(self.last_seq, other.last_seq)
        self.nets.update(other.nets)
        self.deny_hours.update(other.deny_hours)
        self.out_of_book += other.out_of_book
        self.dead += other.dead
        self.export_max = max(self.export_max, other.export_max)

    def detail_json(self) -> str:
        return json.dumps(
            {
                "nets": dict(sorted(self.nets.items())),
                "deny_hours": dict(sorted(self.deny_hours.items())),
                "out_of_book": self.out_of_book,
                "dead": self.dead,
                "export_max": self.export_max,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def of_row(cls, row: MonitoringDaily) -> DayCounts:
        raw = json.loads(row.detail or "{}")
        return cls(
            role=row.role,
            entries=row.entries,
            reads=row.reads,
            denials=row.denials,
            exports=row.exports,
            off_hours=row.off_hours,
            sensitive=row.sensitive,
            last_seq=int(row.last_seq),
            nets=Counter({str(k): int(v) for k, v in (raw.get("nets") or {}).items()}),
            deny_hours=Counter({str(k): int(v) for k, v in (raw.get("deny_hours") or {}).items()}),
            out_of_book=int(raw.get("out_of_book", 0)),
            dead=int(raw.get("dead", 0)),
            export_max=int(raw.get("export_max", 0)),
        )


@dataclass(frozen=True)
class Finding:
    """A signal that fired for one person and day, with how to find its entries."""

    signal: str
    actor: str
    role: str
    day: date
    observed: float
    threshold: float
    baseline: float | None = None
    baseline_kind: str | None = None
    windows: tuple[tuple[datetime, datetime], ...] = ()
    actions: tuple[str, ...] = ()
    decisions: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    min_people: int = 0
    sensitive: bool = False
    nets: tuple[str, ...] = ()
    detail: tuple[tuple[str, str | int | float | bool], ...] = ()


def jst_of(hour_bucket: str) -> tuple[date, int]:
    """The JST day and hour of a UTC hour bucket (``YYYY-MM-DDTHH`` as the audit log's ``at`` begins)."""
    at = datetime(
        int(hour_bucket[0:4]),
        int(hour_bucket[5:7]),
        int(hour_bucket[8:10]),
        int(hour_bucket[11:13]),
        tzinfo=UTC,
    ).astimezone(JST)
    return at.date(), at.hour


def is_off_hours(day: date, hour: int, settings: Settings) -> bool:
    """Outside working hours: a day that is no business day in Japan, or an hour outside [start, end)."""
    return not is_business_day(day) or hour < settings.hours_start or hour >= settings.hours_end


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=JST)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def fold(groups: Iterable[Any], settings: Settings) -> dict[tuple[str, date], DayCounts]:
    """The aggregate groups folded into one :class:`DayCounts` per (actor, JST day)."""
    days: dict[tuple[str, date], DayCounts] = {}
    off_cache: dict[tuple[date, int], bool] = {}
    for g in groups:
        actor = g.actor
        if actor.startswith(UNWATCHED) or g.actor_role in UNWATCHED_ROLES:
            continue
        day, hour = jst_of(g.hour)
        cell = days.get((actor, day))
        if cell is None:
            cell = days[(actor, day)] = DayCounts(role=g.actor_role)
        n, people = int(g.n), int(g.people or 0)
        cell.entries += n
        cell.last_seq = max(cell.last_seq, int(g.last_seq))
        if g.decision == "deny":
            cell.denials += n
            cell.deny_hours[f"{hour:02d}"] += n
            if g.action == "customer.read" and g.reason in OUT_OF_SCOPE_CODES and g.actor_role == "sales":
                cell.out_of_book += n
            if g.action == DEAD_CREDENTIAL and g.reason == "account_disabled":
                cell.dead += n
            continue
        if g.action in _EXPORTS and g.decision in ("allow", "info"):
            cell.exports += people
            cell.export_max = max(cell.export_max, int(g.max_people or 0))
        elif g.action in _READS and g.decision == "allow":
            cell.reads += people
            cell.sensitive += int(g.sensitive or 0)
            off = off_cache.get((day, hour))
            if off is None:
                off = off_cache[(day, hour)] = is_off_hours(day, hour, settings)
            if off:
                cell.off_hours += people
        else:
            continue
        if g.net:
            cell.nets[str(g.net)] += n
    return days


def _median(values: Sequence[int]) -> float | None:
    return float(statistics.median(values)) if values else None


class _History:
    """The daily rows before each day judged: per person and per role."""

    def __init__(self, rows: dict[tuple[str, date], DayCounts]) -> None:
        self.by_actor: dict[str, list[tuple[date, DayCounts]]] = defaultdict(list)
        self.by_role: dict[str, list[tuple[date, int]]] = defaultdict(list)
        for (actor, day), cell in rows.items():
            self.by_actor[actor].append((day, cell))
            if cell.reads > 0:
                self.by_role[cell.role].append((day, cell.reads))

    def before(self, actor: str, day: date) -> list[DayCounts]:
        start = day - timedelta(days=HISTORY_DAYS)
        return [c for d, c in self.by_actor.get(actor, ()) if start <= d < day]

    def role_median(self, role: str, day: date) -> float | None:
        start = day - timedelta(days=HISTORY_DAYS)
        return _median([r for d, r in self.by_role.get(role, ()) if start <= d < day])


def judge(actor: str, day: date, cell: DayCounts, history: _History, settings: Settings) -> list[Finding]:
    """The signals that fire for one person's day."""
    rules = settings.signals
    found: list[Finding] = []
    whole = (day_bounds(day),)
    past = history.before(actor, day)
    active = [c for c in past if c.entries > 0]

    def on(code: str) -> bool:
        return rules[code].enabled

    if on(READ_VOLUME) and cell.reads >= settings.read_floor:
        own = [c.reads for c in active if c.reads > 0]
        if len(own) >= MIN_HISTORY_DAYS:
            baseline, kind = _median(own), "person"
        else:
            baseline, kind = history.role_median(cell.role, day), "role"
        limit = rules[READ_VOLUME].threshold
        if baseline is not None and baseline > 0 and cell.reads > limit * baseline:
            found.append(
                Finding(
                    READ_VOLUME,
                    actor,
                    cell.role,
                    day,
                    cell.reads,
                    limit,
                    baseline,
                    kind,
                    whole,
                    READ_ACTIONS,
                    ("allow",),
                    detail=(("ratio", round(cell.reads / baseline, 2)),),
                )
            )
    if on(OFF_HOURS) and cell.off_hours >= rules[OFF_HOURS].threshold:
        found.append(
            Finding(
                OFF_HOURS,
                actor,
                cell.role,
                day,
                cell.off_hours,
                rules[OFF_HOURS].threshold,
                windows=_off_windows(day, settings),
                actions=READ_ACTIONS,
                decisions=("allow",),
            )
        )
    if on(NEW_NETWORK) and cell.nets:
        known: set[str] = set()
        for c in active:
            known.update(c.nets)
        learnt = sum(1 for c in active if c.nets) >= MIN_HISTORY_DAYS
        new = sorted(n for n in cell.nets if n not in known)
        count = sum(cell.nets[n] for n in new)
        if learnt and new and count >= rules[NEW_NETWORK].threshold:
            found.append(
                Finding(
                    NEW_NETWORK,
                    actor,
                    cell.role,
                    day,
                    count,
                    rules[NEW_NETWORK].threshold,
                    float(len(known)),
                    "person",
                    whole,
                    nets=tuple(new),
                    detail=(("networks", len(new)),),
                )
            )
    if on(DENIALS) and cell.deny_hours:
        hour, worst = max(cell.deny_hours.items(), key=lambda kv: (kv[1], kv[0]))
        if worst >= rules[DENIALS].threshold:
            start = datetime(day.year, day.month, day.day, int(hour), tzinfo=JST).astimezone(UTC)
            found.append(
                Finding(
                    DENIALS,
                    actor,
                    cell.role,
                    day,
                    worst,
                    rules[DENIALS].threshold,
                    windows=((start, start + timedelta(hours=1)),),
                    decisions=("deny",),
                    detail=(("hour", int(hour)), ("day_total", cell.denials)),
                )
            )
    if on(OUT_OF_BOOK) and cell.out_of_book >= rules[OUT_OF_BOOK].threshold:
        found.append(
            Finding(
                OUT_OF_BOOK,
                actor,
                cell.role,
                day,
                cell.out_of_book,
                rules[OUT_OF_BOOK].threshold,
                windows=whole,
                actions=("customer.read",),
                decisions=("deny",),
                reasons=OUT_OF_SCOPE_CODES,
            )
        )
    if on(BULK_EXPORT) and cell.export_max >= rules[BULK_EXPORT].threshold:
        found.append(
            Finding(
                BULK_EXPORT,
                actor,
                cell.role,
                day,
                cell.export_max,
                rules[BULK_EXPORT].threshold,
                windows=whole,
                actions=EXPORT_ACTIONS,
                decisions=("allow", "info"),
                min_people=int(rules[BULK_EXPORT].threshold),
                detail=(("exported_people", cell.exports),),
            )
        )
    if on(SENSITIVE_READ) and cell.sensitive >= rules[SENSITIVE_READ].threshold:
        found.append(
            Finding(
                SENSITIVE_READ,
                actor,
                cell.role,
                day,
                cell.sensitive,
                rules[SENSITIVE_READ].threshold,
                windows=whole,
                actions=READ_ACTIONS,
                decisions=("allow",),
                sensitive=True,
            )
        )
    if on(DISABLED_ACCOUNT) and cell.dead >= rules[DISABLED_ACCOUNT].threshold:
        found.append(
            Finding(
                DISABLED_ACCOUNT,
                actor,
                cell.role,
                day,
                cell.dead,
                rules[DISABLED_ACCOUNT].threshold,
                windows=whole,
                actions=(DEAD_CREDENTIAL,),
                decisions=("deny",),
                reasons=("account_disabled",),
            )
        )
    return found


def _off_windows(day: date, settings: Settings) -> tuple[tuple[datetime, datetime], ...]:
    if not is_business_day(day):
        return (day_bounds(day),)
    start = datetime(day.year, day.month, day.day, tzinfo=JST)
    return (
        (start.astimezone(UTC), (start + timedelta(hours=settings.hours_start)).astimezone(UTC)),
        (
            (start + timedelta(hours=settings.hours_end)).astimezone(UTC),
            (start + timedelta(days=1)).astimezone(UTC),
        ),
    )


def _state(ctx: Context) -> MonitoringState:
    row = ctx.session.get(MonitoringState, STATE_ID)
    if row is None:
        row = MonitoringState(id=STATE_ID, last_seq=0, evaluated_at=None)
        ctx.session.add(row)
        ctx.session.flush()
    return row


def _stored_days(ctx: Context, since: date, until: date) -> dict[tuple[str, date], DayCounts]:
    rows = ctx.session.execute(
        select(MonitoringDaily).where(MonitoringDaily.day >= since, MonitoringDaily.day <= until)
    ).scalars()
    return {(r.actor, r.day): DayCounts.of_row(r) for r in rows}


def _save_days(ctx: Context, cells: dict[tuple[str, date], DayCounts]) -> None:
    """Replace the rows of these (actor, day) cells: one DELETE per day and multi-row INSERTs (no per-row ORM
    round trip: a month of a large staff is thousands of cells)."""
    by_day: dict[date, list[str]] = defaultdict(list)
    for actor, day in cells:
        by_day[day].append(actor)
    for day, actors in by_day.items():
        for start in range(0, len(actors), 500):
            ctx.session.execute(
                delete(MonitoringDaily)
                .where(MonitoringDaily.day == day, MonitoringDaily.actor.in_(actors[start : start + 500]))
                .execution_options(synchronize_session=False)
            )
    rows = [
        {
            "actor": actor,
            "day": day,
            "role": cell.role,
            "entries": cell.entries,
            "reads": cell.reads,
            "denials": cell.denials,
            "exports": cell.exports,
            "off_hours": cell.off_hours,
            "sensitive": cell.sensitive,
            "detail": cell.detail_json(),
            "last_seq": cell.last_seq,
        }
        for (actor, day), cell in cells.items()
    ]
    for start in range(0, len(rows), 2000):
        ctx.session.execute(insert(MonitoringDaily), rows[start : start + 2000])


def _at(text: str | None, fallback: datetime) -> datetime:
    if not text:
        return fallback
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _entries_of(ctx: Context, f: Finding, upto_seq: int) -> tuple[list[int], int, datetime, datetime]:
    engine = ctx.runtime.audit.engine
    seqs: list[int] = []
    total = 0
    first: datetime | None = None
    last: datetime | None = None
    for since, until in f.windows:
        got, count, lo, hi = queries.entry_seqs(
            engine,
            f.actor,
            since,
            until,
            actions=f.actions,
            decisions=f.decisions,
            reasons=f.reasons,
            min_people=f.min_people,
            sensitive=f.sensitive,
            nets=f.nets,
            upto_seq=upto_seq,
            limit=MAX_ENTRY_SEQS,
        )
        seqs.extend(got)
        total += count
        if lo:
            first = min(first, _at(lo, since)) if first else _at(lo, since)
        if hi:
            last = max(last, _at(hi, since)) if last else _at(hi, since)
    start, _end = day_bounds(f.day)
    return sorted(seqs)[:MAX_ENTRY_SEQS], total, first or start, last or first or start


def _next_number(ctx: Context) -> int:
    top = ctx.session.execute(select(func.max(MonitoringAlert.number))).scalar_one_or_none()
    return int(top or 0) + 1


def _event(ctx: Context, alert_id: str, action: str, detail: str | None = None) -> None:
    ctx.session.add(
        MonitoringAlertEvent(
            alert_id=alert_id, at=ctx.clock.now(), by=ctx.actor.label, action=action, detail=detail
        )
    )


def _upsert(ctx: Context, f: Finding, settings: Settings, upto_seq: int) -> tuple[str, str]:
    """Create or update the alert of a finding: ("raised" | "updated" | "kept" (dismissed / incident) | "same",
    the alert's id)."""
    fingerprint = f"{f.signal}|{f.actor}|{f.day.isoformat()}"
    row = ctx.session.execute(
        select(MonitoringAlert).where(MonitoringAlert.fingerprint == fingerprint)
    ).scalar_one_or_none()
    if row is not None and row.status in (DISMISSED, INCIDENT):
        return "kept", row.id
    if row is not None and row.observed == f.observed:
        return "same", row.id
    seqs, total, first, last = _entries_of(ctx, f, upto_seq)
    now = ctx.clock.now()
    detail = json.dumps(dict(f.detail), sort_keys=True, separators=(",", ":"))
    if row is None:
        row = MonitoringAlert(
            id=new_id(),
            number=_next_number(ctx),
            fingerprint=fingerprint,
            signal=f.signal,
            severity=settings.signals[f.signal].severity,
            actor=f.actor,
            actor_role=f.role,
            day=f.day,
            first_at=first,
            last_at=last,
            observed=f.observed,
            threshold=f.threshold,
            baseline=f.baseline,
            baseline_kind=f.baseline_kind,
            entries_total=total,
            entry_seqs=json.dumps(seqs, separators=(",", ":")),
            detail=detail,
            status="new",
            created_at=now,
            updated_at=now,
        )
        ctx.session.add(row)
        ctx.session.flush()
        _event(ctx, row.id, "raised", f.signal)
        record_write(
            ctx,
            A_RAISED,
            (),
            (),
            details={
                "alert_id": row.id,
                "number": row.number,
                "signal": f.signal,
                "severity": row.severity,
                "about": f.actor,
                "day": f.day.isoformat(),
                "entries": total,
            },
        )
        return "raised", row.id
    row.observed, row.entries_total = f.observed, total
    row.entry_seqs = json.dumps(seqs, separators=(",", ":"))
    row.first_at, row.last_at = min(row.first_at, first), max(row.last_at, last)
    row.baseline, row.baseline_kind, row.detail = f.baseline, f.baseline_kind, detail
    if SEVERITY_ORDER.get(settings.signals[f.signal].severity, 0) > SEVERITY_ORDER.get(row.severity, 0):
        row.severity = settings.signals[f.signal].severity
    row.updated_at = now
    _event(ctx, row.id, "updated", str(int(f.observed)))
    return "updated", row.id


def run(
    ctx: Context,
    *,
    rebuild_since: date | None = None,
    progress: Any = None,
) -> EvaluationRead:
    """Evaluate the audit log (no authorisation: the scheduled job runs as the system; :func:`evaluate` is the
    authorised entry). Incremental unless ``rebuild_since`` (a JST date) is given."""
    started = time.perf_counter()
    settings = current(ctx)
    state = _state(ctx)
    engine = ctx.runtime.audit.engine
    before = int(state.last_seq)
    upto = queries.max_seq(engine)
    if rebuild_since is not None:
        since_utc = day_bounds(rebuild_since)[0]
        groups = queries.hourly(engine, upto_seq=upto, since=since_utc)
        new = fold(groups, settings)
        ctx.session.execute(delete(MonitoringDaily).where(MonitoringDaily.day >= rebuild_since))
        ctx.session.flush()
        mode, from_seq = "rebuild", 0
    else:
        groups = queries.hourly(engine, after_seq=before, upto_seq=upto) if upto > before else []
        new = fold(groups, settings)
        mode, from_seq = "incremental", before
    if progress is not None:
        progress("aggregated", len(groups))
    touched = sorted({day for _actor, day in new})
    merged: dict[tuple[str, date], DayCounts] = {}
    findings: list[Finding] = []
    if touched:
        first_day, last_day = touched[0], touched[-1]
        stored = _stored_days(ctx, first_day - timedelta(days=HISTORY_DAYS), last_day)
        for key, cell in new.items():
            if key in stored:
                stored[key].add(cell)
                merged[key] = stored[key]
            else:
                merged[key] = stored[key] = cell
        _save_days(ctx, merged)
        history = _History(stored)
        for (actor, day), cell in sorted(merged.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            findings.extend(judge(actor, day, cell, history, settings))
    outcome: Counter[str] = Counter()
    raised_ids: list[str] = []
    for f in findings:
        result, alert_id = _upsert(ctx, f, settings, upto)
        outcome[result] += 1
        if result == "raised":
            raised_ids.append(alert_id)
    changed = cast(
        CursorResult[Any],
        ctx.session.execute(
            update(MonitoringState)
            .where(MonitoringState.id == STATE_ID, MonitoringState.last_seq == before)
            .values(last_seq=max(upto, before), evaluated_at=ctx.clock.now())
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if changed != 1:
        raise Conflict(
            "監査ログの評価が同時に実行されました。やり直してください。",
            "Another evaluation of the audit log ran at the same time; try again.",
            code="evaluation_busy",
        )
    ctx.session.expire(state)
    mailed = _notify(ctx, raised_ids)
    read = EvaluationRead(
        mode=mode,
        from_seq=from_seq,
        to_seq=max(upto, before),
        entries=sum(int(g.n) for g in groups),
        groups=len(groups),
        days=len(merged),
        raised=outcome["raised"],
        updated=outcome["updated"],
        kept_dismissed=outcome["kept"],
        mailed=mailed,
        seconds=round(time.perf_counter() - started, 3),
        alert_ids=raised_ids,
    )
    record_write(
        ctx,
        A_EVALUATE,
        (),
        (),
        details={
            "mode": mode,
            "from_seq": read.from_seq,
            "to_seq": read.to_seq,
            "entries": read.entries,
            "days": read.days,
            "raised": read.raised,
            "updated": read.updated,
            "kept_dismissed": read.kept_dismissed,
        },
    )
    return read


def _notify(ctx: Context, alert_ids: list[str]) -> int:
    """E-mail the privacy office about the new high-severity alerts (the alerts service's digest)."""
    if not alert_ids:
        return 0
    import importlib

    try:
        alerts = importlib.import_module("mamori.monitoring.service.alerts")
    except ImportError:  # pragma: no cover - the alerts service is part of the slice
        return 0
    notify = getattr(alerts, "notify_new", None)
    return int(notify(ctx, alert_ids)) if notify is not None else 0


def evaluate(ctx: Context, *, rebuild_since: date | None = None, progress: Any = None) -> EvaluationRead:
    """Evaluate the audit log now (``monitoring.evaluate``: the privacy officer, an administrator)."""
    authorise(ctx, MONITORING_EVALUATE, RESOURCE)
    return run(ctx, rebuild_since=rebuild_since, progress=progress)
