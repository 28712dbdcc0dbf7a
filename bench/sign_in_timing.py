"""Does the time of a failed sign-in tell a real user name from an unknown one? (issue 17)

    .venv/bin/python bench/sign_in_timing.py [--pairs 200] [--json]

On a fresh SQLite store, alternates a failed sign-in with an unknown user name and one with a real name and a
wrong password (interleaved pairs, so drift hits both alike) and reports the medians, their ratio (1.0 = equal)
and how well the best single threshold on one try classifies real vs unknown (0.5 = chance; the attack in the
issue reached 0.907 before the fix). The baseline is the other path of the same run.
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
from pathlib import Path

from mamori import composition as bootstrap
from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import Settings
from mamori.staff import service as staff_service
from mamori.staff.schemas import StaffCreate
from mamori.staff.service import AuthenticationFailed, LockoutPolicy

# A locked account is another path: at most 100 failures per account and hour are free, so the real names rotate
# over enough accounts that none reaches the cap.
NO_LOCK = LockoutPolicy(free_failures=100, hourly_cap=100)
PER_ACCOUNT = 90


def _fail(rt: Runtime, username: str) -> float:
    start = time.perf_counter()
    try:
        staff_service.sign_in(rt, username, "wrong password, long enough", "000000", lockout=NO_LOCK)
    except AuthenticationFailed:
        pass
    return time.perf_counter() - start


def best_threshold_accuracy(known: list[float], unknown: list[float]) -> float:
    """The best accuracy of "slower than t ⇒ real name" (or faster, whichever is better) over every t."""
    tagged = sorted([(t, 1) for t in known] + [(t, 0) for t in unknown])
    total, n_known = len(tagged), len(known)
    best, known_below = 0.0, 0
    for i, (_, is_known) in enumerate(tagged):
        known_below += is_known
        unknown_below = i + 1 - known_below
        above_is_known = (unknown_below + (n_known - known_below)) / total
        best = max(best, above_is_known, 1 - above_is_known)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mamori-bench-signin-"))
    settings = Settings(
        home=home / "home", key_dir=home / "keys", kek=base64.b64encode(secrets.token_bytes(32)).decode()
    )
    bootstrap.register_all()
    rt = Runtime(settings)
    rt.init()
    names = [f"tanaka{i}" for i in range(args.pairs // PER_ACCOUNT + 1)]
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        for name in names:
            staff_service.add(ctx, StaffCreate(username=name, display_name=name, role=Role.SALES))
            staff_service.set_password(ctx, name, "correct horse battery staple")
    for _ in range(3):  # warm both paths
        _fail(rt, names[-1])
        _fail(rt, "nobody-here")
    known: list[float] = []
    unknown: list[float] = []
    for i in range(args.pairs):
        real = names[i // PER_ACCOUNT]
        for name in (real, "nobody-here") if i % 2 else ("nobody-here", real):
            (known if name == real else unknown).append(_fail(rt, name))
    rt.close()
    result = {
        "pairs": args.pairs,
        "median_known_ms": round(statistics.median(known) * 1000, 2),
        "median_unknown_ms": round(statistics.median(unknown) * 1000, 2),
        "ratio_known_over_unknown": round(statistics.median(known) / statistics.median(unknown), 3),
        "best_single_try_accuracy": round(best_threshold_accuracy(known, unknown), 3),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")
    print(f"store: {home}", file=sys.stderr)


if __name__ == "__main__":
    main()
