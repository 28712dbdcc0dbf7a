"""Equal sign-in timing (issue 17): the time of a failed sign-in must not tell a real user name from an unknown one.

Both paths already ran one argon2 verification (a dummy one for an unknown name); what differed was the rest: a
wrong password for a real account wrote the failure counter (a committed write) and one more audit entry, an
unknown name wrote nothing — about 3–4 ms on the reference machine, enough to classify 90.7% of single tries.
Now every failure does the same database and audit work. Tested twice: the statements each path sends (exact,
cannot be noisy) and the measured time (interleaved pairs; see the tests).
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from mamori.kernel.context import Role
from mamori.staff import passwords as staff_passwords
from mamori.staff import service as staff_service
from mamori.staff.service import AuthenticationFailed, LockoutPolicy
from tests.staff.helpers import make_staff

# No lock-out during the measurement (a locked account is another path): 99 failures per hour are free.
NO_LOCK = LockoutPolicy(free_failures=100, hourly_cap=100)


def _fail(rt, username: str, password: str) -> float:
    start = time.perf_counter()
    with pytest.raises(AuthenticationFailed):
        staff_service.sign_in(rt, username, password, "000000", lockout=NO_LOCK)
    return time.perf_counter() - start


def _shape(statement: str) -> str:
    """A statement's kind and table (values and column lists left out)."""
    words = re.findall(r"[A-Za-z_]+", statement.upper())
    verb = words[0] if words else ""
    table = next((w for w in words[1:] if w.startswith("STAFF_") or w.startswith("AUDIT")), "")
    return f"{verb} {table}".strip()


@contextmanager
def _statements(rt) -> Iterator[Counter[str]]:
    seen: Counter[str] = Counter()
    engines = {id(e): e for e in (rt.data_engine, rt.read_engine, rt.audit_engine)}

    def on_execute(conn, cursor, statement, params, context, many):  # noqa: ANN001
        kind = _shape(statement)
        if kind.split(" ")[0] in ("INSERT", "UPDATE", "DELETE"):
            seen["write"] += 1
        seen["all"] += 1

    def on_commit(conn):  # noqa: ANN001
        seen["commit"] += 1

    for engine in engines.values():
        event.listen(engine, "before_cursor_execute", on_execute)
        event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        for engine in engines.values():
            event.remove(engine, "before_cursor_execute", on_execute)
            event.remove(engine, "commit", on_commit)


def test_unknown_and_known_user_failures_do_the_same_database_work(runtime, clock):
    make_staff(runtime, "sato", Role.SALES)
    _fail(runtime, "nobody-here", "warm up the dummy hash")
    _fail(runtime, "sato", "warm up the counter")
    with _statements(runtime) as known:
        _fail(runtime, "sato", "a wrong password 1")
    with _statements(runtime) as unknown:
        _fail(runtime, "nobody-here", "a wrong password 1")
    assert known["commit"] == unknown["commit"]
    assert known["write"] == unknown["write"] > 0
    assert known["all"] == unknown["all"]
    runtime.drain_outbox()
    entries = runtime.audit.tail(20)
    last_two = [e.action for e in entries[-4:]]
    assert last_two.count("staff.sign_in_failures") == 2  # one per failure, known or not


def _pairs(runtime, clock, n: int) -> tuple[list[float], list[float]]:
    """``n`` interleaved pairs (a real name with a wrong password, then an unknown name), so that a slow spell of
    the shared machine hits both alike."""
    for i in range(3):  # warm up both paths (the dummy hash is made once, statement caches)
        _fail(runtime, "sato", f"warm-up {i}")
        _fail(runtime, "nobody-here", f"warm-up {i}")
    known: list[float] = []
    unknown: list[float] = []
    for i in range(n):
        clock.advance(timedelta(seconds=1))
        known.append(_fail(runtime, "sato", f"a wrong password {i}"))
        unknown.append(_fail(runtime, "nobody-here", f"a wrong password {i}"))
    return known, unknown


def test_an_unknown_name_costs_an_argon2_check_too(runtime, clock):
    make_staff(runtime, "sato", Role.SALES)
    known, unknown = _pairs(runtime, clock, 15)
    k, u = statistics.median(known), statistics.median(unknown)
    assert 0.5 <= k / u <= 2.0, (
        k,
        u,
    )  # without the dummy check an unknown name would take a tenth of the time


def test_the_work_besides_the_hash_does_not_tell_a_real_name_from_an_unknown_one(runtime, clock, monkeypatch):
    """The argon2 check (≈ 22 ms, and the noisiest part on a shared machine) is the same for both and is checked
    above; here it is replaced by a no-op so that what remains — the database and audit work that differed — is
    measured alone. The old code's extra write made the real name's median 75–200% longer (and the real name the
    slower one in 34–41 of 41 pairs); now the medians are within a few per cent. What is left is systematic and
    small (the found account's row is loaded twice, about 0.3 ms here, ~1% of a sign-in with its argon2 check), so
    the share of pairs where the real name is slower is NOT a coin toss and is not asserted: it reached 37/41 in a
    CI run (medians 3.69 vs 3.35 ms). The statements each path sends are compared exactly above; the whole sign-in
    is measured by bench/sign_in_timing.py (ratio 1.01, best one-try accuracy 0.56, docs/benchmarks.md)."""
    make_staff(runtime, "sato", Role.SALES)
    monkeypatch.setattr(staff_passwords, "verify_password", lambda stored, password: False)
    # Up to three rounds of 41 pairs: a burst of load on the shared CI machine once put one round's medians 37% apart
    # on PostgreSQL (10.38 vs 7.56 ms); the old code's 75–200% gap is systematic and fails every round.
    seen = []
    for _ in range(3):
        known, unknown = _pairs(runtime, clock, 41)
        k, u = statistics.median(known), statistics.median(unknown)
        seen.append(f"{k * 1000:.2f} vs {u * 1000:.2f} ms")
        if abs(k - u) / min(k, u) < 0.3:
            break
    else:
        raise AssertionError(f"medians apart by 30% or more in every round: {'; '.join(seen)}")


def test_a_disabled_account_fails_with_the_same_work_as_an_unknown_name(runtime, clock):
    from mamori.kernel.context import SYSTEM_ACTOR

    make_staff(runtime, "suzuki", Role.SALES)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.disable(ctx, "suzuki")
    _fail(runtime, "nobody-here", "warm up")
    _fail(runtime, "suzuki", "warm up")
    with _statements(runtime) as disabled:
        _fail(runtime, "suzuki", "correct horse battery staple")
    with _statements(runtime) as unknown:
        _fail(runtime, "nobody-here", "correct horse battery staple")
    assert disabled == unknown
