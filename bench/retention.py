"""Retention benchmark (issue 21, "Measure"): a retention run over the 10% of N customers that are due, against
erasing people one by one through the rights erasure, in the same run; per person.

    .venv/bin/python bench/retention.py [--customers 100000] [--runs 1] [--sample 200] [--json out.json] [--home DIR]

The store: N synthetic customers through the customers bulk path (``customers.service.core.bulk_create``: a data key
per customer, AES-256-GCM per field, blind indexes, provenance, notified purposes), 1,000 per transaction, on SQLite
(WAL, synchronous=FULL, the project's pragmas) in a temporary MAMORI_HOME. Each has a name, kana, address, one
e-mail address and one mobile number, and is notified of ``contract`` and ``marketing-email``. One retention rule:
``*`` / ``*`` 5 years from the end of the relationship.

Each round (``--runs`` rounds; setup untimed):
- a fresh group of N/10 customers gets a relationship end in 2015 (one UPDATE, setup only): they are due;
- rights: ``--sample`` other customers are erased one by one through the rights path — an erasure request opened
  and verified (ID document, by the privacy officer) untimed, then ``rights.service.fulfil`` timed per person, each
  in its own transaction, commit included (recipients, the identifier trace, every source's ``erase``, the mail
  queue, the result notice, events, audit);
- retention: ``lifecycle.service.retention.run`` as the privacy officer, in one transaction, commit included
  (the plan over all N customers, holds, provision records, ``registry.erase_subjects`` in batches of 500 — one key
  destruction per batch, chunked deletes, one audit entry per batch —, the mail queue, the disposal record).
- sources: another ``--sample`` customers erased one by one through every subject source's ``erase`` (what
  ``erase_subjects`` does without the sources' ``erase_many``), one transaction each — no rights request;
Per person: the run's seconds / persons disposed, against the median rights fulfil (the target's comparison) and
the median one-by-one sources erase. Target: ≥ 5× faster per person than the rights erasure.
With ``--runs`` K, K × N/10 customers are made due over the rounds (each round's run sees N/10 due of N).
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.factories import seed_basics  # noqa: E402

from mamori import composition as bootstrap  # noqa: E402
from mamori.customers.models import Customer  # noqa: E402
from mamori.customers.schemas import CustomerCreate, ProvenanceIn  # noqa: E402
from mamori.customers.service import core as customers_core  # noqa: E402
from mamori.kernel import registry  # noqa: E402
from mamori.kernel.runtime import Runtime  # noqa: E402
from mamori.kernel.settings import Settings  # noqa: E402
from mamori.lifecycle.retention_schemas import RuleCreate  # noqa: E402
from mamori.lifecycle.service import retention  # noqa: E402
from mamori.rights import service as rights  # noqa: E402
from mamori.rights.schemas import RequestOpen  # noqa: E402
from mamori.rights.service.holds import RIGHTS_HOLD  # noqa: E402

BATCH = 1000
LAST = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
FIRST = ["太郎", "花子", "一郎", "美咲", "健太", "陽子", "翔", "葵", "大輔", "結衣"]
KANA_LAST = [
    "サトウ",
    "スズキ",
    "タカハシ",
    "タナカ",
    "イトウ",
    "ワタナベ",
    "ヤマモト",
    "ナカムラ",
    "コバヤシ",
    "カトウ",
]
KANA_FIRST = [
    "タロウ",
    "ハナコ",
    "イチロウ",
    "ミサキ",
    "ケンタ",
    "ヨウコ",
    "ショウ",
    "アオイ",
    "ダイスケ",
    "ユイ",
]


def build_store(rt: Runtime, actors: dict[str, Any], n: int, seed: int = 21) -> list[str]:
    rng = random.Random(seed)
    prov = ProvenanceIn(method="direct", channel="web_form", notice_version="n-2026")
    ids: list[str] = []
    start = time.perf_counter()
    for b in range(0, n, BATCH):
        items: list[Any] = []
        for i in range(b, min(b + BATCH, n)):
            a, f = rng.randrange(10), rng.randrange(10)
            data = CustomerCreate(
                name=f"{LAST[a]} {FIRST[f]}",
                kana=f"{KANA_LAST[a]} {KANA_FIRST[f]}",
                address=f"東京都架空区{i % 50 + 1}丁目{i % 97 + 1}-{i % 13 + 1}",
                emails=[f"user{i}@example.jp"],
                phones=[f"090-{1000 + i // 10000:04d}-{i % 10000:04d}"],
            )
            items.append((data, prov, ["contract", "marketing-email"], None, []))
        with rt.transaction(actors["po"]) as ctx:
            ids.extend(customers_core.bulk_create(ctx, items))
        if (b // BATCH) % 10 == 0:
            done = b + len(items)
            print(
                f"  built {done:>7} customers ({done / (time.perf_counter() - start):,.0f}/s)",
                file=sys.stderr,
            )
    return ids


def make_due(rt: Runtime, ids: list[str]) -> None:
    """Setup only: their relationship ended in 2015 (what ``customers end-relationship`` records, in bulk)."""
    ended = datetime(2015, 4, 1, tzinfo=UTC)
    with rt.sessions() as s, s.begin():
        for start in range(0, len(ids), 500):
            s.execute(
                update(Customer)
                .where(Customer.id.in_(ids[start : start + 500]))
                .values(relationship_ended_at=ended)
            )


def verified_erasure(rt: Runtime, actors: dict[str, Any], cid: str) -> str:
    with rt.transaction(actors["support"]) as ctx:
        v = rights.open_request(ctx, RequestOpen(kind="erasure", channel="counter"))
    with rt.transaction(actors["po"]) as ctx:
        rights.verify_document(ctx, v.id, cid, "drivers_license")
    return v.id


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument(
        "--sample", type=int, default=200, help="persons erased through the rights path per round"
    )
    ap.add_argument("--home", type=Path, default=None, help="keep the store here (default: a temp dir)")
    ap.add_argument("--json", type=Path, default=None, help="also write the result to this file")
    args = ap.parse_args()
    group = args.customers // 10
    if args.runs * (group + 2 * args.sample) > args.customers:
        ap.error("too many rounds for this many customers (each round uses N/10 + 2 × --sample customers)")

    home = args.home or Path(tempfile.mkdtemp(prefix="mamori-bench-retention-"))
    settings = Settings(
        home=home, kek=base64.b64encode(secrets.token_bytes(32)).decode(), audit_checkpoint_every=1000
    )
    bootstrap.register_all()
    registry.register_retention_hold(RIGHTS_HOLD)  # as the composition layer does in the app
    rt = Runtime(settings)
    rt.init()
    actors = seed_basics(rt)
    t0 = time.perf_counter()
    ids = build_store(rt, actors, args.customers)
    build_s = time.perf_counter() - t0
    print(f"store built in {build_s:.0f} s", file=sys.stderr)
    with rt.transaction(actors["po"]) as ctx:
        retention.add_rule(ctx, RuleCreate(purpose="*", category="*", days=5 * 365, basis="relationship_end"))

    order = ids[:]
    random.Random(7).shuffle(order)
    rounds: list[dict[str, Any]] = []
    for k in range(args.runs):
        base = k * (group + 2 * args.sample)
        due = order[base : base + group]
        sample = order[base + group : base + group + args.sample]
        one_by_one = order[base + group + args.sample : base + group + 2 * args.sample]
        requests = [verified_erasure(rt, actors, cid) for cid in sample]
        make_due(rt, due)
        per_person_ms: list[float] = []
        for rid in requests:
            t = time.perf_counter()
            with rt.transaction(actors["po"]) as ctx:
                rights.fulfil(ctx, rid)
            per_person_ms.append((time.perf_counter() - t) * 1000)
        sources_ms: list[float] = []
        for cid in one_by_one:  # the same sources, one person per transaction, without the rights request
            t = time.perf_counter()
            with rt.transaction(actors["po"]) as ctx:
                for source in registry.sources():
                    source.erase(ctx, cid)
            sources_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        with rt.transaction(actors["po"]) as ctx:
            record = retention.run(ctx)
        run_s = time.perf_counter() - t
        assert record.persons == len(due), (record.persons, len(due))
        rights_ms = statistics.median(per_person_ms)
        retention_ms = run_s * 1000 / max(record.persons, 1)
        rounds.append(
            {
                "persons_disposed": record.persons,
                "retention_run_seconds": round(run_s, 2),
                "retention_ms_per_person": round(retention_ms, 3),
                "rights_erasures": len(per_person_ms),
                "rights_ms_per_person_median": round(rights_ms, 2),
                "rights_ms_per_person_p95": round(
                    sorted(per_person_ms)[int(0.95 * (len(per_person_ms) - 1))], 2
                ),
                "ratio_per_person": round(rights_ms / retention_ms, 1),
                "sources_erase_ms_per_person_median": round(statistics.median(sources_ms), 2),
                "ratio_to_sources_erase": round(statistics.median(sources_ms) / retention_ms, 1),
                "counts": record.counts,
            }
        )
        print(json.dumps(rounds[-1], ensure_ascii=False), file=sys.stderr)
    ratio = statistics.median(r["ratio_per_person"] for r in rounds)
    result = {
        "customers": args.customers,
        "due_per_round": group,
        "runs": args.runs,
        "build_seconds": round(build_s, 1),
        "rounds": rounds,
        "ratio_per_person_median": ratio,
        "target_5x_met": ratio >= 5,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    rt.close()


if __name__ == "__main__":
    main()
