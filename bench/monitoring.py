"""Monitoring benchmark (issue 25, "Measure"): every signal over 30 days of a 1,000,000-entry audit log, against a
plain SQL aggregate of the same counts in the same run; and the incremental evaluation of one new day.

    .venv/bin/python bench/monitoring.py [--entries 1000000] [--staff 300] [--runs 3] [--json out.json] [--home DIR]

The store (setup, untimed) is SQLite (WAL, the project's pragmas) in a temporary MAMORI_HOME. The audit log gets
~``--entries`` rows written DIRECTLY into ``audit_entries`` in bulk (seq numbers above the live chain's head, zero
hashes and MACs: **the chain does not verify** for these rows — they exist for the timing only): 30 days of
``mamori.monitoring.simulate.month`` — ``--staff`` people (sales, support, analysts, privacy officers) reading on
business days from their own networks, with refusals, 要配慮 reads and weekly contact lists — plus the planted
behaviours of the tests (an evening of 400 reads, a probe, a bulk export at 02:00, a leaver's token).

Timed (median of ``--runs``):
- **evaluate**: ``monitoring.service.evaluate.evaluate(ctx, rebuild_since=<first day>)`` as the privacy officer in
  its own transaction, commit included — the one aggregate pass, the daily rows written, the baselines, every
  signal judged, the alerts' entries fetched and the alerts written;
- **plain**: ``SELECT actor, actor_role, substr(at,1,13), action, decision, reason, count(*), sum(<people>) FROM
  audit_entries WHERE at >= ? GROUP BY …`` — the same counts by the same keys without any judgement, fetched;
- **incremental**: one more business day of entries (the day after the month, ~1/21 of the log) appended, then
  ``evaluate(ctx)`` (only the new entries).
Targets: evaluate ≤ 10 s and ≤ 3× the plain aggregate; incremental ≤ 1 s.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.factories import seed_basics  # noqa: E402

from mamori import composition as bootstrap  # noqa: E402
from mamori.kernel.audit import AuditEntry  # noqa: E402
from mamori.kernel.audit.chain import encode_details, encode_list, format_at  # noqa: E402
from mamori.kernel.audit.models import ENTRIES  # noqa: E402
from mamori.kernel.runtime import Runtime  # noqa: E402
from mamori.kernel.settings import Settings  # noqa: E402
from mamori.law.calendar_jp import is_business_day  # noqa: E402
from mamori.monitoring import queries, simulate  # noqa: E402
from mamori.monitoring.service import evaluate as evaluate_service  # noqa: E402

START = date(2026, 10, 19)
DAYS = 30
ZERO = b"\0" * 32
SEQ_BASE = 1_000_000_000


def _row(seq: int, e: AuditEntry) -> dict[str, Any]:
    assert e.at is not None
    return {
        "seq": seq,
        "at": format_at(e.at),
        "actor": e.actor,
        "actor_role": e.actor_role,
        "action": e.action,
        "purpose": e.purpose,
        "subject_ids": encode_list(e.subject_ids),
        "fields": encode_list(sorted(e.fields)),
        "decision": e.decision,
        "rule_ids": encode_list(e.rule_ids),
        "reason": e.reason,
        "details": encode_details(dict(e.details)),
        "leaf_hash": ZERO,
        "chain_hash": ZERO,
        "mac": ZERO,
    }


def people_for(rng: random.Random, staff: int, entries: int) -> list[simulate.Person]:
    """``staff`` people whose usual volume makes about ``entries`` entries over the month's business days."""
    business = sum(1 for d in range(DAYS) if is_business_day(START + timedelta(days=d)))
    per_day = (
        entries / business / staff
    )  # entries per person and day; a read entry names 1.8 people on average
    roles = ["sales"] * (staff * 5 // 10) + ["support"] * (staff * 3 // 10)
    roles += ["analyst"] * (staff - len(roles) - 2) + ["privacy_officer"] * 2
    office = [f"n{rng.getrandbits(48):012x}" for _ in range(6)]
    return [
        simulate.Person(
            f"staff:{rng.getrandbits(128):032x}",
            role,
            (rng.choice(office),)
            if rng.random() < 0.7
            else (rng.choice(office), f"n{rng.getrandbits(48):012x}"),
            max(5, int(rng.gauss(per_day * 1.8, per_day / 4))),
        )
        for role in roles
    ]


def write(rt: Runtime, entries: list[AuditEntry], first_seq: int) -> int:
    seq = first_seq
    with rt.audit.engine.begin() as conn:
        for i in range(0, len(entries), 50_000):
            rows = []
            for e in entries[i : i + 50_000]:
                seq += 1
                rows.append(_row(seq, e))
            conn.execute(insert(ENTRIES), rows)
    return seq


def plain(rt: Runtime, since: Any) -> int:
    hour = func.substr(ENTRIES.c.at, 1, 13)
    stmt = (
        select(
            ENTRIES.c.actor,
            ENTRIES.c.actor_role,
            hour,
            ENTRIES.c.action,
            ENTRIES.c.decision,
            ENTRIES.c.reason,
            func.count(),
            func.sum(queries.people_count()),
        )
        .where(ENTRIES.c.at >= format_at(since))
        .group_by(
            ENTRIES.c.actor,
            ENTRIES.c.actor_role,
            hour,
            ENTRIES.c.action,
            ENTRIES.c.decision,
            ENTRIES.c.reason,
        )
    )
    with rt.audit.engine.connect() as conn:
        return len(conn.execute(stmt).all())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--staff", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one more evaluation")
    args = ap.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="mamori-bench-monitoring-"))
    settings = Settings(
        home=home, kek=base64.b64encode(secrets.token_bytes(32)).decode(), audit_checkpoint_every=1000
    )
    bootstrap.register_all()
    rt = Runtime(settings)
    rt.init()
    actors = seed_basics(rt)
    po = actors["po"]
    rng = random.Random(25)
    people = people_for(rng, args.staff, args.entries)
    t0 = time.perf_counter()
    month = list(simulate.month(rng, people, START, DAYS))
    _planted, extra = simulate.plant(rng, people, START, DAYS)
    month = sorted(month + extra, key=lambda e: e.at)  # type: ignore[arg-type, return-value]
    last = write(rt, month, SEQ_BASE)
    setup = time.perf_counter() - t0
    print(f"setup: {len(month):,} entries written in {setup:.1f} s ({home})", flush=True)

    since = evaluate_service.day_bounds(START)[0]
    plain_s: list[float] = []
    eval_s: list[float] = []
    results: list[dict[str, Any]] = []
    for _ in range(args.runs):
        t = time.perf_counter()
        groups = plain(rt, since)
        plain_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        with rt.transaction(po) as ctx:
            r = evaluate_service.evaluate(ctx, rebuild_since=START)
        eval_s.append(time.perf_counter() - t)
        results.append(r.model_dump(mode="json", exclude={"alert_ids"}))
        print(
            f"plain {plain_s[-1]:.2f} s ({groups:,} groups)  evaluate {eval_s[-1]:.2f} s  raised {r.raised}",
            flush=True,
        )

    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        with rt.transaction(po) as ctx:
            evaluate_service.evaluate(ctx, rebuild_since=START)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)

    # one more business day, evaluated incrementally
    day = START + timedelta(days=DAYS)
    while not is_business_day(day):
        day += timedelta(days=1)
    new_day = list(simulate.month(rng, people, day, 1))
    write(rt, new_day, last)
    t = time.perf_counter()
    with rt.transaction(po) as ctx:
        inc = evaluate_service.evaluate(ctx)
    inc_s = time.perf_counter() - t

    from mamori.monitoring.models import MonitoringAlert

    with rt.transaction(po, readonly=True) as ctx:
        by_signal = dict(
            ctx.session.execute(
                select(MonitoringAlert.signal, func.count()).group_by(MonitoringAlert.signal)
            ).all()
        )
    ev, pl = statistics.median(eval_s), statistics.median(plain_s)
    out = {
        "entries": len(month),
        "staff": len(people),
        "plain_s": round(pl, 3),
        "evaluate_s": round(ev, 3),
        "ratio": round(ev / pl, 2),
        "incremental_entries": len(new_day),
        "incremental_s": round(inc_s, 3),
        "evaluation": results[-1],
        "incremental": inc.model_dump(mode="json", exclude={"alert_ids"}),
        "alerts_by_signal": by_signal,
        "targets": {"evaluate_s": 10, "ratio": 3, "incremental_s": 1},
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    rt.close()


if __name__ == "__main__":
    main()
