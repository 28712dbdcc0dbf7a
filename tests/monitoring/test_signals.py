"""Issue 25 "Tests": a synthetic month of audit entries with planted behaviours raises exactly those alerts, a normal
month none; thresholds are respected; dismissed alerts stay dismissed; an incremental evaluation adds up to a
rebuild. The month is :mod:`mamori.monitoring.simulate` (shapes the services write); the expected alerts below are
written out by hand from what was planted."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.runtime import Runtime
from mamori.monitoring import simulate
from mamori.monitoring.models import DISMISSED, MonitoringAlert, MonitoringDaily
from mamori.monitoring.schemas import SignalSettingIn
from mamori.monitoring.service import evaluate as evaluate_service
from mamori.monitoring.service import settings as settings_service
from tests.factories import seed_basics

START = date(2026, 10, 19)  # a Monday; the month runs to 2026-11-17 (the test clock is 2026-11-23)
SEED = 2025
TODAY = date(2026, 11, 23)  # the test clock's JST day


def _people(rng: random.Random) -> list[simulate.Person]:
    return simulate.staff(rng, {"sales": 4, "support": 2, "analyst": 1, "privacy_officer": 1})


def _append(rt: Runtime, entries: list) -> None:
    for i in range(0, len(entries), 2000):
        rt.audit.append(entries[i : i + 2000])


def _alerts(rt: Runtime) -> set[tuple[str, str, date]]:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return {(a.signal, a.actor, a.day) for a in ctx.session.execute(select(MonitoringAlert)).scalars()}


def _evaluate(rt: Runtime, actor: Actor, **kw):
    with rt.transaction(actor) as ctx:
        return evaluate_service.evaluate(ctx, **kw)


@pytest.fixture
def actors(runtime: Runtime) -> dict[str, Actor]:
    return seed_basics(runtime)


def test_a_normal_month_raises_no_alert(runtime: Runtime, actors) -> None:
    rng = random.Random(SEED)
    people = _people(rng)
    _append(runtime, list(simulate.month(rng, people, START)))
    result = _evaluate(runtime, actors["po"])
    assert result.raised == 0, _alerts(runtime)
    assert result.entries > 3500  # the month was read …
    # … eight people on the 21 business days from 19 October to 17 November (3 November, 文化の日, is a holiday)
    assert result.days == 8 * 21
    assert _alerts(runtime) == set()


def test_planted_behaviours_raise_exactly_those_alerts(runtime: Runtime, actors) -> None:
    rng = random.Random(SEED)
    people = _people(rng)
    entries = list(simulate.month(rng, people, START))
    planted, extra = simulate.plant(rng, people, START)
    _append(runtime, sorted(entries + extra, key=lambda e: e.at))
    result = _evaluate(runtime, actors["po"])

    p = planted
    expected = {
        ("read_volume", p.evening_reader.label, p.evening_day),  # 400 people on one evening …
        ("off_hours", p.evening_reader.label, p.evening_day),  # … after 21:00
        ("denials", p.prober.label, p.probe_day),  # 15 refusals in 20 minutes …
        ("out_of_book", p.prober.label, p.probe_day),  # … each a customer outside the rep's book
        ("bulk_export", p.exporter.label, p.export_day),  # 800 people in one list at 02:00
        ("disabled_account", p.leaver.label, p.leaver_day),  # the leaver's token, three times
    }
    assert _alerts(runtime) == expected
    assert result.raised == 6
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        by = {a.signal: a for a in ctx.session.execute(select(MonitoringAlert)).scalars()}
    assert by["off_hours"].entries_total == 400 and by["off_hours"].observed == 400
    assert by["bulk_export"].entries_total == 1 and by["bulk_export"].observed == 800
    assert by["disabled_account"].entries_total == 3 and by["disabled_account"].severity == "high"
    assert by["denials"].observed >= 15 and by["out_of_book"].observed >= 15
    assert by["read_volume"].baseline_kind == "person" and by["read_volume"].observed >= 400
    assert by["read_volume"].observed > 3 * (by["read_volume"].baseline or 0)
    # each alert names its entries (sequence numbers), all of them the person's, none holding a value
    for alert in by.values():
        seqs = json.loads(alert.entry_seqs)
        assert seqs and len(seqs) == min(alert.entries_total, 500)
        stored = runtime.audit.by_seqs(seqs)
        assert {e.actor for e in stored} == {alert.actor}
    export = runtime.audit.by_seqs(json.loads(by["bulk_export"].entry_seqs))
    assert [e.action for e in export] == ["contact.list"] and len(export[0].subject_ids) == 800


def test_thresholds_are_respected(runtime: Runtime, actors) -> None:
    rng = random.Random(SEED)
    people = _people(rng)
    entries = list(simulate.month(rng, people, START))
    planted, extra = simulate.plant(rng, people, START)
    _append(runtime, sorted(entries + extra, key=lambda e: e.at))
    with runtime.transaction(actors["po"]) as ctx:
        settings_service.set_signal(ctx, "bulk_export", SignalSettingIn(threshold=1000))  # 800 < 1000
        settings_service.set_signal(ctx, "denials", SignalSettingIn(threshold=16))  # 15 < 16
        settings_service.set_signal(ctx, "read_volume", SignalSettingIn(enabled=False))
        settings_service.set_signal(
            ctx, "off_hours", SignalSettingIn(threshold=400, severity="high")
        )  # 400 ≥ 400
    _evaluate(runtime, actors["po"])
    signals = {s for s, _a, _d in _alerts(runtime)}
    assert signals == {"off_hours", "out_of_book", "disabled_account"}
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        off = ctx.session.execute(
            select(MonitoringAlert).where(MonitoringAlert.signal == "off_hours")
        ).scalar_one()
    assert off.severity == "high" and off.threshold == 400


def test_dismissed_alerts_stay_dismissed_and_open_ones_follow(runtime: Runtime, actors) -> None:
    rng = random.Random(SEED)
    people = _people(rng)
    entries = list(simulate.month(rng, people, START))
    planted, extra = simulate.plant(rng, people, START)
    _append(runtime, sorted(entries + extra, key=lambda e: e.at))
    _evaluate(runtime, actors["po"])
    with runtime.transaction(actors["po"]) as ctx:
        rows = {a.signal: a for a in ctx.session.execute(select(MonitoringAlert)).scalars()}
        rows["off_hours"].status, rows["off_hours"].dismiss_reason = DISMISSED, "business_need"
        before = {k: (v.observed, v.entries_total) for k, v in rows.items()}
    # the same evening goes on: 60 more people read after 22:30, and the probe goes on at 14:30
    reader, day = planted.evening_reader, planted.evening_day
    more = [
        simulate._read(
            reader, simulate._at(day, 22, 40) + timedelta(seconds=i), [f"{i:032x}"], reader.nets[0]
        )
        for i in range(60)
    ]
    more += [
        simulate._denial(planted.prober, simulate._at(planted.probe_day, 14, 30) + timedelta(seconds=i), rng)
        for i in range(5)
    ]
    _append(runtime, more)
    result = _evaluate(runtime, actors["po"])
    # only what is new is read: the 65 entries, and what the first evaluation and the officer's edit wrote
    assert result.mode == "incremental" and 65 <= result.entries < 80
    assert result.raised == 0 and result.kept_dismissed == 1
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        after = {a.signal: a for a in ctx.session.execute(select(MonitoringAlert)).scalars()}
    assert after["off_hours"].status == DISMISSED  # left as the officer decided …
    assert (after["off_hours"].observed, after["off_hours"].entries_total) == before["off_hours"]
    assert after["read_volume"].observed == before["read_volume"][0] + 60  # … an open one follows the day
    assert after["denials"].observed == before["denials"][0] + 5
    assert after["read_volume"].status == "new"


def test_an_incremental_evaluation_adds_up_to_a_rebuild(runtime: Runtime, actors) -> None:
    rng = random.Random(SEED + 1)
    people = _people(rng)
    entries = list(simulate.month(rng, people, START, days=20))
    half = len(entries) // 2
    _append(runtime, entries[:half])
    first = _evaluate(runtime, actors["po"])
    _append(runtime, entries[half:])
    second = _evaluate(runtime, actors["po"])
    assert first.entries + second.entries == second.to_seq  # every entry read once, none twice
    assert second.from_seq == first.to_seq
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        incremental = {
            (r.actor, r.day): (r.entries, r.reads, r.denials, r.exports, r.off_hours, r.sensitive, r.detail)
            for r in ctx.session.execute(select(MonitoringDaily)).scalars()
            if r.day < TODAY  # the officer's own evaluations today differ by the one the rebuild reads too
        }
    rebuilt = _evaluate(runtime, actors["po"], rebuild_since=START)
    assert rebuilt.mode == "rebuild"
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        again = {
            (r.actor, r.day): (r.entries, r.reads, r.denials, r.exports, r.off_hours, r.sensitive, r.detail)
            for r in ctx.session.execute(select(MonitoringDaily)).scalars()
            if r.day < TODAY
        }
    assert incremental == again and len(again) > 100


@pytest.mark.parametrize("who", ["sato", "support", "analyst"])
def test_only_the_privacy_officer_and_an_administrator_evaluate(runtime: Runtime, actors, who: str) -> None:
    with pytest.raises(PolicyDenied), runtime.transaction(actors[who]) as ctx:
        evaluate_service.evaluate(ctx)
    denied = runtime.audit.search(action="monitoring.evaluate", decision="deny")
    assert [e.actor for e in denied] == [actors[who].label]
    assert _evaluate(runtime, actors["admin"]).mode == "incremental"
