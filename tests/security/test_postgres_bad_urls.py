"""Issue 17 item 2: a bad database URL is one clear line — the setting named, never the password — with a non-zero
exit code, no traceback, and no directory created (it used to be a 70–170-line traceback, and a SQLite path under a
missing directory created that directory anywhere).

Run as the operator would: the `mamori` command in a subprocess with only the environment set.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

PASSWORD = "s3cr3t-pw-1234"  # noqa: S105  # pragma: allowlist secret - made up; must never be printed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


def _run(tmp_path: Path, setting: str, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update(
        HOME=str(tmp_path / "user"), MAMORI_HOME=str(tmp_path / "home"), MAMORI_LANG="en", **{setting: url}
    )
    exe = Path(sys.executable).with_name("mamori")
    return subprocess.run(
        [str(exe), *(args or ("init",))], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )


def _entries(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


CASES = [
    ("MAMORI_DATABASE_URL", "foo://user:{pw}@host/db", "database_url_unsupported"),
    ("MAMORI_DATABASE_URL", "mysql://user:{pw}@127.0.0.1/db", "database_url_unsupported"),
    ("MAMORI_DATABASE_URL", "not a url at all", "database_url_malformed"),
    ("MAMORI_DATABASE_URL", "postgresql://user:{pw}@[::1", "database_url_malformed"),
    ("MAMORI_DATABASE_URL", "sqlite:///{tmp}/missing/deeper/mamori.db", "database_dir_missing"),
    ("MAMORI_DATABASE_URL", "postgresql+psycopg://user:{pw}@127.0.0.1:{port}/mamori", "database_unreachable"),
    ("MAMORI_AUDIT_URL", "sqlite:///{tmp}/nowhere/audit.db", "database_dir_missing"),
    ("MAMORI_KEYSTORE_URL", "postgresql+psycopg://user:{pw}@127.0.0.1:{port}/keys", "database_unreachable"),
]


@pytest.mark.parametrize(
    ("setting", "url", "code"), CASES, ids=[f"{s}-{c}-{i}" for i, (s, _, c) in enumerate(CASES)]
)
def test_a_bad_database_url_is_one_line_naming_the_setting_and_creates_nothing(tmp_path, setting, url, code):
    url = url.format(pw=PASSWORD, tmp=tmp_path, port=_free_port())
    before = _entries(tmp_path)
    done = _run(tmp_path, setting, url)
    assert done.returncode != 0
    err = done.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and "Traceback" not in done.stdout
    assert f"({code})" in err and setting in err
    assert PASSWORD not in done.stderr + done.stdout
    assert _entries(tmp_path) == before  # no directory (not MAMORI_HOME, not the missing one, no key dir)


def test_the_api_server_does_not_start_and_says_why_in_one_line(tmp_path):
    url = f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1:{_free_port()}/mamori"
    done = _run(tmp_path, "MAMORI_DATABASE_URL", url, "serve", "--port", str(_free_port()))
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1 and "(database_unreachable)" in done.stderr
    assert "MAMORI_DATABASE_URL" in done.stderr and PASSWORD not in done.stderr + done.stdout
    assert not (tmp_path / "home").exists()


def test_the_same_for_a_command_that_only_reads(tmp_path):
    done = _run(
        tmp_path,
        "MAMORI_DATABASE_URL",
        f"sqlite:///{tmp_path}/gone/x.db",
        "--as",
        "admin",
        "purposes",
        "list",
    )
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1
    assert "MAMORI_DATABASE_URL" in done.stderr and not (tmp_path / "gone").exists()


def test_a_good_url_in_an_existing_directory_still_works(tmp_path):
    (tmp_path / "db").mkdir()
    done = _run(tmp_path, "MAMORI_DATABASE_URL", f"sqlite:///{tmp_path}/db/mamori.db")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "db" / "mamori.db").exists()
