"""The slices are registered when a command needs them, not when the CLI is imported (issue 16): a fresh
``python -m mamori`` process — no test fixture registering anything — must still run the commands that work on
the stores. ``restore`` into a lost MAMORI_HOME never opens the runtime before restoring, yet re-applies the
erasures since the backup through the slices' subject data sources (G-17)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path


def _mamori(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mamori", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_restore_into_a_lost_home_registers_the_slices_in_a_fresh_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update(
        {
            "MAMORI_HOME": str(home),
            "MAMORI_KEY_DIR": str(tmp_path / "keys"),
            "MAMORI_KEK": base64.b64encode(secrets.token_bytes(32)).decode(),
            "MAMORI_LANG": "en",
        }
    )
    assert _mamori(env, "init", "--json").returncode == 0
    done = _mamori(env, "--as", "admin", "backup", str(tmp_path / "b"), "--json")
    assert done.returncode == 0, done.stderr
    for name in ("mamori.db", "audit.db"):  # MAMORI_HOME lost
        for suffix in ("", "-wal", "-shm"):
            Path(f"{home / name}{suffix}").unlink(missing_ok=True)

    done = _mamori(env, "--as", "admin", "restore", str(tmp_path / "b"), "--yes", "--json")

    assert done.returncode == 0, done.stderr  # not "no_subject_sources"
    report = json.loads(done.stdout)
    assert report["verify"]["ok"] and report["tables_match"]
