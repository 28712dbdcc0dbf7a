"""`mamori worker [--once] [--json]` and `mamori jobs list | runs | run` over a real store: the jobs run and are
recorded, bad input is one line, only the admin and the privacy officer see or start jobs (cron's worker runs as
the system), and the long-running worker stops cleanly on SIGTERM."""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from mamori.cli import worker as worker_cli
from mamori.cli.main import app
from mamori.kernel.settings import reset_settings_cache


def _mounted() -> bool:
    return any(c.name == "worker" for c in app.registered_commands)


def test_worker_and_jobs_are_mounted_in_the_cli():
    assert _mounted()
    assert any(g.name == "jobs" for g in app.registered_groups)


@pytest.fixture
def cli(tmp_path, monkeypatch):
    if not _mounted():  # until cli/main.py mounts it (test_worker_and_jobs_are_mounted_in_the_cli fails)
        worker_cli.register(app)
    from mamori.jobs import register_jobs

    register_jobs()
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MAMORI_KEK", base64.b64encode(secrets.token_bytes(32)).decode())
    for k in ("MAMORI_DATABASE_URL", "MAMORI_KEYSTORE_URL", "MAMORI_AUDIT_URL", "MAMORI_AS", "MAMORI_LANG"):
        monkeypatch.delenv(k, raising=False)
    reset_settings_cache()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    assert run("init").exit_code == 0
    for user, role in (("hoshino", "privacy_officer"), ("sato", "sales")):
        r = run("--as", "admin", "staff", "add", user, "--name", user, "--role", role, "--json")
        assert r.exit_code == 0, r.output
    yield run
    reset_settings_cache()


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_worker_once_runs_each_job_once_then_nothing_until_the_next_slot(cli):
    first = j(cli("worker", "--once", "--json"))
    ran = {o["job"]: o for o in first["jobs"] if o["ran"]}
    assert {"rights.remind", "processors.overdue", "mail.deliver", "scheduler.prune"} <= set(ran)
    assert all(o["status"] == "succeeded" for o in ran.values()), ran
    again = j(cli("worker", "--once", "--json"))
    assert not any(o["ran"] for o in again["jobs"])  # the same slots: already run
    runs = j(cli("--as", "hoshino", "jobs", "runs", "--json", "--limit", "100"))
    assert sorted(r["job"] for r in runs) == sorted(ran)
    assert all(r["status"] == "succeeded" and r["finished_at"] for r in runs)
    text = cli("worker", "--once")
    assert text.exit_code == 0 and "実行 0件" in text.stdout


def test_jobs_list_shows_schedules_last_runs_and_labels(cli):
    j(cli("--as", "admin", "jobs", "run", "scheduler.prune", "--json"))
    doc = j(cli("--as", "hoshino", "jobs", "list", "--json"))
    by = {v["name"]: v for v in doc}
    assert by["rights.remind"]["schedule"] == "cron 0 * * * * (JST)"
    assert by["mail.deliver"]["schedule"] == "every 300s"
    assert by["scheduler.prune"]["last"]["status"] == "succeeded"
    assert by["scheduler.prune"]["last"]["slot"].startswith("manual/")
    assert by["rights.remind"]["last"] is None and by["rights.remind"]["next_slot"]
    text = cli("--as", "admin", "--lang", "en", "jobs", "list")
    assert text.exit_code == 0 and "rights.remind" in text.stdout


def test_jobs_run_runs_now_and_is_audited(cli):
    doc = j(cli("--as", "admin", "jobs", "run", "processors.overdue", "--json"))
    assert doc["status"] == "succeeded" and doc["result"]["overdue_audits"] == 0
    tail = j(cli("--as", "hoshino", "audit", "tail", "-n", "50", "--json"))
    assert any(e["action"] == "job.run_now" and e["actor"].startswith("staff:") for e in tail)


def test_bad_input_is_one_line(cli):
    assert "job_not_found" in one_line(cli("--as", "admin", "jobs", "run", "no.such.job"))
    assert "job_not_found" in one_line(cli("--as", "admin", "jobs", "runs", "--job", "nope"))
    r = cli("--as", "admin", "jobs", "runs", "--limit", "0")
    assert r.exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        ("jobs", "list"),
        ("jobs", "runs"),
        ("jobs", "run", "mail.deliver"),
        ("worker", "--once"),
    ],
)
def test_a_sales_rep_is_refused_with_the_rule(cli, args):
    r = cli("--as", "sato", *args)
    assert r.exit_code != 0
    line = one_line(r)
    assert "role_not_permitted" in line and "R-23-2" in line
    assert not j(cli("--as", "admin", "jobs", "runs", "--json"))  # nothing ran


def test_the_worker_runs_until_sigterm_and_stops_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update(
        {
            "MAMORI_HOME": str(tmp_path / "home"),
            "MAMORI_KEY_DIR": str(tmp_path / "keys"),
            "MAMORI_KEK": base64.b64encode(secrets.token_bytes(32)).decode(),
            "MAMORI_LANG": "en",
        }
    )
    launcher = (
        "from mamori.cli import worker as w\n"
        "from mamori.cli.main import app, main\n"
        "if not any(c.name == 'worker' for c in app.registered_commands): w.register(app)\n"
        "from mamori.jobs import register_jobs\n"
        "register_jobs()\n"
        "main()\n"
    )
    assert (
        subprocess.run([sys.executable, "-c", launcher, "init"], env=env, capture_output=True).returncode == 0
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", launcher, "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        line = ""
        assert proc.stderr is not None
        while time.monotonic() < deadline and "scheduler worker started" not in line:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
        assert "scheduler worker started" in line
        proc.send_signal(signal.SIGTERM)
        # read both pipes to the end while waiting: a worker whose log filled an unread pipe would block on write
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
