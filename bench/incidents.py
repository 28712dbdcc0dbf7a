"""Incident scope benchmark (issue 22, "Measure"): the scope of an incident from the audit log — one API token's
reads over one day in a log of 1,000,000 entries — against a plain indexed SQL query of the same entries, in the
same run.

    .venv/bin/python bench/incidents.py [--entries 1000000] [--token-entries 5000] [--customers 20000]
                                        [--runs 3] [--json out.json] [--home DIR]

The store (setup, untimed), on SQLite (WAL, synchronous=FULL, the project's pragmas) in a temporary MAMORI_HOME:

- ``--customers`` customer rows written directly (ids, origin, timestamps; no personal value and no data key —
  the scope reads ids only, so values would change nothing here);
- a service account with a real API token (``staff.service.tokens.create_token``), and a privacy officer;
- the audit log: ``--entries`` rows written DIRECTLY into ``audit_entries`` in bulk (multi-row INSERTs of 50,000),
  with seq numbers above the live chain's head and zero hashes/MACs: **the chain and its MACs do not verify** for
  these rows — they exist for the timing only. 30 days, ~50 actors (the token's owner among them), each entry as
  the services write it (``customer.read`` of one record or a list of 20, ``contact.reach``, ``consent.read``,
  ``provision.records.list``, some denials, ``details.via`` = ``session:<id>`` or ``token:<id>``); the token's
  own ``--token-entries`` reads are spread through one day (the owner's session reads run through the 30 days).

Each run (``--runs``; a new incident each time, so each run writes the same people):
- ``from_audit``: ``incidents.service.scope.from_audit(ctx, key, token_id=…, since=day, until=day+1)`` as the
  privacy officer, in its own transaction, commit included (the token's owner from the staff tables, the
  ``AuditWriter.reads`` scan through the (actor, at) index with the ``via`` filter, the people's categories and
  origins, the incident_subjects upsert, the scope row, the audit entry);
- its reading part alone: ``AuditWriter.reads`` over the same entries, decoding each entry's subjects and fields;
- the plain query: ``SELECT seq, at, action, subject_ids, fields, decision, details FROM audit_entries WHERE
  actor = ? AND at >= ? AND at < ? AND details LIKE '%"via":"token:<id>"%'`` (the same index), fetched.
Reported: seconds (median of the runs), the ratios, the people found (checked equal to the plain query's). Target:
``from_audit`` ≤ 2 s and ≤ 3× the plain query.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.factories import seed_basics  # noqa: E402

from mamori import composition as bootstrap  # noqa: E402
from mamori.customers.models import Customer  # noqa: E402
from mamori.incidents.schemas import IncidentIn  # noqa: E402
from mamori.incidents.service import register as incidents_register  # noqa: E402
from mamori.incidents.service import scope as incidents_scope  # noqa: E402
from mamori.kernel.audit.chain import encode_details, encode_list, format_at  # noqa: E402
from mamori.kernel.audit.models import ENTRIES  # noqa: E402
from mamori.kernel.context import SYSTEM_ACTOR, Role  # noqa: E402
from mamori.kernel.runtime import Runtime  # noqa: E402
from mamori.kernel.settings import Settings  # noqa: E402
from mamori.staff import service as staff_service  # noqa: E402
from mamori.staff.schemas import ApiTokenCreate, ServiceAccountCreate  # noqa: E402

START = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 30
TOKEN_DAY = 17  # the day of the token's reads (0-based from START)
ACTORS = 50
BATCH = 50_000
SEQ_BASE = 1_000_000_000  # above the live chain's head: the service's own appends never collide
ZERO = b"\0" * 32
READ_FIELDS = ["address", "birth_date", "emails", "kana", "name", "phones"]
LIST_FIELDS = ["address", "kana", "name"]


def make_customers(rt: Runtime, n: int) -> list[str]:
    ids = [secrets.token_hex(16) for _ in range(n)]
    now = datetime.now(UTC)
    with rt.sessions() as s, s.begin():
        for start in range(0, n, 5000):
            s.execute(
                insert(Customer),
                [
                    {
                        "id": cid,
                        "origin": "EU" if i % 50 == 0 else "JP",
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, cid in enumerate(ids[start : start + 5000], start)
                ],
            )
    return ids


def _row(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subjects: list[str],
    fields: list[str],
    decision: str,
    via: str,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": format_at(at),
        "actor": actor,
        "actor_role": "sales",
        "action": action,
        "purpose": "contract",
        "subject_ids": encode_list(subjects),
        "fields": encode_list(fields if decision == "allow" else []),
        "decision": decision,
        "rule_ids": "[]",
        "reason": None if decision == "allow" else "out_of_scope",
        "details": encode_details({"via": via}),
        "leaf_hash": ZERO,
        "chain_hash": ZERO,
        "mac": ZERO,
    }


def _entry(
    rng: random.Random, seq: int, at: datetime, actor: str, via: str, ids: list[str]
) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.70:
        return _row(seq, at, actor, "customer.read", [rng.choice(ids)], READ_FIELDS, "allow", via)
    if roll < 0.80:
        return _row(seq, at, actor, "customer.read", rng.sample(ids, 20), LIST_FIELDS, "allow", via)
    if roll < 0.88:
        return _row(seq, at, actor, "contact.reach", [rng.choice(ids)], ["emails"], "allow", via)
    if roll < 0.94:
        return _row(seq, at, actor, "consent.read", [rng.choice(ids)], ["consent"], "allow", via)
    if roll < 0.97:
        return _row(
            seq, at, actor, "provision.records.list", [rng.choice(ids)], ["provision_record"], "allow", via
        )
    return _row(seq, at, actor, "customer.read", [rng.choice(ids)], [], "deny", via)


def build_log(
    rt: Runtime,
    owner_label: str,
    token_via: str,
    ids: list[str],
    entries: int,
    token_entries: int,
    seed: int = 22,
) -> None:
    """``entries`` rows: ``token_entries`` through the token on TOKEN_DAY, the rest by ~50 actors over 30 days."""
    rng = random.Random(seed)
    labels = [owner_label] + [f"staff:{secrets.token_hex(16)}" for _ in range(ACTORS - 1)]
    sessions = {label: [f"session:{secrets.token_hex(16)}" for _ in range(8)] for label in labels}
    span = DAYS * 86400
    day0 = START + timedelta(days=TOKEN_DAY)
    token_at = sorted(day0 + timedelta(seconds=rng.uniform(0, 86400)) for _ in range(token_entries))
    rest = entries - token_entries
    start = time.perf_counter()
    seq = SEQ_BASE
    rows: list[dict[str, Any]] = []
    with rt.audit.engine.begin() as conn:

        def flush() -> None:
            conn.execute(insert(ENTRIES), rows)
            rows.clear()

        for at in token_at:
            seq += 1
            rows.append(_entry(rng, seq, at, owner_label, token_via, ids))
        for i in range(rest):
            seq += 1
            actor = labels[rng.randrange(ACTORS)]
            at = START + timedelta(seconds=span * i / rest)
            rows.append(_entry(rng, seq, at, actor, rng.choice(sessions[actor]), ids))
            if len(rows) >= BATCH:
                flush()
                done = i + token_entries
                if (done // BATCH) % 4 == 0:
                    print(
                        f"  audit log: {done:>9,} rows ({done / (time.perf_counter() - start):,.0f}/s)",
                        file=sys.stderr,
                    )
        if rows:
            flush()


def plain_query(rt: Runtime, actor: str, via: str, since: datetime, until: datetime) -> list[Any]:
    sql = text(
        "SELECT seq, at, action, subject_ids, fields, decision, details FROM audit_entries "
        "WHERE actor = :actor AND at >= :since AND at < :until AND details LIKE :via"
    )
    with rt.audit.engine.connect() as conn:
        return list(
            conn.execute(
                sql,
                {
                    "actor": actor,
                    "since": format_at(since),
                    "until": format_at(until),
                    "via": f'%"via":"{via}"%',
                },
            ).all()
        )


def query_plan(rt: Runtime, actor: str) -> str:
    sql = text(
        "EXPLAIN QUERY PLAN SELECT seq FROM audit_entries WHERE actor = :a AND at >= :s AND at < :u "
        "AND details LIKE :v"
    )
    with rt.audit.engine.connect() as conn:
        return " | ".join(
            str(r[-1]) for r in conn.execute(sql, {"a": actor, "s": "x", "u": "y", "v": "%"}).all()
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--token-entries", type=int, default=5_000)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--home", type=Path, default=None, help="keep the store here (default: a temp dir)")
    ap.add_argument("--json", type=Path, default=None, help="also write the result to this file")
    args = ap.parse_args()
    if args.token_entries >= args.entries:
        ap.error("--token-entries must be below --entries")

    home = args.home or Path(tempfile.mkdtemp(prefix="mamori-bench-incidents-"))
    settings = Settings(
        home=home, kek=base64.b64encode(secrets.token_bytes(32)).decode(), audit_checkpoint_every=1000
    )
    bootstrap.register_all()
    rt = Runtime(settings)
    rt.init()
    actors = seed_basics(rt)
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.add_service(
            ctx, ServiceAccountCreate(username="bench-client", display_name="bench-client", role=Role.SALES)
        )
        issued = staff_service.create_token(
            ctx, "bench-client", ApiTokenCreate(name="bench", purposes=["contract"])
        )
    owner = f"staff:{issued.staff_id}"
    via = f"token:{issued.id}"
    t0 = time.perf_counter()
    ids = make_customers(rt, args.customers)
    build_log(rt, owner, via, ids, args.entries, args.token_entries)
    build_s = time.perf_counter() - t0
    with rt.audit.engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one())
    print(f"store built in {build_s:.0f} s ({total:,} audit entries)", file=sys.stderr)
    plan = query_plan(rt, owner)
    print(f"plan: {plan}", file=sys.stderr)

    since = START + timedelta(days=TOKEN_DAY)
    until = since + timedelta(days=1)
    runs: list[dict[str, Any]] = []
    for k in range(args.runs):
        with rt.transaction(actors["po"]) as ctx:
            incident = incidents_register.register(
                ctx,
                IncidentIn(
                    title=f"API トークンの漏えいのおそれ（計測 {k + 1}）",
                    kind="leak",
                    suspected=True,
                    known_at=until,
                    known_by="情報システム部",
                    discovered_by="情報システム部",
                    cause="external_attack",
                ),
            )
        t = time.perf_counter()
        rows = plain_query(rt, owner, via, since, until)
        plain_s = time.perf_counter() - t
        plain_people = {cid for r in rows if r.decision == "allow" for cid in json.loads(r.subject_ids)}

        t = time.perf_counter()
        people: set[str] = set()
        read_entries = 0
        labels = (owner, owner.replace("staff:", "outsourcee:"))  # as from_audit reads them
        actions = (*incidents_scope.READ_ACTIONS, *incidents_scope.EXPORT_INFO_ACTIONS)
        for e in rt.audit.reads(labels, since, until, via=via, decision=("allow", "info"), actions=actions):
            people.update(e.subject_ids)
            e.fields  # noqa: B018 - decoded as from_audit does
            read_entries += 1
        reads_s = time.perf_counter() - t

        t = time.perf_counter()
        with rt.transaction(actors["po"]) as ctx:
            got = incidents_scope.from_audit(ctx, incident.id, token_id=issued.id, since=since, until=until)
        scope_s = time.perf_counter() - t
        assert got.persons == len(plain_people) == len(people), (got.persons, len(plain_people), len(people))
        runs.append(
            {
                "entries_in_window": len(rows),
                "entries_read": read_entries,
                "persons": got.persons,
                "plain_query_seconds": round(plain_s, 4),
                "reads_seconds": round(reads_s, 4),
                "from_audit_seconds": round(scope_s, 4),
                "ratio_reads_to_plain": round(reads_s / plain_s, 2),
                "ratio_from_audit_to_plain": round(scope_s / plain_s, 2),
            }
        )
        print(json.dumps(runs[-1]), file=sys.stderr)
    med = {key: statistics.median(r[key] for r in runs) for key in runs[0] if key.endswith("seconds")}
    ratio = med["from_audit_seconds"] / med["plain_query_seconds"]
    result = {
        "audit_entries": total,
        "entries_written_directly": args.entries,
        "chain_verifies": False,  # the bulk rows carry zero hashes and MACs (timing only)
        "token_entries_that_day": args.token_entries,
        "customers": args.customers,
        "actors": ACTORS,
        "days": DAYS,
        "build_seconds": round(build_s, 1),
        "query_plan": plan,
        "runs": runs,
        "median": {k: round(v, 4) for k, v in med.items()},
        "ratio_reads_to_plain": round(med["reads_seconds"] / med["plain_query_seconds"], 2),
        "ratio_from_audit_to_plain": round(ratio, 2),
        "target_2s_met": med["from_audit_seconds"] <= 2.0,
        "target_3x_met": ratio <= 3.0,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    rt.close()


if __name__ == "__main__":
    main()
