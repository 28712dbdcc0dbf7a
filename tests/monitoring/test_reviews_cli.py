"""``mamori monitoring review …`` and ``mamori monitoring reviews`` end to end (issue 25 "Deliver" 3): due, start,
show, decide (a change carried out; one's own line refused), close, verify, list — each with ``--json``; errors are
one line naming the problem (never the value), refusals with the rule id."""

from __future__ import annotations

import json

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service


def _j(result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _one_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _run(cli, who: str, *args: str):
    return cli("--as", who, "monitoring", *args)


def test_a_whole_review_from_the_command_line(cli, actors, runtime):
    due = _j(_run(cli, "po", "review", "due", "--json"))
    assert due["open_review"] is None and due["interval_months"] == 3
    text = _run(cli, "po", "review", "due")
    assert text.exit_code == 0 and due["period"]["label"] in text.stdout

    review = _j(_run(cli, "po", "review", "start", "--json"))
    assert review["ref"] == f"AR-{due['period']['label']}" and review["status"] == "open"
    flags = {x["username"]: set(x["flags"]) for x in review["items"]}
    # seed_basics: nobody has signed in yet
    assert flags == {
        "admin": {"admin", "unused"},
        "po": {"unused"},
        "sato": {"unused"},
        "suzuki": {"unused"},
        "support": {"unused"},
        "analyst": {"unused"},
    }
    shown = _run(cli, "po", "review", "show")  # the open one by default
    assert shown.exit_code == 0 and review["ref"] in shown.stdout and "要確認 6件" in shown.stdout

    own = _run(cli, "po", "review", "decide", review["ref"], "po", "confirm")
    assert own.exit_code == 3 and "own_line" in _one_line(own) and "R-23-2" in _one_line(own)
    changed = _j(
        _run(
            cli, "po", "review", "decide", review["ref"], "suzuki", "change", "--change", "disable", "--json"
        )
    )
    assert (changed["decision"], changed["change"]) == ("change", "disable")
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert not next(u for u in staff_service.list_staff(ctx) if u.username == "suzuki").active
    for username in ("admin", "sato", "support", "analyst"):
        done = _run(cli, "po", "review", "decide", review["ref"], username, "confirm", "--note", "業務上必要")
        assert done.exit_code == 0, done.output
        assert "承認" in done.stdout
    undecided = _run(cli, "po", "review", "close", review["ref"])
    assert undecided.exit_code == 1 and "lines_undecided" in _one_line(undecided)
    assert _run(cli, "admin", "review", "decide", review["id"], "po", "confirm").exit_code == 0

    closed = _j(_run(cli, "admin", "review", "close", review["ref"], "--json"))
    assert closed["status"] == "closed" and len(closed["digest"]) == 64 and closed["changes"] == 1
    checked = _j(_run(cli, "po", "review", "verify", review["ref"], "--json"))
    assert checked["ok"] is True and checked["audited"] == closed["digest"]
    plain = _run(cli, "po", "review", "verify", review["ref"])
    assert plain.exit_code == 0 and closed["digest"] in plain.stdout

    after = _run(cli, "admin", "review", "decide", review["ref"], "sato", "confirm")
    assert after.exit_code == 1 and "review_closed" in _one_line(after)
    listed = _j(_run(cli, "admin", "reviews", "--json"))
    assert [(r["ref"], r["status"], r["lines"], r["decided"]) for r in listed] == [
        (review["ref"], "closed", 6, 6)
    ]
    table = _run(cli, "admin", "reviews")
    assert table.exit_code == 0 and review["ref"] in table.stdout


def test_bad_input_is_one_line_and_changes_nothing(cli, actors):
    bad = _run(cli, "po", "review", "start", "--period", "2026-Q9")
    assert bad.exit_code == 1 and "2026-Q9" not in _one_line(bad) and "invalid_input" in _one_line(bad)
    future = _run(cli, "po", "review", "start", "--period", "2199-Q4")
    assert future.exit_code == 1 and "period_in_future" in _one_line(future)
    none_open = _run(cli, "po", "review", "show")
    assert none_open.exit_code == 1 and "review_not_found" in _one_line(none_open)
    assert _j(_run(cli, "po", "reviews", "--json")) == []

    review = _j(_run(cli, "po", "review", "start", "--json"))
    again = _run(cli, "admin", "review", "start")
    assert again.exit_code == 1 and "review_open" in _one_line(again)
    for args, code in (
        (("sato", "maybe"), "invalid_input"),
        (("sato", "change"), "invalid_input"),
        (("sato", "change", "--change", "role:system"), "bad_change"),
        (("nobody", "confirm"), "line_not_found"),
    ):
        r = _run(cli, "po", "review", "decide", review["ref"], *args)
        assert r.exit_code != 0 and code in _one_line(r), args
    unknown = _run(cli, "po", "review", "close", "AR-2026-Q1")
    assert unknown.exit_code == 1 and "review_not_found" in _one_line(unknown)
    not_closed = _run(cli, "po", "review", "verify", review["ref"])
    assert not_closed.exit_code == 1 and "review_not_closed" in _one_line(not_closed)
    shown = _j(_run(cli, "po", "review", "show", review["ref"], "--json"))
    assert shown["decided"] == 0


@pytest.mark.parametrize("who", ["sato", "analyst"])
def test_other_roles_are_refused_every_command_and_audited(cli, actors, runtime, who):
    review = _j(_run(cli, "po", "review", "start", "--json"))
    commands = [
        ("review", "due"),
        ("review", "start"),
        ("review", "show", review["ref"]),
        ("review", "decide", review["ref"], "support", "change", "--change", "disable"),
        ("review", "close", review["ref"]),
        ("review", "verify", review["ref"]),
        ("reviews",),
    ]
    for args in commands:
        r = _run(cli, who, *args, "--json")
        assert r.exit_code == 3, args
        assert "role_not_permitted" in _one_line(r) and "R-23-2" in _one_line(r)
    denied = [
        e
        for e in runtime.audit.tail(100)
        if e.actor == actors[who].label and e.action == "monitoring.access_review" and e.decision == "deny"
    ]
    assert len(denied) == len(commands)
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert next(u for u in staff_service.list_staff(ctx) if u.username == "support").active
