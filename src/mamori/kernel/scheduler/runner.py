"""The scheduler (issue 21, ADR 0020): APScheduler 3 triggers in every worker process, one run per scheduled slot.

A job is registered with :func:`register_job` (an interval or a crontab line, in JST) and run by
:func:`run_job` for one SLOT — its scheduled fire time, UTC, to the second. The slot is claimed by inserting the
``job_runs`` row (unique ``(job, slot)``) in its own transaction before the job starts: a second worker — another
``mamori worker``, a server, cron's ``mamori worker --once`` — fails that insert and leaves the slot to the first.
The outcome is recorded on the row: ``succeeded`` with the job's counts (JSON), or ``failed`` with an error CODE
(never a message or a value). A failed slot is not retried; the job runs again at its next slot. A row still
``running`` after the job's lease means its worker died: it is reported (``stale``) and the next worker to reach
that slot takes it over.

:func:`start_worker` builds the APScheduler scheduler (BlockingScheduler for ``mamori worker``,
BackgroundScheduler for a server process). Its executor hands each run the SCHEDULED fire time APScheduler
computed (``run_times``), never the wall clock when the thread started, so two processes firing the same trigger
name the same slot. Interval triggers are anchored at a fixed instant (:data:`ANCHOR`) so their fire times are the
same in every process, whenever it started.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from mamori.kernel import auditing
from mamori.kernel.clock import JST, ensure_aware
from mamori.kernel.context import Context, Role
from mamori.kernel.db import new_id, unit_of_work
from mamori.kernel.errors import NotFound, ValidationFailed
from mamori.kernel.policy import Action, ActionSpec, Resource, Scope, register_actions, register_grants
from mamori.kernel.scheduler.models import JobRun

if TYPE_CHECKING:
    from mamori.kernel.runtime import Runtime

log = logging.getLogger("mamori.scheduler")

RUNNING: Final = "running"
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
ANCHOR: Final = datetime(
    2000, 1, 1, tzinfo=UTC
)  # interval triggers count from here: aligned in every process
MISFIRE_GRACE_SECONDS: Final = 300  # a fire time missed by more than this (the process was down) is skipped
DEFAULT_LEASE: Final = timedelta(hours=1)  # a "running" row older than this: its worker died
KEEP_RUNS_DAYS: Final = 90  # job_runs rows older than this are pruned by the scheduler.prune job
MAX_RESULT_CHARS: Final = 4000
NAME: Final = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MANUAL_PREFIX: Final = "manual/"  # the slot of a run started by hand (今すぐ実行 / mamori jobs run)

# The kernel's own action: see the jobs and their runs, start one now (admin, privacy officer; the system for
# `mamori worker`). Registered by :func:`register_permissions` (mamori.jobs.register_jobs calls it).
JOBS_MANAGE: Final = Action("jobs.manage")
ACTIONS: Final = (ActionSpec("JOBS_MANAGE", JOBS_MANAGE),)
GRANTS: Final = {
    Role.ADMIN: {JOBS_MANAGE: Scope.ALL},
    Role.PRIVACY_OFFICER: {JOBS_MANAGE: Scope.ALL},
}
A_RUN_NOW: Final = "job.run_now"  # audit action: a staff member started a job by hand

JobFn = Callable[..., Mapping[str, object] | None]  # fn(rt, *, job_run_id: str) -> counts | None


@dataclass(frozen=True)
class Job:
    name: str
    fn: JobFn
    every: timedelta | None
    cron: str | None
    label_ja: str
    label_en: str
    lease: timedelta

    @property
    def schedule(self) -> str:
        """``every 300s`` or the crontab line (JST)."""
        if self.every is not None:
            return f"every {int(self.every.total_seconds())}s"
        return f"cron {self.cron} (JST)"

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_ja

    def trigger(self) -> BaseTrigger:
        if self.every is not None:
            return IntervalTrigger(seconds=int(self.every.total_seconds()), start_date=ANCHOR, timezone=UTC)
        assert self.cron is not None
        return CronTrigger.from_crontab(self.cron, timezone=JST)


@dataclass(frozen=True)
class JobRunResult:
    """One run's record (ids, codes and counts only)."""

    id: str
    job: str
    slot: str
    worker: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    result: dict[str, object] | None
    error: str | None
    stale: bool = False  # still "running" after the job's lease: its worker died

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "job": self.job,
            "slot": self.slot,
            "worker": self.worker,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "result": self.result,
            "error": self.error,
            "stale": self.stale,
        }


_jobs: dict[str, Job] = {}


# -- registration ---------------------------------------------------------------------------------------------


def register_job(
    name: str,
    fn: JobFn,
    *,
    every: timedelta | None = None,
    cron: str | None = None,
    label_ja: str,
    label_en: str,
    lease: timedelta | None = None,
) -> None:
    """Register ``fn(rt, *, job_run_id) -> counts | None`` to run every ``every`` (whole seconds)
    or on a crontab line ``cron`` (5 fields, Japan time). Registering a name again replaces the job."""
    if not NAME.match(name) or len(name) > 64:
        raise ValueError(f"bad job name {name!r}: dotted lower-case, at most 64 characters")
    if (every is None) == (cron is None):
        raise ValueError("give exactly one of every= or cron=")
    if every is not None and (every < timedelta(seconds=1) or every.total_seconds() % 1):
        raise ValueError("every= must be whole seconds, at least one")
    if cron is not None:
        CronTrigger.from_crontab(cron, timezone=JST)  # raises ValueError on a bad line
    if not label_ja or not label_en:
        raise ValueError("a job needs a Japanese and an English label")
    _jobs[name] = Job(
        name=name,
        fn=fn,
        every=every,
        cron=cron,
        label_ja=label_ja,
        label_en=label_en,
        lease=lease or DEFAULT_LEASE,
    )


def unregister_job(name: str) -> None:
    _jobs.pop(name, None)


def jobs() -> list[Job]:
    """The registered jobs, by name."""
    return [_jobs[n] for n in sorted(_jobs)]


def get_job(name: str) -> Job:
    job = _jobs.get(name) if isinstance(name, str) else None
    if job is None:
        raise NotFound("その定期処理はありません。", "No such job.", code="job_not_found")
    return job


def register_permissions() -> None:
    """The kernel action JOBS_MANAGE and its grants (idempotent)."""
    register_actions(ACTIONS)
    register_grants(GRANTS)


# -- slots ----------------------------------------------------------------------------------------------------


def slot_key(at: datetime) -> str:
    """A slot as stored: UTC, ISO 8601 to the second (``2026-12-07T06:00:00Z``)."""
    return ensure_aware(at).astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def manual_slot(at: datetime) -> str:
    return MANUAL_PREFIX + slot_key(at)


def due_slot(job: Job, now: datetime) -> datetime | None:
    """The job's latest scheduled fire time at or before ``now`` (None: it has never been due)."""
    now = ensure_aware(now).astimezone(UTC)
    if job.every is not None:
        step = int(job.every.total_seconds())
        elapsed = int((now - ANCHOR).total_seconds())
        return ANCHOR + timedelta(seconds=(elapsed // step) * step)
    trigger = job.trigger()
    for window in (timedelta(hours=1), timedelta(days=1), timedelta(days=32), timedelta(days=367)):
        t: datetime | None = trigger.get_next_fire_time(None, now - window)
        if t is None or t > now:
            continue
        while True:
            following: datetime | None = trigger.get_next_fire_time(t, t + timedelta(seconds=1))
            if following is None or following > now:
                return t.astimezone(UTC)
            t = following
    return None


def next_slot(job: Job, now: datetime) -> datetime | None:
    """The job's next scheduled fire time after ``now``."""
    t = job.trigger().get_next_fire_time(None, ensure_aware(now) + timedelta(seconds=1))
    return t.astimezone(UTC) if t is not None else None


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


# -- running one slot -----------------------------------------------------------------------------------------


def _error_code(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    return str(code if isinstance(code, str) and code else type(exc).__name__)[:64]


def _result_json(value: Mapping[str, object] | None) -> str | None:
    if value is None:
        return None
    text = json.dumps(dict(value), ensure_ascii=False, sort_keys=True, default=str)
    if len(text) > MAX_RESULT_CHARS:
        text = json.dumps({"truncated": True, "keys": sorted(str(k) for k in value)[:50]})
    return text


def _claim(rt: Runtime, job: Job, key: str, worker: str, now: datetime) -> str | None:
    """Insert the slot's row (status running) in its own transaction: the run's id, or None if another worker
    holds the slot. A row left ``running`` past the job's lease (its worker died) is taken over."""
    run_id = new_id()
    try:
        with unit_of_work(rt.sessions) as session:
            session.add(
                JobRun(id=run_id, job=job.name, slot=key, worker=worker[:80], started_at=now, status=RUNNING)
            )
        return run_id
    except IntegrityError:
        pass
    with unit_of_work(rt.sessions) as session:
        row = session.execute(
            select(JobRun).where(JobRun.job == job.name, JobRun.slot == key)
        ).scalar_one_or_none()
        if row is None or row.status != RUNNING or ensure_aware(row.started_at) > now - job.lease:
            return None
        taken = session.execute(
            update(JobRun)
            .where(JobRun.id == row.id, JobRun.status == RUNNING, JobRun.started_at == row.started_at)
            .values(worker=worker[:80], started_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) != 1:
            return None
        log.warning("job %s slot %s: taking over a stale run (its worker died)", job.name, key)
        return row.id


def run_job(rt: Runtime, name: str, *, slot: datetime | str, worker: str) -> JobRunResult | None:
    """Run job ``name`` for ``slot`` (its scheduled fire time; a string is used as the key as it is) unless another
    worker has claimed that slot (then None). The outcome is recorded and returned; a job's exception is recorded
    as ``failed`` with its error code and never raised."""
    job = get_job(name)
    key = slot if isinstance(slot, str) else slot_key(slot)
    started = rt.clock.now()
    run_id = _claim(rt, job, key, worker, started)
    if run_id is None:
        return None
    result: Mapping[str, object] | None = None
    error: str | None = None
    try:
        result = job.fn(rt, job_run_id=run_id)
        if result is not None and not isinstance(result, Mapping):
            result = None
    except Exception as exc:  # recorded as a code; the job runs again at its next slot
        error = _error_code(exc)
        log.warning("job %s slot %s failed: %s", job.name, key, error)
    status = FAILED if error is not None else SUCCEEDED
    finished = rt.clock.now()
    stored = _result_json(result)
    with unit_of_work(rt.sessions) as session:
        session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(status=status, finished_at=finished, result=stored, error=error)
            .execution_options(synchronize_session=False)
        )
    return JobRunResult(
        id=run_id,
        job=job.name,
        slot=key,
        worker=worker[:80],
        status=status,
        started_at=started,
        finished_at=finished,
        result=json.loads(stored) if stored else None,
        error=error,
    )


@dataclass(frozen=True)
class DueOutcome:
    job: str
    slot: str | None
    run: JobRunResult | None  # None: not due yet, or another worker has the slot

    def as_dict(self) -> dict[str, object]:
        return {
            "job": self.job,
            "slot": self.slot,
            "ran": self.run is not None,
            "status": self.run.status if self.run else None,
            "error": self.run.error if self.run else None,
            "result": self.run.result if self.run else None,
        }


def run_due(rt: Runtime, *, worker: str | None = None, now: datetime | None = None) -> list[DueOutcome]:
    """``mamori worker --once``: run every job once for its latest slot at or before ``now`` that no worker has
    claimed yet (missed slots before it are coalesced into it)."""
    now = now or rt.clock.now()
    who = worker or worker_name()
    out: list[DueOutcome] = []
    for job in jobs():
        slot = due_slot(job, now)
        if slot is None:
            out.append(DueOutcome(job.name, None, None))
            continue
        out.append(DueOutcome(job.name, slot_key(slot), run_job(rt, job.name, slot=slot, worker=who)))
    return out


# -- APScheduler ----------------------------------------------------------------------------------------------


class SlotExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """APScheduler's thread-pool executor, except that each run gets the fire time APScheduler scheduled it for
    (``run_times``, coalesced to the last one) as its slot: the custom-executor extension point of APScheduler 3
    (``_do_submit_job``), with the same misfire check and events as ``apscheduler.executors.base.run_job``."""

    def __init__(
        self,
        rt: Runtime,
        worker: str,
        max_workers: int = 4,
        on_run: Callable[[str, datetime], None] | None = None,
    ) -> None:
        super().__init__(max_workers)
        self.rt = rt
        self.worker = worker
        self.on_run = on_run  # tests: called with (job, slot) before each run

    def _do_submit_job(self, job: Any, run_times: Sequence[datetime]) -> None:
        def done(f: Any) -> None:
            exc = f.exception()
            if exc is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, f.result())

        f = self._pool.submit(self._run, job, list(run_times))
        f.add_done_callback(done)

    def _run(self, job: Any, run_times: list[datetime]) -> list[JobExecutionEvent]:
        events: list[JobExecutionEvent] = []
        for run_time in run_times:
            grace = job.misfire_grace_time
            if grace is not None and datetime.now(UTC) - run_time > timedelta(seconds=grace):
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, job._jobstore_alias, run_time))
                log.warning("job %s: the fire time %s was missed", job.id, slot_key(run_time))
                continue
            try:
                if self.on_run is not None:
                    self.on_run(job.id, run_time)
                outcome = run_job(self.rt, job.id, slot=run_time, worker=self.worker)
            except (
                Exception
            ) as exc:  # the scheduler must survive (e.g. the store is unreachable); logged by code
                log.warning("job %s could not be run: %s", job.id, _error_code(exc))
                events.append(
                    JobExecutionEvent(EVENT_JOB_ERROR, job.id, job._jobstore_alias, run_time, exception=exc)
                )
            else:
                events.append(
                    JobExecutionEvent(
                        EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_time, retval=outcome
                    )
                )
        return events


def _fire() -> None:  # never called: SlotExecutor runs the job by its id
    raise AssertionError("the scheduler's executor runs jobs by name")


def build_scheduler(
    rt: Runtime,
    *,
    blocking: bool,
    worker: str | None = None,
    names: Sequence[str] | None = None,
    on_run: Callable[[str, datetime], None] | None = None,
) -> BaseScheduler:
    """An APScheduler scheduler (not started) with a trigger per registered job (or per name in ``names``):
    coalesced, one instance at a time, misfires within MISFIRE_GRACE_SECONDS still run."""
    who = worker or worker_name()
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        timezone=UTC,
        executors={"default": SlotExecutor(rt, who, on_run=on_run)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
    )
    for job in jobs():
        if names is not None and job.name not in names:
            continue
        scheduler.add_job(_fire, trigger=job.trigger(), id=job.name, name=job.name, replace_existing=True)
    return scheduler


def start_worker(rt: Runtime, *, blocking: bool, worker: str | None = None) -> BaseScheduler:
    """Start the scheduler: ``blocking`` (``mamori worker``) returns when it is shut down (SIGTERM / Ctrl-C); a
    background one (a server process) is returned running — call ``shutdown()`` when the process stops."""
    scheduler = build_scheduler(rt, blocking=blocking, worker=worker)
    log.info("scheduler started: %d jobs", len(scheduler.get_jobs()))
    scheduler.start()
    return scheduler


# -- staff: the jobs and their runs ---------------------------------------------------------------------------


def authorise(ctx: Context) -> None:
    """JOBS_MANAGE (admin, privacy officer; the system for `mamori worker`): PolicyDenied, audited, otherwise."""
    auditing.authorise(ctx, JOBS_MANAGE, Resource(kind="jobs"))


def _read(row: JobRun, now: datetime, lease: timedelta) -> JobRunResult:
    started = ensure_aware(row.started_at)
    try:
        result = json.loads(row.result) if row.result else None
    except ValueError:
        result = None
    return JobRunResult(
        id=row.id,
        job=row.job,
        slot=row.slot,
        worker=row.worker,
        status=row.status,
        started_at=started,
        finished_at=ensure_aware(row.finished_at) if row.finished_at else None,
        result=result if isinstance(result, dict) else None,
        error=row.error,
        stale=row.status == RUNNING and started < now - lease,
    )


def _lease_of(name: str) -> timedelta:
    job = _jobs.get(name)
    return job.lease if job is not None else DEFAULT_LEASE


def runs(ctx: Context, *, job: str | None = None, limit: int = 50) -> list[JobRunResult]:
    """The newest runs (of one job), newest first."""
    authorise(ctx)
    if job is not None:
        get_job(job)
    if not 1 <= limit <= 1000:
        raise ValidationFailed(
            "件数は 1〜1000 で指定してください。", "The limit must be from 1 to 1000.", code="bad_limit"
        )
    q = select(JobRun)
    if job is not None:
        q = q.where(JobRun.job == job)
    q = q.order_by(JobRun.started_at.desc(), JobRun.id).limit(limit)
    now = ctx.clock.now()
    return [_read(r, now, _lease_of(r.job)) for r in ctx.session.execute(q).scalars()]


@dataclass(frozen=True)
class JobView:
    name: str
    label_ja: str
    label_en: str
    schedule: str
    next_slot: datetime | None
    last: JobRunResult | None
    runs: int
    failed: int

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "label_ja": self.label_ja,
            "label_en": self.label_en,
            "schedule": self.schedule,
            "next_slot": self.next_slot,
            "last": self.last.as_dict() if self.last else None,
            "runs": self.runs,
            "failed": self.failed,
        }


def overview(ctx: Context) -> list[JobView]:
    """Every registered job: its schedule, next slot, last run and how many runs (failed) are on record."""
    authorise(ctx)
    now = ctx.clock.now()
    counts: dict[tuple[str, str], int] = {
        (j, s): int(n)
        for j, s, n in ctx.session.execute(
            select(JobRun.job, JobRun.status, func.count()).group_by(JobRun.job, JobRun.status)
        )
    }
    out = []
    for job in jobs():
        last = ctx.session.execute(
            select(JobRun)
            .where(JobRun.job == job.name)
            .order_by(JobRun.started_at.desc(), JobRun.id)
            .limit(1)
        ).scalar_one_or_none()
        out.append(
            JobView(
                name=job.name,
                label_ja=job.label_ja,
                label_en=job.label_en,
                schedule=job.schedule,
                next_slot=next_slot(job, now),
                last=_read(last, now, job.lease) if last is not None else None,
                runs=sum(n for (j, _), n in counts.items() if j == job.name),
                failed=counts.get((job.name, FAILED), 0),
            )
        )
    return out


def run_now(
    rt: Runtime, ctx_factory: Callable[[], Any], name: str, *, worker: str | None = None
) -> JobRunResult:
    """Run a job now, by hand (admin, privacy officer): authorised and audited (``job.run_now``) in a transaction
    of its own (``ctx_factory()``: the caller's ``rt.transaction(actor)``), then run outside it for the slot
    ``manual/<now>``. A second start within the same second finds the slot taken (Conflict)."""
    from mamori.kernel.errors import Conflict

    with ctx_factory() as ctx:
        authorise(ctx)
        job = get_job(name)
        key = manual_slot(ctx.clock.now())
        auditing.record_write(ctx, A_RUN_NOW, (), (), details={"job": job.name, "slot": key})
    outcome = run_job(rt, job.name, slot=key, worker=worker or worker_name())
    if outcome is None:
        raise Conflict(
            "この処理はいま実行中です。少し待ってから実行してください。",
            "This job is being run right now; try again in a moment.",
            code="job_running",
        )
    return outcome


def prune(rt: Runtime, *, job_run_id: str) -> dict[str, object]:
    """The ``scheduler.prune`` job: delete the finished runs older than KEEP_RUNS_DAYS."""
    cutoff = rt.clock.now() - timedelta(days=KEEP_RUNS_DAYS)
    with unit_of_work(rt.sessions) as session:
        res = session.execute(
            delete(JobRun)
            .where(JobRun.started_at < cutoff, JobRun.status != RUNNING)
            .execution_options(synchronize_session=False)
        )
        return {"deleted": int(getattr(res, "rowcount", 0) or 0)}


register_job(
    "scheduler.prune",
    prune,
    cron="15 4 * * *",
    label_ja=f"定期処理の実行記録の整理（{KEEP_RUNS_DAYS}日より古いもの）",
    label_en=f"Prune job run records older than {KEEP_RUNS_DAYS} days",
)
