"""The same import under two source trees, alternating, in one session (issue 19: the importer before and after).

    git worktree add /tmp/old <commit>
    .venv/bin/python bench/import_ab.py --old /tmp/old/src --rows 20000 --rounds 2

Each run is a fresh process with its own store; the file is bench/ingest.py's synthetic list (real postal codes).
Prints the import's wall and CPU seconds, validate_file's best of three and the p50 of ~300 finds by e-mail
(in one transaction, as bench/ingest.py) for each tree, and the ratios new/old.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import base64, json, secrets, sys, tempfile, time
from pathlib import Path
src, path, root = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
sys.path.insert(0, src); sys.path.insert(1, root)
import mamori
assert mamori.__file__.startswith(src), mamori.__file__
from mamori import composition
from mamori.customers.jobs import run_import
from mamori.customers.schemas import ProvenanceIn
from mamori.customers.service.importing import validate_file
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import Settings
from tests.factories import seed_basics
composition.register_all()
best = min(
    (lambda t: (validate_file(path), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(3)
)
rt = Runtime(Settings(home=Path(tempfile.mkdtemp()), kek=base64.b64encode(secrets.token_bytes(32)).decode(),
                      audit_checkpoint_every=1000))
rt.init()
actors = seed_basics(rt)
t, c = time.perf_counter(), time.process_time()
r = run_import(rt, actors["po"], path, source="bench", purposes=["contract"],
               provenance=ProvenanceIn(method="direct", channel="import"), batch_size=1000, on_duplicate="create")
wall, cpu = time.perf_counter() - t, time.process_time() - c
import csv, statistics
from mamori.customers import service
emails = [row["email"] for row in csv.DictReader(path.open(encoding="utf-8"))][:: max(1, r.created // 300)]
times = []
with rt.transaction(actors["support"], "contract") as ctx:
    for e in emails:
        s = time.perf_counter()
        service.find(ctx, email=e)
        times.append(time.perf_counter() - s)
print(json.dumps({"wall": wall, "cpu": cpu, "validate": best, "created": r.created,
                  "find_p50_ms": statistics.median(times) * 1000}))
rt.close()
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", required=True, help="the other tree's src/ directory")
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    import ingest

    path = Path(tempfile.mkdtemp()) / "list.csv"
    ingest.make_csv(path, args.rows)
    runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for _ in range(args.rounds):
        for name, src in (("old", args.old), ("new", str(ROOT / "src"))):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, src, str(path), str(ROOT)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    measures = ("wall", "cpu", "validate", "find_p50_ms")
    best = {k: {m: min(r[m] for r in v) for m in measures} for k, v in runs.items()}
    ratios = {m: best["new"][m] / best["old"][m] for m in measures}
    print(json.dumps({"rows": args.rows, "runs": runs, "best": best, "new_over_old": ratios}, indent=2))


if __name__ == "__main__":
    main()
