"""Contact-list benchmark (issue 20, "Measure"): a call list for a purpose over N customers against a plain SQL query
of the same eligible ids, in the same run.

    .venv/bin/python bench/contact.py [--customers 100000] [--runs 3] [--json out.json] [--home DIR]

The store: N synthetic customers through the customers bulk path (``customers.service.core.bulk_create``: a data key
per customer, AES-256-GCM per field, blind indexes, notices), 1,000 per transaction, on SQLite (WAL,
synchronous=FULL, the project's pragmas) in a temporary MAMORI_HOME. Each has a name, kana and one mobile number.
90% are notified of the call purpose (channels phone and post) and of ``contract``, 10% of ``contract`` only;
20% of all have a do-not-contact line for phone in the consent ledger (inserted as ledger rows, the lines
``consent.service.do_not_contact`` writes, without one audit entry each — setup only).

Timed (wall time, perf_counter), ``--runs`` times each, alternating, the keystore's key cache emptied before each
list build (every data key unwrapped again, as in a fresh process):
- mamori: ``contact.service.lists.build(ctx, channel="phone")`` as the support role, in its own transaction,
  commit included: the purpose-level check, the row-scope and notice facts, the ledger, a policy decision per
  person (memoised on identical facts), decryption of the included people's name, kana and phone numbers, the
  build record, the CSV digest and the audit entry;
- baseline_ids: one plain SELECT of the same eligible ids (notified, not erased, no stop-use, no phone
  do-not-contact) — no decryption, no audit;
- baseline_rows: the same SELECT also fetching the sealed name, kana and phone columns (what a list needs from
  the database, still without decrypting).
The eligible sets are compared (they must be equal). Target (issue 20): build ≤ 5× baseline_ids and ≤ 2 s at 100k.
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

from sqlalchemy import and_, exists, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.factories import seed_basics  # noqa: E402

from mamori import composition as bootstrap  # noqa: E402
from mamori.consent.models import ConsentEvent  # noqa: E402
from mamori.contact.service import lists  # noqa: E402
from mamori.customers.models import ContactPoint, Customer, CustomerPurpose  # noqa: E402
from mamori.customers.schemas import CustomerCreate, ProvenanceIn  # noqa: E402
from mamori.customers.service import core as customers_core  # noqa: E402
from mamori.kernel.context import SYSTEM_ACTOR  # noqa: E402
from mamori.kernel.policy import Category  # noqa: E402
from mamori.kernel.runtime import Runtime  # noqa: E402
from mamori.kernel.settings import Settings  # noqa: E402
from mamori.purposes import service as purposes_service  # noqa: E402
from mamori.purposes.schemas import PurposeCreate  # noqa: E402

BATCH = 1000
PURPOSE = PurposeCreate(
    code="outbound-call",
    title_ja="お電話でのご案内",
    title_en="Outbound calls",
    text_ja="新商品のご案内のため、氏名・フリガナ・電話番号を利用し、お電話・郵送でご連絡します。",
    text_en="Calls and letters about new products.",
    categories=[Category.IDENTIFIER, Category.CONTACT],
    channels=["phone", "post"],
)
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


def build_store(rt: Runtime, actors: dict[str, Any], n: int, seed: int = 20) -> tuple[list[str], set[str]]:
    """N customers; returns (ids, ids with a phone do-not-contact line)."""
    rng = random.Random(seed)
    prov = ProvenanceIn(method="direct", channel="web_form", notice_version="n-2026")
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.add(ctx, PURPOSE)
    ids: list[str] = []
    start = time.perf_counter()
    for b in range(0, n, BATCH):
        items: list[Any] = []
        for i in range(b, min(b + BATCH, n)):
            a, f = rng.randrange(10), rng.randrange(10)
            data = CustomerCreate(
                name=f"{LAST[a]} {FIRST[f]}",
                kana=f"{KANA_LAST[a]} {KANA_FIRST[f]}",
                phones=[f"090-{1000 + i // 10000:04d}-{i % 10000:04d}"],
            )
            notified = ["contract", PURPOSE.code] if i % 10 != 0 else ["contract"]  # 10% not notified
            items.append((data, prov, notified, None, []))
        with rt.transaction(actors["po"]) as ctx:
            ids.extend(customers_core.bulk_create(ctx, items))
        if (b // BATCH) % 10 == 0:
            done = b + len(items)
            print(
                f"  built {done:>7} customers ({done / (time.perf_counter() - start):,.0f}/s)",
                file=sys.stderr,
            )
    dnc = set(random.Random(seed + 1).sample(ids, n // 5))  # 20% do-not-contact on phone
    now = datetime.now(UTC)
    rows = [
        {
            "customer_id": cid,
            "kind": "channel",
            "target": "phone",
            "action": "opt_out",
            "method": "oral",
            "occurred_at": now,
            "recorded_at": now,
            "recorded_by": "staff:bench",
        }
        for cid in sorted(dnc)
    ]
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        for s in range(0, len(rows), 5000):
            ctx.session.execute(insert(ConsentEvent), rows[s : s + 5000])
    return ids, dnc


def _eligible_stmt(with_rows: bool) -> Any:
    notified = and_(CustomerPurpose.customer_id == Customer.id, CustomerPurpose.purpose_code == PURPOSE.code)
    no_dnc = ~exists().where(
        ConsentEvent.customer_id == Customer.id,
        ConsentEvent.kind == "channel",
        ConsentEvent.target == "phone",
        ConsentEvent.action == "opt_out",
    )
    not_stopped = ~exists().where(
        ConsentEvent.customer_id == Customer.id,
        ConsentEvent.kind == "suppression",
        ConsentEvent.action == "stopped",
    )
    if with_rows:
        stmt: Any = select(Customer.id, Customer.name_enc, Customer.kana_enc, ContactPoint.value_enc).join(
            ContactPoint, and_(ContactPoint.customer_id == Customer.id, ContactPoint.kind == "phone")
        )
    else:
        stmt = select(Customer.id)
    return stmt.join(CustomerPurpose, notified).where(Customer.erased_at.is_(None), no_dnc, not_stopped)


def baseline(rt: Runtime, with_rows: bool) -> tuple[float, set[str]]:
    t0 = time.perf_counter()
    with rt.sessions() as s:
        found = {r[0] for r in s.execute(_eligible_stmt(with_rows)).all()}
    return time.perf_counter() - t0, found


DECIDED: list[float] = []  # per build: seconds until every person was decided (the first progress report)


def mamori_build(rt: Runtime, actor: Any) -> tuple[float, set[str], dict[str, int]]:
    rt.keystore.clear_cache()  # every data key unwrapped again, as in a fresh process
    marks: list[float] = []

    def progress(done: int, total: int) -> None:
        if not marks:  # contactable reports first once every person is decided, before any decryption
            marks.append(time.perf_counter())

    t0 = time.perf_counter()
    with rt.transaction(actor, PURPOSE.code) as ctx:
        built = lists.build(ctx, channel="phone", progress=progress)
    elapsed = time.perf_counter() - t0
    DECIDED.append(marks[0] - t0 if marks else elapsed)
    return elapsed, {str(r["customer_id"]) for r in built.rows}, built.excluded


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--home", type=Path, default=None, help="keep the store here (default: a temp dir)")
    ap.add_argument("--json", type=Path, default=None, help="also write the result to this file")
    args = ap.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="mamori-bench-contact-"))
    settings = Settings(
        home=home, kek=base64.b64encode(secrets.token_bytes(32)).decode(), audit_checkpoint_every=1000
    )
    bootstrap.register_all()
    rt = Runtime(settings)
    rt.init()
    actors = seed_basics(rt)
    t0 = time.perf_counter()
    ids, dnc = build_store(rt, actors, args.customers)
    store_s = time.perf_counter() - t0
    print(f"store built in {store_s:.0f} s", file=sys.stderr)

    mamori_build(rt, actors["support"])  # warm-up: imports, statement caches
    DECIDED.clear()
    baseline(rt, False)
    build_s: list[float] = []
    ids_s: list[float] = []
    rows_s: list[float] = []
    same = True
    excluded: dict[str, int] = {}
    for _ in range(args.runs):
        b, built_ids, excluded = mamori_build(rt, actors["support"])
        i, base_ids = baseline(rt, False)
        r, _ = baseline(rt, True)
        build_s.append(b)
        ids_s.append(i)
        rows_s.append(r)
        same = same and built_ids == base_ids
    med = statistics.median
    result = {
        "customers": args.customers,
        "store_build_seconds": round(store_s, 1),
        "included": len(built_ids),
        "excluded": excluded,
        "same_ids_as_baseline": same,
        "runs": args.runs,
        "build_seconds_median": round(med(build_s), 3),
        "build_seconds_all": [round(x, 3) for x in build_s],
        "baseline_ids_seconds_median": round(med(ids_s), 3),
        "baseline_rows_seconds_median": round(med(rows_s), 3),
        "ratio_to_baseline_ids": round(med(build_s) / med(ids_s), 1),
        "ratio_to_baseline_rows": round(med(build_s) / med(rows_s), 1),
        # the policy part alone (candidates, ledger, one decision per distinct set of facts), before decryption
        "decided_seconds_median": round(med(DECIDED), 3),
        "decided_ratio_to_baseline_ids": round(med(DECIDED) / med(ids_s), 1),
    }
    result["targets"] = {
        "ratio_le_5x_ids": result["ratio_to_baseline_ids"] <= 5,
        "build_le_2s": result["build_seconds_median"] <= 2,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    rt.close()


if __name__ == "__main__":
    main()
