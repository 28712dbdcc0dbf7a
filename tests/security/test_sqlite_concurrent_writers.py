"""SECURITY.md §7 test 19: two processes writing concurrently through mamori's SQLite engine (BEGIN IMMEDIATE,
busy_timeout 5 s) → 0 lost updates and 0 unhandled "database is locked".

No earlier test covered it (tests/api/test_concurrency.py races threads of one process on API tokens). Each process
opens the store as the app does (kernel.db.make_engine) and does read-modify-write transactions on one shared row;
a deferred transaction would either lose an increment or fail with SQLITE_BUSY(_SNAPSHOT) — "database is locked".
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time

ROUNDS = 150

WORKER = textwrap.dedent(
    """
    import os, sys, time
    from sqlalchemy import text
    from mamori.kernel.db import make_engine, make_sessionmaker, unit_of_work

    url, rounds, go = sys.argv[1], int(sys.argv[2]), sys.argv[4]
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with engine.connect():
        pass
    while not os.path.exists(go):  # both processes start writing at the same moment
        time.sleep(0.005)
    for _ in range(rounds):
        with unit_of_work(sessions) as s:
            n = s.execute(text("SELECT n FROM t19_counter WHERE id = 1")).scalar_one()
            time.sleep(0.0005)  # widen the read-to-write window a deferred transaction would lose in
            s.execute(text("UPDATE t19_counter SET n = :n WHERE id = 1"), {"n": n + 1})
            s.execute(text("INSERT INTO t19_log (who) VALUES (:w)"), {"w": sys.argv[3]})
    engine.dispose()
    print("done")
    """
)


def test_two_processes_writing_at_once_lose_nothing_and_never_see_locked(tmp_path):
    path = str(tmp_path / "data.db")
    url = f"sqlite:///{path}"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE t19_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        raw.execute("CREATE TABLE t19_log (id INTEGER PRIMARY KEY AUTOINCREMENT, who TEXT NOT NULL)")
        raw.execute("INSERT INTO t19_counter (id, n) VALUES (1, 0)")
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, str(ROUNDS), name, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    time.sleep(1.5)  # both have imported mamori and opened the store
    go.touch()
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert "database is locked" not in err
        assert p.returncode == 0, err[-2000:]
        assert out.strip() == "done"
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT n FROM t19_counter").fetchone()[0] == 2 * ROUNDS  # 0 lost updates
        by_writer = dict(raw.execute("SELECT who, count(*) FROM t19_log GROUP BY who").fetchall())
    assert by_writer == {"a": ROUNDS, "b": ROUNDS}
