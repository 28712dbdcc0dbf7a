"""The scheduler (issue 21, ADR 0020): each scheduled slot of a job runs once however many workers start — real
separate processes (`mamori worker --once` twice at once against one store), two APScheduler schedulers firing
the same trigger — and every run is recorded in ``job_runs`` (counts, or the error code of a failure)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from mamori.kernel import scheduler
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.scheduler.models import JobRun
from mamori.kernel.scheduler.runner import ANCHOR, due_slot, slot_key

TEST_JOB = "test.record"


@pytest.fixture
def jobs_registered():
    from mamori.jobs import register_jobs

    register_jobs()
    yield
    for name in [j.name for j in scheduler.jobs() if j.name.startswith("test.")]:
        scheduler.unregister_job(name)


def _rows(rt, job: str | None = None) -> list[JobRun]:
    with rt.transaction(readonly=True) as ctx:
        q = select(JobRun).order_by(JobRun.slot)
        if job is not None:
            q = q.where(JobRun.job == job)
        rows = list(ctx.session.execute(q).scalars())
        for r in rows:
            ctx.session.expunge(r)
        return rows


# -- registration and slots -----------------------------------------------------------------------------------


def test_register_job_refuses_bad_definitions():
    def fn(rt, *, job_run_id):
        return None

    labels = {"label_ja": "テスト", "label_en": "test"}
    with pytest.raises(ValueError):
        scheduler.register_job("test.x", fn, **labels)  # neither every nor cron
    with pytest.raises(ValueError):
        scheduler.register_job("test.x", fn, every=timedelta(hours=1), cron="0 * * * *", **labels)
    with pytest.raises(ValueError):
        scheduler.register_job("test.x", fn, cron="61 * * * *", **labels)
    with pytest.raises(ValueError):
        scheduler.register_job("Bad Name", fn, every=timedelta(hours=1), **labels)
    with pytest.raises(ValueError):
        scheduler.register_job("test.x", fn, every=timedelta(milliseconds=500), **labels)
    with pytest.raises(ValueError):
        scheduler.register_job("test.x", fn, every=timedelta(hours=1), label_ja="", label_en="x")
    assert "test.x" not in {j.name for j in scheduler.jobs()}


def test_the_slot_is_the_scheduled_fire_time_not_the_wall_clock():
    def fn(rt, *, job_run_id):
        return None

    scheduler.register_job(
        "test.every5", fn, every=timedelta(minutes=5), label_ja="五分", label_en="five minutes"
    )
    scheduler.register_job("test.hourly", fn, cron="0 * * * *", label_ja="毎時", label_en="hourly")
    scheduler.register_job("test.daily", fn, cron="30 2 * * *", label_ja="毎日", label_en="daily")
    try:
        now = datetime(2026, 11, 23, 1, 7, 31, 250000, tzinfo=UTC)
        got = {j.name: due_slot(j, now) for j in scheduler.jobs() if j.name.startswith("test.")}
        assert got == {
            "test.every5": datetime(2026, 11, 23, 1, 5, tzinfo=UTC),
            "test.hourly": datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
            # 02:30 JST = 17:30 UTC the day before
            "test.daily": datetime(2026, 11, 22, 17, 30, tzinfo=UTC),
        }
        assert slot_key(got["test.daily"]) == "2026-11-22T17:30:00Z"
        # a process started at another time computes the same slots (intervals are anchored, not "from start")
        later = now + timedelta(minutes=2, seconds=3)
        assert due_slot(scheduler.get_job("test.every5"), later) == datetime(2026, 11, 23, 1, 5, tzinfo=UTC)
        assert (got["test.every5"] - ANCHOR) % timedelta(minutes=5) == timedelta(0)
    finally:
        for name in ("test.every5", "test.hourly", "test.daily"):
            scheduler.unregister_job(name)


# -- one run per slot, recorded -------------------------------------------------------------------------------


def test_a_slot_runs_once_and_its_counts_are_recorded(runtime):
    ran: list[str] = []

    def fn(rt, *, job_run_id):
        ran.append(job_run_id)
        return {"checked": 3, "notified": 1}

    scheduler.register_job(TEST_JOB, fn, every=timedelta(hours=1), label_ja="テスト", label_en="test")
    try:
        slot = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
        first = scheduler.run_job(runtime, TEST_JOB, slot=slot, worker="host-a:1")
        second = scheduler.run_job(runtime, TEST_JOB, slot=slot, worker="host-b:2")
        assert first is not None and second is None
        assert ran == [first.id]
        (row,) = _rows(runtime, TEST_JOB)
        assert (row.slot, row.worker, row.status, row.error) == (
            "2026-11-23T01:00:00Z",
            "host-a:1",
            "succeeded",
            None,
        )
        assert json.loads(row.result or "") == {"checked": 3, "notified": 1}
        assert row.finished_at is not None
    finally:
        scheduler.unregister_job(TEST_JOB)


def test_a_failing_job_is_recorded_with_its_code_and_runs_again_at_the_next_slot(runtime):
    calls: list[int] = []

    def fn(rt, *, job_run_id):
        calls.append(1)
        if len(calls) == 1:
            raise ValidationFailed("壊れています", "broken", code="store_broken")
        return {"done": 1}

    scheduler.register_job(TEST_JOB, fn, every=timedelta(hours=1), label_ja="テスト", label_en="test")
    try:
        slot = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
        failed = scheduler.run_job(runtime, TEST_JOB, slot=slot, worker="w:1")
        assert failed is not None and failed.status == "failed" and failed.error == "store_broken"
        assert (
            scheduler.run_job(runtime, TEST_JOB, slot=slot, worker="w:2") is None
        )  # not retried in its slot
        nxt = scheduler.run_job(runtime, TEST_JOB, slot=slot + timedelta(hours=1), worker="w:2")
        assert nxt is not None and nxt.status == "succeeded" and nxt.result == {"done": 1}
        rows = _rows(runtime, TEST_JOB)
        assert [(r.status, r.error) for r in rows] == [("failed", "store_broken"), ("succeeded", None)]
        assert "壊れています" not in (rows[0].result or "") and len(calls) == 2
    finally:
        scheduler.unregister_job(TEST_JOB)


def test_a_stale_running_row_is_reported_and_taken_over_after_the_lease(runtime, jobs_registered):
    ran: list[str] = []

    def fn(rt, *, job_run_id):
        ran.append(job_run_id)
        return {"n": 1}

    scheduler.register_job(
        TEST_JOB,
        fn,
        every=timedelta(hours=1),
        label_ja="テスト",
        label_en="test",
        lease=timedelta(minutes=30),
    )
    try:
        now = runtime.clock.now()
        fresh, dead = "2026-11-23T00:00:00Z", "2026-11-22T23:00:00Z"
        with runtime.transaction() as ctx:
            ctx.session.add(
                JobRun(
                    id="a" * 32, job=TEST_JOB, slot=fresh, worker="alive:1", started_at=now, status="running"
                )
            )
            ctx.session.add(
                JobRun(
                    id="b" * 32,
                    job=TEST_JOB,
                    slot=dead,
                    worker="dead:1",
                    started_at=now - timedelta(hours=2),
                    status="running",
                )
            )
        with runtime.transaction() as ctx:
            stale = {r.slot: r.stale for r in scheduler.runs(ctx, job=TEST_JOB)}
        assert stale == {fresh: False, dead: True}
        assert scheduler.run_job(runtime, TEST_JOB, slot=fresh, worker="w:2") is None  # still leased
        taken = scheduler.run_job(runtime, TEST_JOB, slot=dead, worker="w:2")
        assert taken is not None and taken.id == "b" * 32 and taken.status == "succeeded"
        assert ran == ["b" * 32]
        rows = {r.slot: (r.worker, r.status) for r in _rows(runtime, TEST_JOB)}
        assert rows == {fresh: ("alive:1", "running"), dead: ("w:2", "succeeded")}
    finally:
        scheduler.unregister_job(TEST_JOB)


def test_two_apscheduler_schedulers_firing_the_same_trigger_name_the_same_slot(runtime):
    """Two BackgroundSchedulers (two runtimes on one store, as two processes would be) with a one-second
    interval: they hand the same scheduled fire times to their runs, and each slot runs once between them."""
    from mamori.kernel.runtime import Runtime

    executed: list[str] = []
    lock = threading.Lock()

    def fn(rt, *, job_run_id):
        with lock:
            executed.append(job_run_id)
        return {"n": 1}

    scheduler.register_job(
        "test.tick", fn, every=timedelta(seconds=1), label_ja="毎秒", label_en="every second"
    )
    other = Runtime(runtime.settings, clock=runtime.clock)
    seen: dict[str, list[datetime]] = {"a": [], "b": []}
    scheds = [
        scheduler.build_scheduler(
            rt,
            blocking=False,
            worker=f"{who}:1",
            names=["test.tick"],
            on_run=lambda j, t, who=who: seen[who].append(t),
        )
        for who, rt in (("a", runtime), ("b", other))
    ]
    try:
        for s in scheds:
            s.start()
        time.sleep(3.6)
    finally:
        for s in scheds:
            s.shutdown(wait=True)
        other.close()
        scheduler.unregister_job("test.tick")
    common = set(seen["a"]) & set(seen["b"])
    assert len(common) >= 2, seen  # the same fire times, computed independently by each scheduler
    assert all(t.microsecond == 0 and t.tzinfo is not None for t in seen["a"] + seen["b"])
    rows = _rows(runtime, "test.tick")
    slots = [r.slot for r in rows]
    assert len(slots) == len(set(slots)) == len(executed)  # one run per slot between the two
    assert {slot_key(t) for t in seen["a"] + seen["b"]} == set(slots)
    assert all(r.status == "succeeded" for r in rows)


# -- two real processes: `mamori worker --once` twice, started at once ----------------------------------------

LAUNCHER = r"""
import os, sys, time
from datetime import timedelta
from mamori.kernel import scheduler

def record(rt, *, job_run_id):
    with open(os.environ["RECORD_FILE"], "a") as f:
        f.write(f"{os.getpid()} {job_run_id}\n")
    time.sleep(1.0)
    return {"recorded": 1}

scheduler.register_job("test.record", record, every=timedelta(days=1), label_ja="記録", label_en="record")
from mamori.cli import worker as worker_cli
from mamori.cli.main import app, main
if not any(c.name == "worker" for c in app.registered_commands):  # until cli/main.py mounts it
    worker_cli.register(app)
from mamori.jobs import register_jobs
register_jobs()  # idempotent (composition.register_all calls it: test_composition_registers_the_jobs)
sys.argv = ["mamori", "worker", "--once", "--json"]
main()
"""


def test_two_workers_started_at_once_run_each_job_once(runtime, tmp_path, monkeypatch):
    from tests.factories import point_env_at

    point_env_at(monkeypatch, runtime.settings)
    record = tmp_path / "record.txt"
    env = {**os.environ, "RECORD_FILE": str(record), "MAMORI_LANG": "en"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", LAUNCHER],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    docs = []
    for (out, err), p in zip(outs, procs, strict=True):
        assert p.returncode in (0, 1), err  # 1: a job failed (recorded as such)
        docs.append(json.loads(out))
    assert docs[0]["worker"] != docs[1]["worker"]
    # each (job, slot) ran in exactly one of the two processes
    ran = Counter((j["job"], j["slot"]) for d in docs for j in d["jobs"] if j["ran"])
    assert ran and all(n == 1 for n in ran.values()), ran
    names = {job for job, _ in ran}
    assert {TEST_JOB, "mail.deliver", "rights.remind", "processors.overdue", "scheduler.prune"} <= names
    # the test job: one execution, and one job_runs row per (job, slot)
    lines = record.read_text().splitlines()
    assert len(lines) == 1
    rows = _rows(runtime)
    keys = Counter((r.job, r.slot) for r in rows)
    assert all(n == 1 for n in keys.values())
    assert set(keys) == set(ran)
    (mine,) = [r for r in rows if r.job == TEST_JOB]
    assert mine.status == "succeeded" and json.loads(mine.result or "") == {"recorded": 1}
    assert lines[0].split()[1] == mine.id
    assert all(r.status in ("succeeded", "failed") and r.finished_at is not None for r in rows)


# -- the jobs the issue names ---------------------------------------------------------------------------------


def test_composition_registers_the_jobs_and_the_action():
    """In a fresh process (this one has registered them in fixtures already)."""
    probe = (
        "from mamori import composition\n"
        "from mamori.kernel import scheduler\n"
        "from mamori.kernel.policy.actions import spec\n"
        "composition.register_all()\n"
        "print(sorted(j.name for j in scheduler.jobs()), spec(scheduler.JOBS_MANAGE) is not None)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "'rights.remind'" in out.stdout and "'lifecycle.retention'" in out.stdout
    assert out.stdout.strip().endswith("True")


def test_every_named_job_is_registered_with_labels_and_runs(runtime, jobs_registered):
    names = {j.name: j for j in scheduler.jobs()}
    for name in (
        "rights.remind",
        "lifecycle.retention",
        "staff.training_expiry",
        "processors.overdue",
        "mail.deliver",
        "scheduler.prune",
        "monitoring.evaluate",
    ):
        assert name in names and names[name].label_ja and names[name].label_en
    slot = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    outcomes = {n: scheduler.run_job(runtime, n, slot=slot, worker="t:1") for n in names}
    failed = {n: o.error for n, o in outcomes.items() if o is None or o.status != "succeeded"}
    assert failed == {}  # a missing slice function (ImportError / AttributeError) fails here


def test_the_reminder_job_shares_the_mail_queue_claim_so_it_runs_once_an_hour(runtime, jobs_registered):
    slot = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    first = scheduler.run_job(runtime, "rights.remind", slot=slot, worker="t:1")
    assert first is not None and first.status == "succeeded" and first.result is not None
    assert first.result["ran"] is True
    # cron's `mamori mail deliver` within the hour does not run it again
    from mamori.kernel.mail import queue

    assert "rights.remind" not in queue.run_periodic(runtime)
    runtime.clock.advance(timedelta(hours=1))
    nxt = scheduler.run_job(runtime, "rights.remind", slot=slot + timedelta(hours=1), worker="t:1")
    assert nxt is not None and nxt.result is not None and nxt.result["ran"] is True


def test_the_overdue_job_counts_overdue_audits_and_reviews_and_notifies_the_privacy_office(
    runtime, jobs_registered
):
    from mamori.processors import service
    from mamori.processors.schemas import AuditScheduleIn
    from tests.factories import seed_basics
    from tests.processors.conftest import add_counterparty, running_contract

    actors = seed_basics(runtime)
    po = actors["po"]
    contract = running_contract(runtime, po, add_counterparty(runtime, po))
    with runtime.transaction(po) as ctx:
        service.schedule_audit(
            ctx, contract, AuditScheduleIn(due_on=date(2026, 11, 1))
        )  # overdue (clock: 11-23)
        service.schedule_audit(ctx, contract, AuditScheduleIn(due_on=date(2026, 12, 20)))
    sg = add_counterparty(
        runtime, po, country="SG", name="Fictional Pte Ltd", system_kind="cbpr", system_reference="CBPR-0001"
    )
    slot = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    quiet = scheduler.run_job(runtime, "processors.overdue", slot=slot, worker="t:1")
    assert quiet is not None and quiet.result is not None
    got = {k: quiet.result[k] for k in ("overdue_audits", "contracts", "overdue_reviews", "notified")}
    assert got == {"overdue_audits": 1, "contracts": 1, "overdue_reviews": 0, "notified": 0}
    runtime.clock.advance(
        timedelta(days=366)
    )  # the SG recipient's yearly system review is now past due (R-28-3)
    runtime.settings.reminder_to = "privacy-office@example.jp"
    try:
        told = scheduler.run_job(runtime, "processors.overdue", slot=slot + timedelta(days=366), worker="t:1")
    finally:
        runtime.settings.reminder_to = None
    assert told is not None and told.result is not None
    assert (told.result["overdue_audits"], told.result["overdue_reviews"], told.result["notified"]) == (
        2,
        1,
        1,
    )
    sent = [json.loads(p.read_text()) for p in (runtime.settings.home_path / "outbox").glob("*.json")]
    digests = [m for m in sent if "overdue" in m["subject"]]
    assert len(digests) == 1 and contract in digests[0]["body"] and sg in digests[0]["body"]
    assert "架空" not in digests[0]["body"] and "Fictional" not in digests[0]["body"]


def test_staff_see_the_jobs_and_runs_only_with_jobs_manage(runtime, jobs_registered):
    from mamori.kernel.errors import NotFound, PolicyDenied
    from tests.factories import seed_basics

    actors = seed_basics(runtime)
    scheduler.run_job(
        runtime, "scheduler.prune", slot=datetime(2026, 11, 22, 19, 15, tzinfo=UTC), worker="t:1"
    )
    with runtime.transaction(actors["po"]) as ctx:
        view = {v.name: v for v in scheduler.overview(ctx)}
        assert view["scheduler.prune"].last is not None and view["scheduler.prune"].runs == 1
        assert view["rights.remind"].next_slot is not None
        with pytest.raises(NotFound):
            scheduler.runs(ctx, job="no.such")
        with pytest.raises(ValidationFailed):
            scheduler.runs(ctx, limit=0)
    for who in ("sato", "support", "analyst"):
        with pytest.raises(PolicyDenied) as refused, runtime.transaction(actors[who]) as ctx:
            scheduler.overview(ctx)
        assert refused.value.rule_id == "R-23-2"


def test_prune_deletes_old_finished_runs(runtime, jobs_registered):
    now = runtime.clock.now()
    with runtime.transaction() as ctx:
        ctx.session.execute(delete(JobRun))
        for i, age in enumerate((100, 95, 10)):
            ctx.session.add(
                JobRun(
                    id=f"{i:032d}",
                    job="mail.deliver",
                    slot=f"old-{i}",
                    worker="w:1",
                    started_at=now - timedelta(days=age),
                    finished_at=now - timedelta(days=age),
                    status="succeeded",
                )
            )
    out = scheduler.run_job(runtime, "scheduler.prune", slot=now, worker="w:1")
    assert out is not None and out.result == {"deleted": 2}
    assert sorted(r.slot for r in _rows(runtime, "mail.deliver")) == ["old-2"]
