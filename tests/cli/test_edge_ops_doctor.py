"""`mamori doctor` run as an operator runs it: a subprocess over a real store (issue 17, deliver 4).

A healthy store is all OK (exit 0); each way of breaking it turns its own line into 異常 / FAIL with exit code 1,
and doctor changes nothing it inspects (a loose key directory stays loose until the operator fixes it).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.api.edge_ops_support import owner_engine, store_env


def doctor(rt, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mamori", "doctor", *args],
        capture_output=True,
        text=True,
        env=store_env(rt, **env),
        timeout=120,
    )


def checks(rt, *args: str, **env: str) -> tuple[int, dict[str, dict]]:
    proc = doctor(rt, "--json", *args, **env)
    doc = json.loads(proc.stdout)
    assert doc["ok"] is (proc.returncode == 0), proc.stdout
    return proc.returncode, {c["check"]: c for c in doc["checks"]}


@pytest.fixture
def store(runtime, tmp_path):
    """A store with a signed, anchored checkpoint, and an empty backup directory (``backups``: a warning)."""
    runtime.clock.advance(
        datetime.now(UTC) - runtime.clock.now()
    )  # doctor measures ages against the real clock
    runtime.drain_outbox()
    runtime.audit.checkpoint()
    backups = tmp_path / "backups"
    backups.mkdir()
    return runtime, backups


@pytest.fixture
def healthy(store):
    """The store with a fresh backup in ``backups/b1``."""
    from mamori.kernel import backup

    runtime, backups = store
    backup.backup(
        runtime, backups / "b1"
    )  # on PostgreSQL through the owner URLs (kernel.backup.take.stores_of)
    return runtime, backups


def _statuses(found: dict[str, dict]) -> dict[str, str]:
    return {name: c["status"] for name, c in found.items()}


ALL = {
    "settings.production",
    "settings.forwarded",
    "settings.demo_logins",
    "settings.logs",
    "settings.limits",
    "mail.backend",
    "keys.dir",
    "keys.kek",
    "store.data",
    "store.keystore",
    "store.audit",
    "audit.anchor",
    "backups",
}


def test_healthy_store_is_all_ok(healthy, backend):
    rt, backups = healthy
    code, found = checks(rt, "--backup-dir", str(backups))
    assert set(found) == ALL
    statuses = _statuses(found)
    if backend == "postgresql" and statuses["store.data"] == "warn":
        # the test server's role may be a superuser: a warning outside production, never silent
        assert (
            "superuser" in found["store.data"]["message_en"]
            or "BYPASSRLS" in found["store.data"]["message_en"]
        )
        statuses["store.data"] = "ok"
    assert set(statuses.values()) == {"ok"}, found
    assert code == 0
    # one line per check, in Japanese by default, English with --lang en / MAMORI_LANG=en
    proc = doctor(rt, "--backup-dir", str(backups))
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and len(lines) == len(ALL)
    assert all(line.startswith(("OK", "警告")) for line in lines), lines
    assert any("監査アンカー" in line for line in lines)
    en = doctor(rt, "--backup-dir", str(backups), MAMORI_LANG="en").stdout
    assert "audit anchor" in en and "異常" not in en
    # nothing secret in the report
    out = proc.stdout + en
    assert rt.settings.kek not in out
    # the newest backup is also found in the audit log (store.backup) when no directory is given — here the
    # backup was taken through the library, so there is none there: a warning, not a failure
    code, found = checks(rt)
    assert code == 0 and found["backups"]["status"] == "warn"


def test_loose_key_directory_fails_and_is_left_as_it_is(store):
    rt, backups = store
    key_dir = rt.settings.resolved_key_dir()
    os.chmod(key_dir, 0o755)
    try:
        code, found = checks(rt, "--backup-dir", str(backups))
        assert code == 1
        assert found["keys.dir"]["status"] == "fail" and "755" in found["keys.dir"]["message_en"]
        assert stat.S_IMODE(key_dir.stat().st_mode) == 0o755  # reported, not silently repaired
        proc = doctor(rt, "--backup-dir", str(backups))
        assert proc.returncode == 1
        bad = [line for line in proc.stdout.splitlines() if line.startswith("異常")]
        assert len(bad) == 1 and "鍵ディレクトリ" in bad[0] and "755" in bad[0]
    finally:
        os.chmod(key_dir, 0o700)


def test_missing_anchor_fails(store):
    rt, backups = store
    anchor = rt.settings.resolved_anchor_path()
    anchor.unlink()
    code, found = checks(rt, "--backup-dir", str(backups))
    assert code == 1
    assert found["audit.anchor"]["status"] == "fail" and "missing" in found["audit.anchor"]["message_en"]
    assert not anchor.exists()
    # an anchor that does not match the log (a rebuilt log) fails too
    anchor.write_text(
        json.dumps({"origin": "x", "tree_size": 999, "root": "AAAA", "signature": "AAAA"}) + "\n",
        encoding="utf-8",
    )
    code, found = checks(rt, "--backup-dir", str(backups))
    assert code == 1 and found["audit.anchor"]["status"] == "fail"


def test_old_migration_fails(store):
    rt, backups = store
    engine = owner_engine(rt, "data")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0010'"))
    engine.dispose()
    code, found = checks(rt, "--backup-dir", str(backups))
    assert code == 1
    data = found["store.data"]
    assert data["status"] == "fail" and "0010" in data["message_en"] and "not at head" in data["message_en"]


def test_old_backup_fails_and_none_warns(healthy, tmp_path):
    rt, backups = healthy
    manifest = backups / "b1" / "manifest.json"
    doc = json.loads(manifest.read_text(encoding="utf-8"))
    doc["created_at"] = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    manifest.write_text(json.dumps(doc), encoding="utf-8")
    code, found = checks(rt, "--backup-dir", str(backups))
    assert code == 1 and found["backups"]["status"] == "fail" and "30." in found["backups"]["message_en"]
    code, found = checks(rt, "--backup-dir", str(backups), "--max-backup-age", "40")
    assert code == 0 and found["backups"]["status"] == "ok"
    empty = tmp_path / "empty"
    empty.mkdir()
    code, found = checks(rt, "--backup-dir", str(empty))
    assert code == 0 and found["backups"]["status"] == "warn"
    code, found = checks(rt, "--backup-dir", str(tmp_path / "nowhere"))
    assert code == 1 and found["backups"]["status"] == "fail"


def test_production_settings_that_leak_fail(store):
    rt, backups = store
    code, found = checks(rt, "--backup-dir", str(backups), MAMORI_FORWARDED_ALLOW_IPS="*")
    assert code == 0 and found["settings.forwarded"]["status"] == "warn"  # outside production: a warning
    code, found = checks(
        rt, "--backup-dir", str(backups), MAMORI_PRODUCTION="1", MAMORI_FORWARDED_ALLOW_IPS="10.0.0.1, *"
    )
    assert code == 1 and found["settings.forwarded"]["status"] == "fail"
    demo = rt.settings.home_path / "demo-logins.txt"
    demo.write_text("sato: not a real password\n", encoding="utf-8")
    code, found = checks(rt, "--backup-dir", str(backups), MAMORI_PRODUCTION="1")
    assert code == 1 and found["settings.demo_logins"]["status"] == "fail"
    assert "not a real password" not in json.dumps(found)
    code, found = checks(rt, "--backup-dir", str(backups), MAMORI_LOG_FORMAT="xml")
    assert code == 1 and found["settings.logs"]["status"] == "fail"
    code, found = checks(rt, "--backup-dir", str(backups), MAMORI_LOG_LEVEL="LOUD")
    assert code == 1 and found["settings.logs"]["status"] == "fail"


def test_mail_backend_that_cannot_send_fails_in_one_line(store):
    """issue 18: SMTP chosen without a server or a sender, or an unknown backend, is a failed check naming the
    setting; the password never appears."""
    rt, backups = store
    code, found = checks(rt, "--backup-dir", str(backups))
    assert found["mail.backend"]["status"] == "ok" and "file" in found["mail.backend"]["message_en"]
    code, found = checks(rt, "--backup-dir", str(backups), MAMORI_MAIL_BACKEND="smtp")
    assert code == 1 and found["mail.backend"]["status"] == "fail"
    assert "MAMORI_SMTP_HOST" in found["mail.backend"]["message_en"]
    code, found = checks(
        rt,
        "--backup-dir",
        str(backups),
        MAMORI_MAIL_BACKEND="smtp",
        MAMORI_SMTP_HOST="mail.example.jp",
        MAMORI_SMTP_PASSWORD="not-a-real-password-7",  # pragma: allowlist secret - made up; must never be printed
    )
    assert code == 1 and "MAMORI_MAIL_FROM" in found["mail.backend"]["message_en"]
    assert "not-a-real-password-7" not in json.dumps(found)
    code, found = checks(rt, "--backup-dir", str(backups), MAMORI_MAIL_BACKEND="pigeon")
    assert code == 1 and found["mail.backend"]["status"] == "fail"


def test_wrong_kek_fails(store):
    import base64
    import secrets

    rt, backups = store
    wrong = base64.b64encode(secrets.token_bytes(32)).decode()
    code, found = checks(rt, "--backup-dir", str(backups), MAMORI_KEK=wrong)
    assert code == 1 and found["keys.kek"]["status"] == "fail"
    assert found["audit.anchor"]["status"] == "fail"  # cannot be checked without the keystore's keys
    assert wrong not in json.dumps(found)


def test_loose_sqlite_file_fails(store, backend):
    if backend != "sqlite":
        pytest.skip("a SQLite file's mode")
    rt, backups = store
    path = Path(rt.settings.resolved_database_url().split("///", 1)[1])
    os.chmod(path, 0o644)
    code, found = checks(rt, "--backup-dir", str(backups))
    assert (
        code == 1 and found["store.data"]["status"] == "fail" and "644" in found["store.data"]["message_en"]
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_uninitialised_store_fails_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update({"MAMORI_HOME": str(tmp_path / "nothing"), "MAMORI_KEY_DIR": str(tmp_path / "keys")})
    proc = subprocess.run(
        [sys.executable, "-m", "mamori", "doctor"], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 1
    bad = [line for line in proc.stdout.splitlines() if line.startswith("異常")]
    assert len(bad) == 1 and "mamori init" in bad[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "nothing").exists() and not (tmp_path / "keys").exists()  # nothing created


def test_bad_options_are_usage_errors(store):
    rt, _ = store
    for args in (("--max-backup-age", "-1"), ("--max-backup-age", "soon"), ("--nonsense",)):
        proc = doctor(rt, *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stdout == ""
