"""API benchmark (issue 3): purpose-checked customer reads over HTTP on loopback vs the same read with policy and
audit switched off, in the same run, against the same uvicorn server.

    .venv/bin/python bench/api.py [--customers 1000] [--connections 50] [--seconds 5] [--rounds 5] [--workers 2] [--json]

Needs `wrk` (Debian package). Both endpoints authenticate with the same API token (Bearer); the measured one is
`GET /api/v1/customers/{id}` with `Mamori-Purpose: contract` (policy decision, masking, decryption, and an
audit entry appended and fsynced per read); the baseline decrypts and returns the same fields with no policy and
no audit (bench/api_app.py — never part of the product).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def prepare(home: Path, customers: int) -> tuple[str, list[str]]:
    from mamori import composition
    from mamori.cli import demo
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.kernel.runtime import open_runtime
    from mamori.staff import service as staff_service
    from mamori.staff.schemas import ApiTokenCreate

    composition.register_all()
    rt = open_runtime()
    rt.init()
    composition.ensure_admin(rt)
    demo.generate(rt, customers=customers, seed=1)
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        token = staff_service.create_token(
            ctx, "takahashi", ApiTokenCreate(name="bench", purposes=["contract"])
        ).token
    with rt.sessions() as s:
        from sqlalchemy import select

        from mamori.customers.models import Customer

        ids = list(s.execute(select(Customer.id)).scalars())  # bench setup, not product code
    rt.close()
    return token, ids


LUA = """
local ids = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "%s" .. ids[(i %% #ids) + 1], {["Authorization"] = "Bearer %s", ["Mamori-Purpose"] = "contract"})
end
"""


def to_ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def run_wrk(
    base: str, path: str, token: str, ids: list[str], connections: int, seconds: int
) -> dict[str, float]:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(LUA % (",".join(f'"{i}"' for i in ids), path, token))
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = to_ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = to_ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    err = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in errors.groups()) if errors else 0)
    return {"requests": total, "req_per_s": rps, "p50_ms": p50, "p99_ms": p99, "errors": err}


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = ("req_per_s", "p50_ms", "p99_ms")
    out = {k: statistics.median(r[k] for r in runs) for k in keys}
    out["requests"] = sum(r["requests"] for r in runs)
    out["errors"] = sum(r["errors"] for r in runs)
    out["rounds_req_per_s"] = [r["req_per_s"] for r in runs]  # type: ignore[assignment]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=5, help="per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
    load_at_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="mamori-apibench-"))
    os.environ["MAMORI_HOME"] = str(tmp / "home")
    os.environ["MAMORI_KEK"] = base64.b64encode(secrets.token_bytes(32)).decode()
    token, ids = prepare(tmp / "home", args.customers)
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT / 'src'}"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api_app:create",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(args.port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT / "bench",
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/openapi.json", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        warm = {"connections": 4, "seconds": 2}
        run_wrk(base, "/api/v1/customers/", token, ids, **warm)
        run_wrk(base, "/api/v1/bench-baseline/customers/", token, ids, **warm)
        # Interleaved rounds (baseline, mamori, baseline, …): a shared machine's speed drifts by 2× within a
        # minute, so one long run of each would compare different machines. Medians over the rounds.
        rounds: dict[str, list[dict[str, float]]] = {"baseline": [], "mamori": []}
        for _ in range(args.rounds):
            rounds["baseline"].append(
                run_wrk(base, "/api/v1/bench-baseline/customers/", token, ids, args.connections, args.seconds)
            )
            rounds["mamori"].append(
                run_wrk(base, "/api/v1/customers/", token, ids, args.connections, args.seconds)
            )
        baseline, mamori = median_of(rounds["baseline"]), median_of(rounds["mamori"])
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "connections": args.connections,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "load_average_1m_at_start": load_at_start,
        "workers": args.workers,
        "baseline_no_policy_no_audit": baseline,
        "mamori_purpose_checked": mamori,
        "overhead_ratio_throughput": baseline["req_per_s"] / mamori["req_per_s"],
        "overhead_ratio_p50": mamori["p50_ms"] / baseline["p50_ms"],
        "targets": {
            "req_per_s>=500": mamori["req_per_s"] >= 500,
            "p99<=100ms": mamori["p99_ms"] <= 100,
            "overhead<=1.5x": baseline["req_per_s"] / mamori["req_per_s"] <= 1.5,
            "0 errors": mamori["errors"] == 0,
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name, r in (
        ("baseline (no policy, no audit)", baseline),
        ("mamori (purpose-checked, audited)", mamori),
    ):
        print(
            f"{name:36s} {r['req_per_s']:8.1f} req/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
            f"errors {r['errors']}  ({r['requests']} requests)"
        )
    print(
        f"overhead: throughput {result['overhead_ratio_throughput']:.2f}x, p50 {result['overhead_ratio_p50']:.2f}x"
    )
    for k, v in result["targets"].items():
        print(f"  target {k}: {'met' if v else 'NOT met'}")


if __name__ == "__main__":
    main()
