"""A synthetic month of staff activity in the audit log (issue 25): for the demo, the tests and the benchmark.

The entries have the shapes the services write (``customer.read`` with one or many subject ids and field names,
refusals with their codes, ``contact.list`` exports, ``staff.credential_refused``), at JST working hours on
business days, from one or two networks per person — an ordinary month. :func:`plant` adds the behaviours of
issue 25's test: a rep who reads 400 customers on one evening, a probe of another rep's customers, a bulk export at
02:00 and a leaver's token. Every id is random (``secrets``-free: a seeded generator, so runs repeat); no entry
holds a personal value. Synthetic only — never a real person's activity.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from mamori.kernel.audit import AuditEntry
from mamori.kernel.clock import JST
from mamori.law.calendar_jp import is_business_day

FIELDS = ("address", "kana", "name")


@dataclass(frozen=True)
class Person:
    label: str  # staff:<id>
    role: str  # sales / support / analyst / privacy_officer
    nets: tuple[str, ...]  # the network tags they usually come from
    daily_reads: int  # their usual people read per working day


def staff(rng: random.Random, counts: dict[str, int]) -> list[Person]:
    """Synthetic staff: ``counts`` per role, each with a usual volume and one or two networks."""
    people: list[Person] = []
    office = [f"n{rng.getrandbits(48):012x}" for _ in range(3)]
    for role, n in counts.items():
        for _ in range(n):
            usual = {"sales": 40, "support": 60, "analyst": 15, "privacy_officer": 10}.get(role, 20)
            nets = (
                (rng.choice(office),)
                if rng.random() < 0.6
                else (rng.choice(office), f"n{rng.getrandbits(48):012x}")
            )
            people.append(
                Person(
                    f"staff:{rng.getrandbits(128):032x}", role, nets, max(5, int(rng.gauss(usual, usual / 5)))
                )
            )
    return people


def _ids(rng: random.Random, n: int, pool: Sequence[str] | None = None) -> tuple[str, ...]:
    """``n`` subject ids: random ones, or drawn from ``pool`` (the demo's real customer ids)."""
    if pool:
        return tuple(rng.sample(list(pool), n)) if n <= len(pool) else tuple(rng.choices(list(pool), k=n))
    return tuple(f"{rng.getrandbits(128):032x}" for _ in range(n))


def _at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=JST).astimezone(UTC)


def _read(
    p: Person, at: datetime, subjects: Sequence[str], net: str, purpose: str = "contract"
) -> AuditEntry:
    return AuditEntry(
        actor=p.label,
        actor_role=p.role,
        action="customer.read",
        purpose=purpose,
        subject_ids=tuple(subjects),
        fields=FIELDS,
        decision="allow",
        details={"via": "session:" + p.label[-12:], "net": net},
        at=at,
    )


def month(
    rng: random.Random,
    people: Sequence[Person],
    start: date,
    days: int = 30,
    *,
    pool: Sequence[str] | None = None,
) -> Iterator[AuditEntry]:
    """An ordinary month: on business days each person reads about their usual number of people between 9:00 and
    18:59 JST (one record at a time, sometimes a search page of several), from their own networks; support staff
    open a few 要配慮 notes; a rep is refused now and then (a customer reassigned yesterday); analysts build a
    small contact list once a week. Entries come in time order per day."""
    for offset in range(days):
        day = start + timedelta(days=offset)
        if not is_business_day(day):
            continue
        batch: list[AuditEntry] = []
        for p in people:
            target = max(1, int(rng.gauss(p.daily_reads, p.daily_reads / 6)))
            read = 0
            while read < target:
                size = 1 if rng.random() < 0.8 else rng.randint(2, 8)
                at = _at(day, rng.randint(9, 18), rng.randint(0, 59), rng.randint(0, 59))
                entry = _read(p, at, _ids(rng, size, pool), rng.choice(p.nets))
                if p.role == "support" and rng.random() < min(0.05, 3 / target):  # a few 要配慮 notes a day
                    entry = AuditEntry(
                        actor=entry.actor,
                        actor_role=entry.actor_role,
                        action=entry.action,
                        purpose="support",
                        subject_ids=entry.subject_ids[:1],
                        fields=("activities", "activities:sensitive", "name"),
                        decision="allow",
                        details=entry.details,
                        at=at,
                    )
                batch.append(entry)
                read += size
            if p.role == "sales" and rng.random() < 0.2:
                batch.append(_denial(p, _at(day, rng.randint(9, 18), rng.randint(0, 59)), rng))
            if p.role == "analyst" and day.weekday() == 2:
                batch.append(
                    _export(p, _at(day, 10, rng.randint(0, 59)), _ids(rng, rng.randint(20, 60), pool))
                )
        batch.sort(key=lambda e: e.at or start)
        yield from batch


def _denial(p: Person, at: datetime, rng: random.Random) -> AuditEntry:
    return AuditEntry(
        actor=p.label,
        actor_role=p.role,
        action="customer.read",
        purpose="contract",
        subject_ids=_ids(rng, 1),
        fields=(),
        decision="deny",
        rule_ids=("R-23-2",),
        reason="out_of_scope",
        details={"via": "session:" + p.label[-12:], "net": p.nets[0]},
        at=at,
    )


def _export(p: Person, at: datetime, subjects: Sequence[str]) -> AuditEntry:
    return AuditEntry(
        actor=p.label,
        actor_role=p.role,
        action="contact.list",
        purpose="marketing",
        subject_ids=tuple(subjects),
        fields=("phones",),
        decision="allow",
        details={"channel": "phone", "net": p.nets[0], "via": "session:" + p.label[-12:]},
        at=at,
    )


@dataclass(frozen=True)
class Planted:
    """Who did what, for the test to compare the alerts with."""

    evening_reader: Person
    evening_day: date
    prober: Person
    probe_day: date
    exporter: Person
    export_day: date
    leaver: Person
    leaver_day: date


def plant(
    rng: random.Random,
    people: Sequence[Person],
    start: date,
    days: int = 30,
    *,
    pool: Sequence[str] | None = None,
    leaver: Person | None = None,
) -> tuple[Planted, list[AuditEntry]]:
    """The four behaviours of issue 25's test, on business days in the last week of the month:

    - a sales rep reads 400 customers one evening (21:00–22:30 JST), one record at a time;
    - another sales rep is refused 15 times within 20 minutes trying other reps' customers (``out_of_scope``);
    - an analyst exports a contact list of 800 people at 02:00 JST;
    - a leaver's API token is presented three times after the account was disabled."""
    business = [start + timedelta(days=d) for d in range(days) if is_business_day(start + timedelta(days=d))]
    late = business[-5:]
    reps = [p for p in people if p.role == "sales"]
    analysts = [p for p in people if p.role == "analyst"] or reps
    reader, prober = reps[0], reps[1]
    exporter = analysts[0]
    if leaver is None:
        leaver = Person(f"staff:{rng.getrandbits(128):032x}", "sales", (f"n{rng.getrandbits(48):012x}",), 0)
    entries: list[AuditEntry] = []
    evening = late[0]
    for i in range(400):
        entries.append(
            _read(reader, _at(evening, 21, 0) + timedelta(seconds=13 * i), _ids(rng, 1, pool), reader.nets[0])
        )
    probe = late[1]
    for i in range(15):
        entries.append(_denial(prober, _at(probe, 14, 0) + timedelta(seconds=75 * i), rng))
    export = late[2]
    entries.append(_export(exporter, _at(export, 2, 0), _ids(rng, 800, pool)))
    gone = late[3]
    for i in range(3):
        entries.append(
            AuditEntry(
                actor=leaver.label,
                actor_role="sales",
                action="staff.credential_refused",
                purpose=None,
                subject_ids=(),
                fields=(),
                decision="deny",
                reason="account_disabled",
                details={"via": "token:" + leaver.label[-12:], "active": False},
                at=_at(gone, 10, 5 * i),
            )
        )
    return Planted(reader, evening, prober, probe, exporter, export, leaver, gone), entries
