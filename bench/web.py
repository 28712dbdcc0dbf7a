"""Web app benchmark (issue 15): each page rendered server-side against the JSON API call that returns the same
data, same process, same signed-in session, same run.

    .venv/bin/python bench/web.py [--customers 100000] [--repeat 200] [--requests 40] [--home DIR] [--json]

``--home DIR`` keeps the generated store: a second run with the same DIR measures without generating again
(generate once, measure when the machine is quiet).

Pages (the HTML a browser gets, with the layout, labels, CSP and no-store) and their JSON peers:

- customer page ``GET /customers/{id}`` (purpose already declared on the page) vs ``GET /api/v1/customers/{id}``
  with ``Mamori-Purpose``;
- search result ``POST /customers/search`` (e-mail, htmx fragment as the page's form sends it) vs
  ``POST /api/v1/customers/find``;
- request board ``GET /rights`` vs ``GET /api/v1/rights``.

Both go through the same ASGI app in-process (httpx via Starlette's TestClient, one request at a time), so the
figures are server time plus the same client overhead on both sides; every read is purpose-checked and audited
on both sides. Reported: median and p95 per page, and the ratio page/JSON of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PASSWORD = "bench-web-password-7f3a"
PURPOSE = "support"
USER = "hoshino"  # the demo's privacy officer: every customer in scope, and the request board


def prepare(customers: int, requests: int, home: Path) -> tuple[object, dict[str, str]]:
    import json

    import pyotp

    from mamori import composition
    from mamori.cli import demo
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.kernel.runtime import open_runtime
    from mamori.staff import service as staff_service

    composition.register_all()
    rt = open_runtime()
    ready = home / "bench-web-ready.json"
    if ready.exists():
        return rt, json.loads(ready.read_text())
    rt.init()
    composition.ensure_admin(rt)
    t0 = time.perf_counter()
    done = [0]

    def tick(n: int) -> None:
        done[0] = n
        print(f"\r  demo customers: {n:,}/{customers:,}", end="", file=sys.stderr, flush=True)

    demo.generate(rt, customers=customers, seed=1, progress=tick)
    print(f"\n  generated in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.set_password(ctx, USER, PASSWORD)
        secret = pyotp.parse_uri(staff_service.enroll_totp(ctx, USER)).secret
    _open_requests(rt, requests)
    ready.write_text(json.dumps({"secret": secret}))
    return rt, {"secret": secret}


def _open_requests(rt: object, n: int) -> None:
    """Requests on the board: the demo's own, topped up to ``n`` through the rights service."""
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.rights import service as rights_service
    from mamori.rights.schemas import RequestOpen
    from mamori.staff import service as staff_service

    with rt.transaction(SYSTEM_ACTOR) as ctx:  # type: ignore[attr-defined]
        officer = staff_service.actor_for(ctx, USER)
    with rt.transaction(officer) as ctx:  # type: ignore[attr-defined]
        have = len(rights_service.board(ctx))
        for i in range(max(0, n - have)):
            rights_service.open_request(
                ctx, RequestOpen(kind="disclosure", channel="phone", emails=[f"bench{i}@example.jp"])
            )


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[18]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--requests", type=int, default=40, help="requests from the person on the board")
    ap.add_argument("--home", type=Path, default=None, help="keep (and reuse) the generated store here")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = ap.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="mamori-bench-web-"))
    home.mkdir(parents=True, exist_ok=True)
    os.environ["MAMORI_HOME"] = str(home)
    os.environ.setdefault("MAMORI_PASSPHRASE", "bench-web-passphrase")
    rt, extra = prepare(args.customers, args.requests, home)

    import pyotp
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from mamori.api.app import create_app
    from mamori.customers.models import Customer

    with rt.sessions() as s:  # type: ignore[attr-defined]
        ids = list(s.execute(select(Customer.id).limit(args.repeat + 1)).scalars())  # bench setup only
    app = create_app(rt)
    c = TestClient(app, base_url="https://testserver")
    r = c.post(
        "/api/v1/auth/sign-in",
        json={"username": USER, "password": PASSWORD, "totp": pyotp.TOTP(extra["secret"]).now()},
    )
    r.raise_for_status()
    csrf = r.json()["csrf_token"]
    hdr = {"Mamori-Purpose": PURPOSE}
    emails = []
    for cid in ids:  # the purpose is declared once per customer on the page (not timed), as a user does
        c.post(f"/customers/{cid}/open", data={"csrf": csrf, "purpose": PURPOSE}, follow_redirects=False)
        view = c.get(f"/api/v1/customers/{cid}", headers=hdr).json()
        emails += view.get("emails", [])[:1]
    it = iter(range(10**9))

    opened = ids[-20:]  # the page remembers the purpose declared for the last 20 customers opened (a cookie)

    def nxt() -> str:
        return opened[next(it) % len(opened)]

    def page_customer() -> None:
        resp = c.get(f"/customers/{nxt()}")
        assert resp.status_code == 200, resp.status_code
        assert "purpose-banner" in resp.text  # the customer itself, not the "why are you opening it" step

    def json_customer() -> None:
        assert c.get(f"/api/v1/customers/{nxt()}", headers=hdr).status_code == 200

    ei = iter(range(10**9))

    def email() -> str:
        return emails[next(ei) % len(emails)]

    def page_search() -> None:
        resp = c.post(
            "/customers/search",
            data={"csrf": csrf, "purpose": PURPOSE, "email": email()},
            headers={"HX-Request": "true"},
        )
        assert resp.status_code == 200, resp.status_code

    def json_search() -> None:
        resp = c.post(
            "/api/v1/customers/find", json={"email": email()}, headers={**hdr, "X-CSRF-Token": csrf}
        )
        assert resp.status_code == 200, resp.status_code
        assert resp.json()["items"]

    def page_board() -> None:
        assert c.get("/rights").status_code == 200

    def json_board() -> None:
        assert c.get("/api/v1/rights").status_code == 200

    rows = []
    for name, page, peer in (
        ("customer page", page_customer, json_customer),
        ("search result", page_search, json_search),
        ("request board", page_board, json_board),
    ):
        # interleave page and JSON rounds so drift (audit log growth, cache) hits both alike
        p_times: list[float] = []
        j_times: list[float] = []
        for _ in range(4):
            p_times += timed(page, args.repeat // 4)
            j_times += timed(peer, args.repeat // 4)
        rows.append((name, p_times, j_times))
    if args.json:
        import json

        result = {
            "bench": "web",
            "customers": args.customers,
            "repeat": args.repeat,
            "pages": {
                name: {
                    "page_p50_ms": round(statistics.median(p_t), 2),
                    "page_p95_ms": round(p95(p_t), 2),
                    "json_p50_ms": round(statistics.median(j_t), 2),
                    "json_p95_ms": round(p95(j_t), 2),
                    "p95_ratio": round(p95(p_t) / p95(j_t), 3),
                }
                for name, p_t, j_t in rows
            },
            "target": {"page_p95_ms": 100, "p95_ratio": 1.5},
        }
        print(json.dumps(result, indent=2))
    else:
        print(
            f"\nweb pages vs JSON API, {args.customers:,} customers, {args.repeat} requests each, in-process"
        )
        print(
            f"{'':15s} {'page p50':>9s} {'page p95':>9s} {'json p50':>9s} {'json p95':>9s} {'p95 ratio':>9s}"
        )
        for name, p_t, j_t in rows:
            print(
                f"{name:15s} {statistics.median(p_t):8.1f}ms {p95(p_t):8.1f}ms "
                f"{statistics.median(j_t):8.1f}ms {p95(j_t):8.1f}ms {p95(p_t) / p95(j_t):8.2f}x"
            )
        print("target: page p95 ≤ 100 ms and ≤ 1.5× the JSON call")
    rt.close()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
