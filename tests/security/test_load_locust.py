"""SECURITY.md §7 test 23: Locust, 2 minutes, 20 users on 127.0.0.1 against a real `mamori serve` subprocess on a
demo store → fail ratio ≤ 0.1 % and p95 ≤ 500 ms (the budget and its reasoning: bench/locustfile.py), else it fails.

Runs once per test run (not per backend: it uses no ``backend`` fixture; the server is the embedded SQLite demo store,
the default a company starts with). Sign-in is by API token: a service account's token (issue 17's machine client)
limited to the ``support`` purpose. ``MAMORI_LOAD_SECONDS`` shortens the run while iterating (default 120).
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECONDS = int(os.environ.get("MAMORI_LOAD_SECONDS", "120"))
USERS = 20

SETUP = textwrap.dedent(
    """
    import json
    from mamori import composition
    from mamori.kernel.runtime import open_runtime
    from mamori.kernel.context import Role
    from mamori.staff import service as staff
    from mamori.staff.schemas import ApiTokenCreate, ServiceAccountCreate

    composition.register_all()
    rt = open_runtime()
    with rt.transaction(readonly=True) as ctx:
        admin = staff.actor_for(ctx, "admin")
    with rt.transaction(admin) as ctx:
        staff.add_service(ctx, ServiceAccountCreate(username="load-client", display_name="load test", role=Role.SUPPORT))
        issued = staff.create_token(ctx, "load-client", ApiTokenCreate(name="locust", purposes=["support"]))
    rt.close()
    print(json.dumps({"token": issued.token}))
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError("mamori serve exited before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback only
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("mamori serve did not become ready")


@pytest.mark.timeout(SECONDS + 600)
def test_twenty_api_clients_for_two_minutes_stay_within_budget(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update(HOME=str(tmp_path / "user"), MAMORI_HOME=str(tmp_path / "home"), MAMORI_LANG="en")
    run = lambda *a: subprocess.run(a, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)  # noqa: E731
    for args in (("init",), ("demo", "--customers", "300")):
        done = run(str(BIN / "mamori"), *args)
        assert done.returncode == 0, done.stderr[-2000:]
    done = run(sys.executable, "-c", SETUP)
    assert done.returncode == 0, done.stderr[-2000:]
    token = json.loads(done.stdout.strip().splitlines()[-1])["token"]

    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "mamori"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        host = f"http://127.0.0.1:{port}"
        _wait_ready(f"{host}/openapi.json", server)
        stats = tmp_path / "load"
        done = subprocess.run(
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(USERS),
                "--spawn-rate",
                "10",
                "--run-time",
                f"{SECONDS}s",
                "--host",
                host,
                "--csv",
                str(stats),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            env={**env, "MAMORI_LOAD_TOKEN": token},
            capture_output=True,
            text=True,
            timeout=SECONDS + 300,
            cwd=tmp_path,
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    verdict = [line for line in done.stdout.splitlines() + done.stderr.splitlines() if "load verdict" in line]
    assert verdict, done.stderr[-3000:]
    print(verdict[0])  # shown with -s: the figures of this run
    with (tmp_path / "load_stats.csv").open(encoding="utf-8") as f:
        rows = {r["Name"]: r for r in csv.DictReader(f)}
    total = rows["Aggregated"]
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    # every kind of request of the mix was made, by all 20 users, over the whole run
    for name in ("/api/v1/customers/{id}", "find", "/api/v1/customers/{id}/consents"):
        assert int(rows[name]["Request Count"]) > 0, name
    assert requests >= USERS * SECONDS // 2, verdict
    assert failures / requests <= 0.001, (
        verdict,
        (tmp_path / "serve.log").read_text(errors="replace")[-2000:],
    )
    assert float(total["95%"]) <= 500, verdict
    assert done.returncode == 0, verdict
