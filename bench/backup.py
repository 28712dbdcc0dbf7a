"""Backup benchmark (issue 11 part 3): `mamori backup` and `mamori restore` against a plain file copy, same run.

    .venv/bin/python bench/backup.py [--customers 100000] [--activities 0] [--home DIR] [--json out.json]

The store is built through the customers bulk path (`customers.service.core.bulk_create`: a data key per customer,
AES-256-GCM per field, blind indexes, provenance, notified purposes), 1,000 customers per transaction, on SQLite
(WAL, synchronous=FULL) in a temporary MAMORI_HOME with its key directory beside it (outside MAMORI_HOME).

Measured (wall time, each command a fresh `mamori` process as an administrator would run it; the JSON report's own
figure excludes interpreter start-up):
- backup: `mamori --as admin backup OUT --json` — online `VACUUM INTO` of the data store and the audit log, SHA-256
  of each file, per-table row counts and content digests, the signed manifest;
  baseline: `PRAGMA wal_checkpoint(TRUNCATE)` then `shutil.copy` of mamori.db and audit.db (what a careful operator
  would do with the server stopped; unsafe while it writes).
- restore, MAMORI_HOME lost: `mamori restore OUT --yes --json` after deleting both database files — every check
  (digests, MAC, integrity_check), both files put back, key destructions re-applied, audit verify: the RTO;
  baseline: `shutil.copy` of the two files back.
- restore, store intact: the same over the running store's files (the audit log, which extends the backup's, is
  kept), after erasing `--erase` customers so that their residue is erased again.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.factories import seed_basics  # noqa: E402

from mamori import composition as bootstrap  # noqa: E402
from mamori.customers import sources as customers_sources  # noqa: E402
from mamori.customers.schemas import ActivityIn, CustomerCreate, ProvenanceIn  # noqa: E402
from mamori.customers.service import core as customers_core  # noqa: E402
from mamori.kernel.context import SYSTEM_ACTOR  # noqa: E402
from mamori.kernel.runtime import Runtime  # noqa: E402
from mamori.kernel.settings import Settings  # noqa: E402

BATCH = 1000


def build(rt: Runtime, actors: dict, n: int, activities: int, seed: int = 11) -> list[str]:
    from faker import Faker

    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    lasts = [fake.last_name() for _ in range(300)]
    firsts = [fake.first_name() for _ in range(300)]
    addresses = [fake.address() for _ in range(500)]
    per = activities // max(1, n)
    prov = ProvenanceIn(method="direct", channel="web_form", notice_version="n-2026")
    ids: list[str] = []
    t0 = time.perf_counter()
    for b in range(0, n, BATCH):
        items = []
        for i in range(b, min(b + BATCH, n)):
            data = CustomerCreate(
                name=f"{rng.choice(lasts)} {rng.choice(firsts)}",
                birth_date=f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                postal_code=f"{rng.randint(100, 999)}-{rng.randint(0, 9999):04d}",
                address=rng.choice(addresses),
                emails=[f"user{i}@example.jp"],
                phones=[f"090-{1000 + i // 10000:04d}-{i % 10000:04d}"],
            )
            acts = [ActivityIn(kind="note", body=fake.sentence()) for _ in range(per)]
            items.append((data, prov, ["contract", "marketing-email"], None, acts))
        with rt.transaction(actors["po"]) as ctx:
            ids.extend(customers_core.bulk_create(ctx, items))
        if (b // BATCH) % 10 == 0:
            done = b + len(items)
            print(
                f"  built {done:>7} customers ({done / (time.perf_counter() - t0):,.0f}/s)", file=sys.stderr
            )
    return ids


def mamori(env: dict[str, str], *args: str) -> tuple[float, dict]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mamori.cli.main", *args], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"mamori {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return wall, json.loads(done.stdout)


def plain_backup(home: Path, out: Path) -> float:
    t0 = time.perf_counter()
    out.mkdir()
    for name in ("mamori.db", "audit.db"):
        with sqlite3.connect(home / name) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy(home / name, out / name)
    return time.perf_counter() - t0


def plain_restore(src: Path, home: Path) -> float:
    t0 = time.perf_counter()
    for name in ("mamori.db", "audit.db"):
        for suffix in ("-wal", "-shm"):
            Path(f"{home / name}{suffix}").unlink(missing_ok=True)
        shutil.copy(src / name, home / name)
    return time.perf_counter() - t0


def lose_home(home: Path) -> None:
    for name in ("mamori.db", "audit.db"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{home / name}{suffix}").unlink(missing_ok=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--activities", type=int, default=0)
    ap.add_argument("--erase", type=int, default=20, help="customers erased after the backup")
    ap.add_argument("--root", type=Path, default=None, help="work here (default: a temp dir)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    root = args.root or Path(tempfile.mkdtemp(prefix="mamori-bench-backup-"))
    home, keys = root / "home", root / "keys"
    kek = base64.b64encode(secrets.token_bytes(32)).decode()
    settings = Settings(home=home, key_dir=keys, kek=kek, audit_checkpoint_every=1000)
    bootstrap.register_all()
    rt = Runtime(settings)
    rt.init()
    actors = seed_basics(rt)
    t0 = time.perf_counter()
    ids = build(rt, actors, args.customers, args.activities)
    build_s = time.perf_counter() - t0
    rt.close()
    print(f"store built in {build_s:.0f} s", file=sys.stderr)

    env = {
        **os.environ,
        "MAMORI_HOME": str(home),
        "MAMORI_KEY_DIR": str(keys),
        "MAMORI_KEK": kek,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
    }
    for k in (
        "MAMORI_DATABASE_URL",
        "MAMORI_KEYSTORE_URL",
        "MAMORI_AUDIT_URL",
        "MAMORI_KEY_FILE",
        "MAMORI_AS",
    ):
        env.pop(k, None)
    sizes = {name: (home / name).stat().st_size for name in ("mamori.db", "audit.db")}

    mamori(env, "--as", "admin", "keys", "status", "--json")  # warm the page cache and imports once
    backup_wall, backup_report = mamori(env, "--as", "admin", "backup", str(root / "b-mamori"), "--json")
    plain_b = plain_backup(home, root / "b-plain")

    # RTO: MAMORI_HOME lost, everything comes back from the backup.
    lose_home(home)
    lost_wall, lost = mamori(env, "--as", "admin", "restore", str(root / "b-mamori"), "--yes", "--json")
    if not (lost["verify"]["ok"] and lost["tables_match"]):
        raise SystemExit(f"restore did not verify: {lost}")
    lose_home(home)
    plain_r = plain_restore(root / "b-plain", home)
    lose_home(home)
    mamori(
        env, "restore", str(root / "b-mamori"), "--yes", "--accept-audit-loss", "--json"
    )  # back to mamori's

    # Store intact, some people erased since the backup: their residue is erased again.
    rt = Runtime(settings)
    erased = random.Random(3).sample(ids, min(args.erase, len(ids)))
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        source = customers_sources.CustomersSource()
        for cid in erased:
            source.erase(ctx, cid)
    rt.close()
    intact_wall, intact = mamori(env, "--as", "admin", "restore", str(root / "b-mamori"), "--yes", "--json")
    if not intact["verify"]["ok"] or intact["destructions"]["subjects_reerased"] != len(erased):
        raise SystemExit(f"restore did not re-erase: {intact}")

    result = {
        "customers": args.customers,
        "activities": args.activities,
        "build_seconds": round(build_s, 1),
        "bytes": sizes,
        "backup": {
            "mamori_wall_s": round(backup_wall, 2),
            "mamori_report_s": backup_report["seconds"],
            "plain_copy_s": round(plain_b, 3),
            "ratio_wall": round(backup_wall / plain_b, 1),
            "ratio_report": round(backup_report["seconds"] / plain_b, 1),
        },
        "restore_home_lost": {
            "mamori_wall_s": round(lost_wall, 2),
            "rto_s": lost["rto_seconds"],
            "plain_copy_s": round(plain_r, 3),
            "ratio_rto": round(lost["rto_seconds"] / plain_r, 1),
        },
        "restore_store_intact": {
            "mamori_wall_s": round(intact_wall, 2),
            "rto_s": intact["rto_seconds"],
            "erased_since_backup": len(erased),
            "subjects_reerased": intact["destructions"]["subjects_reerased"],
        },
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    if args.root is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
