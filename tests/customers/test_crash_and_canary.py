"""SQLite-specific robustness: SIGKILL during a large import, and no plaintext in any database file."""

from __future__ import annotations

import base64
import csv
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.settings import reset_settings_cache


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    env = {
        "MAMORI_HOME": str(tmp_path / "home"),
        "MAMORI_KEK": base64.b64encode(secrets.token_bytes(32)).decode(),
        "MAMORI_DATABASE_URL": "",
        "MAMORI_KEYSTORE_URL": "",
        "MAMORI_AUDIT_URL": "",
    }
    for k, v in env.items():
        if v:
            monkeypatch.setenv(k, v)
        else:
            monkeypatch.delenv(k, raising=False)
    reset_settings_cache()
    yield env
    reset_settings_cache()


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def big_csv(path: Path, n: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "kana", "phone", "email", "address"])
        for i in range(n):
            w.writerow(
                [
                    f"試験 {i}",
                    "シケン",
                    f"080-{i // 10000:04d}-{i % 10000:04d}",
                    f"k{i}@example.jp",
                    "北海道札幌市中央区1-1",
                ]
            )
    return path


@pytest.mark.slow
def test_sigkill_during_import_leaves_whole_batches_and_resumes(cli_env, tmp_path):
    assert invoke("demo", "--customers", "1").exit_code == 0
    home = Path(cli_env["MAMORI_HOME"])
    f = big_csv(tmp_path / "big.csv", 3000)
    env = {**os.environ, **{k: v for k, v in cli_env.items() if v}}
    cmd = [
        sys.executable,
        "-m",
        "mamori.cli.main",
        "--as",
        "hoshino",
        "customers",
        "import",
        str(f),
        "--source",
        "s",
        "-p",
        "contract",
        "--batch-size",
        "100",
        "--json",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = home / "mamori.db"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                n = conn.execute("SELECT count(*) FROM customers WHERE import_job_id IS NOT NULL").fetchone()[
                    0
                ]
        except sqlite3.OperationalError:
            n = 0
        if n >= 300:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        imported = conn.execute("SELECT count(*) FROM customers WHERE import_job_id IS NOT NULL").fetchone()[
            0
        ]
        done = conn.execute("SELECT lines_done FROM import_jobs").fetchone()[0]
        without_index = conn.execute(
            "SELECT count(*) FROM customers c WHERE import_job_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM blind_index b WHERE b.customer_id = c.id AND b.kind = 'email')"
        ).fetchone()[0]
    assert 0 < imported < 3000, "the kill should land mid-import"
    assert imported % 100 == 0, "no partial batch"
    assert done == imported + 1  # the checkpoint is the last committed line (header is line 1)
    assert without_index == 0
    assert invoke("audit", "verify").exit_code == 0
    # re-running the same file resumes after the last committed batch, without duplicates
    result = invoke(
        "--as", "hoshino", "customers", "import", str(f), "--source", "s", "-p", "contract", "--json"
    )
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        total = conn.execute("SELECT count(*) FROM customers WHERE import_job_id IS NOT NULL").fetchone()[0]
        emails = conn.execute("SELECT count(DISTINCT digest) FROM blind_index WHERE kind='email'").fetchone()[
            0
        ]
    assert total == 3000
    assert emails == 3001  # 3000 imported + 1 demo customer
    assert invoke("audit", "verify").exit_code == 0


def variants(value: str) -> set[bytes]:
    out = set()
    for v in {value, unicodedata.normalize("NFKC", value), value.replace(" ", ""), value.lower()}:
        if len(v) >= 4:
            out.add(v.encode("utf-8"))
            out.add(v.encode("utf-16-le"))
    return out


def test_no_plaintext_personal_data_in_any_database_file(cli_env, tmp_path):
    from mamori.customers import service
    from mamori.kernel.runtime import open_runtime
    from mamori.staff import service as staff_service

    assert invoke("demo", "--customers", "60").exit_code == 0
    canary = tmp_path / "canary.csv"
    with canary.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "kana", "phone", "email", "address", "postal_code", "employer"])
        w.writerow(
            [
                "鳳凰院 極楽丸",
                "ホウオウイン ゴクラクマル",
                "070-9876-5432",
                "canary.gokuraku@example.jp",
                "沖縄県石垣市字登野城9-9-9",
                "907-0004",
                "虹色カナリア工業株式会社",
            ]
        )
    assert (
        invoke(
            "--as", "hoshino", "customers", "import", str(canary), "--source", "s", "-p", "contract"
        ).exit_code
        == 0
    )
    rt = open_runtime()
    secrets_seen: set[str] = {
        "鳳凰院 極楽丸",
        "ホウオウイン ゴクラクマル",
        "+817098765432",
        "070-9876-5432",
        "canary.gokuraku@example.jp",
        "沖縄県石垣市字登野城9-9-9",
        "虹色カナリア工業株式会社",
    }
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        actor = staff_service.actor_for(s, "hoshino")
    with rt.transaction(actor, "contract") as ctx:
        items, cursor = service.list_page(ctx, limit=500)
        for item in items:
            v = service.get(ctx, item.id, include_activities=False)
            secrets_seen |= {v.name or "", v.address or "", *v.emails, *v.phones}
    rt.close()
    needles = set().union(*(variants(s) for s in secrets_seen if s))
    home = Path(cli_env["MAMORI_HOME"])
    files = [p for p in home.iterdir() if p.is_file()]
    assert any(p.name.endswith("-wal") for p in files) or files
    hits = [(p.name, n.decode("utf-8", "replace")[:3]) for p in files for n in needles if n in p.read_bytes()]
    assert hits == []
