"""Rights benchmark (issue 4): disclosure and erasure latency for one person in a store of 100k customers and 1M
activities, against plain-SQL baselines in the same run.

    .venv/bin/python bench/rights.py [--customers 100000] [--activities 1000000] [--people 50] [--json out.json]

The store is built through the customers bulk path (`customers.service.core.bulk_create`: a data key per
customer, AES-256-GCM per field, blind indexes, provenance, notified purposes), 1,000 customers per transaction,
on SQLite (WAL, synchronous=FULL, the project's pragmas) in a temporary MAMORI_HOME.

Measured per person, each in its own transaction and including the commit (wall time, perf_counter):
- disclosure: `rights.service.fulfil` of a verified disclosure request — every registered subject data source's
  export (decryption), the package model, the request record, events and audit entries;
  baseline: a plain Core SELECT of the same person's rows (customers, contact points, attributes, activities,
  provenance) without decryption or audit.
- erasure: `rights.service.fulfil` of a verified erasure request — recipients, every source's erase()
  (data key destroyed in the keystore, blind index and ciphertext removed, tombstone), identifier scrub, events;
  baseline: plain DELETEs of the same kinds of rows and an UPDATE nulling the customer's columns.
Requests are opened and verified (ID document by the privacy officer) before timing starts.
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

from sqlalchemy import delete, select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.factories import seed_basics  # noqa: E402

from mamori import composition as bootstrap  # noqa: E402
from mamori.customers.models import (  # noqa: E402
    Activity,
    BlindIndex,
    ContactPoint,
    Customer,
    CustomerAttribute,
    Provenance,
)
from mamori.customers.schemas import ActivityIn, CustomerCreate, ProvenanceIn  # noqa: E402
from mamori.customers.service import core as customers_core  # noqa: E402
from mamori.kernel.runtime import Runtime  # noqa: E402
from mamori.kernel.settings import Settings  # noqa: E402
from mamori.rights import service as rights  # noqa: E402
from mamori.rights.schemas import RequestOpen  # noqa: E402

BATCH = 1000


def pools(seed: int) -> dict[str, list[str]]:
    from faker import Faker

    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    return {
        "last": [fake.last_name() for _ in range(300)],
        "first": [fake.first_name() for _ in range(300)],
        "address": [fake.address() for _ in range(500)],
        "company": [fake.company() for _ in range(200)],
        "job": [fake.job() for _ in range(100)],
        "note": [fake.sentence() for _ in range(500)],
    }


def build(rt: Runtime, actors: dict, n_customers: int, n_activities: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    p = pools(seed)
    per = n_activities // n_customers
    extra = n_activities - per * n_customers
    ids: list[str] = []
    start = time.perf_counter()
    base = datetime(2024, 1, 1, tzinfo=UTC)
    prov = ProvenanceIn(method="direct", channel="web_form", notice_version="n-2026")
    for b in range(0, n_customers, BATCH):
        items = []
        for i in range(b, min(b + BATCH, n_customers)):
            k = per + (1 if i < extra else 0)
            data = CustomerCreate(
                name=f"{rng.choice(p['last'])} {rng.choice(p['first'])}",
                birth_date=f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                postal_code=f"{rng.randint(100, 999)}-{rng.randint(0, 9999):04d}",
                address=rng.choice(p["address"]),
                emails=[f"user{i}@example.jp"],
                phones=[f"090-{1000 + i // 10000:04d}-{i % 10000:04d}"],
                occupation=rng.choice(p["job"]),
                employer=rng.choice(p["company"]),
            )
            acts = [
                ActivityIn(
                    kind=rng.choice(["purchase", "inquiry", "call", "note"]),
                    body=rng.choice(p["note"]),
                    amount=rng.randint(100, 50000),
                    occurred_at=base + timedelta(minutes=rng.randint(0, 900_000)),
                )
                for _ in range(k)
            ]
            items.append((data, prov, ["contract", "marketing-email"], None, acts))
        with rt.transaction(actors["po"]) as ctx:
            ids.extend(customers_core.bulk_create(ctx, items))
        if (b // BATCH) % 10 == 0:
            done = b + len(items)
            rate = done / (time.perf_counter() - start)
            print(f"  built {done:>7} customers ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    return ids


def verified(rt: Runtime, actors: dict, kind: str, cid: str) -> str:
    with rt.transaction(actors["support"]) as ctx:
        v = rights.open_request(ctx, RequestOpen(kind=kind, channel="counter"))
    with rt.transaction(actors["po"]) as ctx:
        rights.verify_document(ctx, v.id, cid, "drivers_license")
    return v.id


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def baseline_select(rt: Runtime, cid: str) -> int:
    with rt.sessions() as s:
        n = 0
        for model in (ContactPoint, CustomerAttribute, Activity, Provenance):
            n += len(s.execute(select(model).where(model.customer_id == cid)).all())  # type: ignore[attr-defined]
        n += len(s.execute(select(Customer).where(Customer.id == cid)).all())
        return n


def baseline_delete(rt: Runtime, cid: str) -> None:
    with rt.sessions() as s, s.begin():
        for model in (ContactPoint, CustomerAttribute, Activity, BlindIndex):
            s.execute(delete(model).where(model.customer_id == cid))  # type: ignore[attr-defined]
        s.execute(
            update(Customer)
            .where(Customer.id == cid)
            .values(name_enc=None, address_enc=None, birth_date_enc=None, erased_at=datetime.now(UTC))
        )


def stats(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return {"median_ms": round(statistics.median(ms), 2), "p95_ms": round(p95, 2), "n": len(ms)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--activities", type=int, default=1_000_000)
    ap.add_argument("--people", type=int, default=50)
    ap.add_argument("--home", type=Path, default=None, help="keep the store here (default: a temp dir)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="mamori-bench-rights-"))
    settings = Settings(
        home=home, kek=base64.b64encode(secrets.token_bytes(32)).decode(), audit_checkpoint_every=1000
    )
    bootstrap.register_all()
    rt = Runtime(settings)
    rt.init()
    actors = seed_basics(rt)
    t0 = time.perf_counter()
    ids = build(rt, actors, args.customers, args.activities)
    build_s = time.perf_counter() - t0
    print(f"store built in {build_s:.0f} s", file=sys.stderr)

    rng = random.Random(5)
    sample = rng.sample(ids, 3 * args.people)
    disclose_ids, erase_ids, base_erase_ids = (
        sample[: args.people],
        sample[args.people : 2 * args.people],
        sample[2 * args.people :],
    )
    d_req = [verified(rt, actors, "disclosure", c) for c in disclose_ids]
    e_req = [verified(rt, actors, "erasure", c) for c in erase_ids]

    # warm-up (imports, statement caches) on one extra person each way
    warm = [c for c in ids if c not in set(sample)][:1]
    for c in warm:
        rid = verified(rt, actors, "disclosure", c)
        with rt.transaction(actors["po"]) as ctx:
            rights.fulfil(ctx, rid)
        baseline_select(rt, c)

    records = []
    disclose_ms: list[float] = []
    base_select_ms: list[float] = []
    for rid, cid in zip(d_req, disclose_ids, strict=True):

        def run(rid: str = rid) -> None:
            with rt.transaction(actors["po"]) as ctx:
                _, package = rights.fulfil(ctx, rid)
                records.append(len(package.records) if package else 0)

        rt.keystore.clear_cache()  # each person's key comes from the keystore, as in a fresh request
        disclose_ms.append(timed(run))
        base_select_ms.append(timed(lambda cid=cid: baseline_select(rt, cid)))

    erase_ms: list[float] = []
    for rid in e_req:

        def run_erase(rid: str = rid) -> None:
            with rt.transaction(actors["po"]) as ctx:
                rights.fulfil(ctx, rid)

        erase_ms.append(timed(run_erase))
    base_delete_ms = [timed(lambda cid=cid: baseline_delete(rt, cid)) for cid in base_erase_ids]

    result = {
        "customers": args.customers,
        "activities": args.activities,
        "build_seconds": round(build_s, 1),
        "records_per_disclosure_median": statistics.median(records),
        "disclosure": stats(disclose_ms),
        "disclosure_baseline_select": stats(base_select_ms),
        "erasure": stats(erase_ms),
        "erasure_baseline_delete": stats(base_delete_ms),
    }
    result["disclosure_ratio_median"] = round(
        result["disclosure"]["median_ms"] / result["disclosure_baseline_select"]["median_ms"], 1
    )
    result["erasure_ratio_median"] = round(
        result["erasure"]["median_ms"] / result["erasure_baseline_delete"]["median_ms"], 1
    )
    result["targets"] = {
        "disclosure_p95_le_100ms": result["disclosure"]["p95_ms"] <= 100,
        "erasure_p95_le_50ms": result["erasure"]["p95_ms"] <= 50,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    rt.close()


if __name__ == "__main__":
    main()
