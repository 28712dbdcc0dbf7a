"""Does the privacy center's answer to a filed request tell a customer's address from a stranger's? (issue 18)

    .venv/bin/python bench/privacy_center_timing.py [--pairs 150] [--json]

On a fresh SQLite store with the demo's purposes, staff and published notice, and one customer per pair (each with
its own address: the intake allows 5 filings per address and hour), files a disclosure request through the real
route ``POST /api/v1/privacy-requests`` — alternately with a customer's address and a stranger's, interleaved so
drift hits both alike — in an app whose delivery worker runs (the server's lifespan: the code mail is sent off the
request's thread, as in production). The clock is frozen and moved on an hour every 15 filings so the per-IP
throttle never answers 429. Reports the medians, their ratio (1.0 = equal) and how well the best single threshold
on one try tells them apart (0.5 = chance). The baseline is the other path of the same run. Then checks what each
filing answered: the same status and the same words.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sign_in_timing import best_threshold_accuracy  # bench/ is the script's directory

from mamori import composition as bootstrap
from mamori.api.app import create_app
from mamori.cli import demo
from mamori.customers import service as customers_service
from mamori.customers.schemas import CustomerCreate, ProvenanceIn
from mamori.kernel.clock import FrozenClock
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import Settings
from mamori.notice import service as notice_service


def _customer(rt: Runtime, actor, i: int) -> str:
    email = f"bench.customer.{i}@example.jp"
    data = CustomerCreate(
        name="山田 太郎",
        kana="ヤマダ タロウ",
        birth_date="1985-01-02",
        gender="male",
        postal_code="150-0001",
        address="東京都渋谷区神宮前1-2-3",
        phones=[],
        emails=[email],
        occupation="会社員",
        employer="架空商事株式会社",
        origin="JP",
    )
    with rt.transaction(actor) as ctx:
        customers_service.create(
            ctx,
            data,
            provenance=ProvenanceIn(method="direct", channel="web_form", notice_version="n-2026"),
            purposes=["contract"],
        )
    return email


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=150)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mamori-bench-center-"))
    settings = Settings(
        home=home / "home", key_dir=home / "keys", kek=base64.b64encode(secrets.token_bytes(32)).decode()
    )
    bootstrap.register_all()
    clock = FrozenClock(datetime.now(UTC))
    rt = Runtime(settings, clock=clock)
    rt.init()
    bootstrap.ensure_admin(rt)
    demo.generate(rt, customers=0, seed=7)
    from mamori.kernel.context import SYSTEM_ACTOR

    with rt.transaction(SYSTEM_ACTOR) as ctx:
        version = notice_service.publish(ctx).version
    staff = bootstrap.resolve_actor(rt, "sato")
    customers = [_customer(rt, staff, i) for i in range(args.pairs)]
    strangers = [f"bench.stranger.{i}@example.org" for i in range(args.pairs)]

    known: list[float] = []
    unknown: list[float] = []
    answers: dict[str, set[tuple[int, str]]] = {"customer": set(), "stranger": set()}
    filed = 0
    with TestClient(create_app(rt)) as client:  # the lifespan starts the delivery worker

        def file(address: str) -> tuple[float, int, str]:
            nonlocal filed
            if filed and filed % 15 == 0:
                clock.advance(timedelta(hours=1, minutes=1))  # past the per-IP hourly throttle
            filed += 1
            body = {"kind": "disclosure", "email": address, "notice_version": version}
            start = time.perf_counter()
            r = client.post("/api/v1/privacy-requests", json=body)
            took = time.perf_counter() - start
            words = r.json().get("message", "") if r.status_code == 202 else r.text
            return took, r.status_code, words

        for _ in range(3):  # warm both paths
            file(f"warm.{secrets.token_hex(4)}@example.org")
        for i in range(args.pairs):
            order = (customers[i], strangers[i]) if i % 2 else (strangers[i], customers[i])
            for address in order:
                took, status, words = file(address)
                is_customer = address == customers[i]
                (known if is_customer else unknown).append(took)
                answers["customer" if is_customer else "stranger"].add((status, words))
    rt.close()
    result = {
        "pairs": args.pairs,
        "median_customer_ms": round(statistics.median(known) * 1000, 2),
        "median_stranger_ms": round(statistics.median(unknown) * 1000, 2),
        "ratio_customer_over_stranger": round(statistics.median(known) / statistics.median(unknown), 3),
        "best_single_try_accuracy": round(best_threshold_accuracy(known, unknown), 3),
        "answers_identical": answers["customer"] == answers["stranger"],
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:30} {value}")
    print(f"store: {home}", file=sys.stderr)


if __name__ == "__main__":
    main()
