"""The monitoring slice's statements over the audit log's own database (issue 25).

The audit log is read on its own engine (``ctx.runtime.audit.engine``), never through the data store's session.
One aggregate pass (:func:`hourly`) groups the entries by actor, role, UTC hour, action, decision, reason and
network tag, with the number of people each group names (counted from the JSON list's commas — ids never hold
one), the 要配慮 reads and the largest single entry; every signal is computed from those groups. The entries an
alert names are then fetched per actor through the (actor, at) index (:func:`entry_seqs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, and_, case, cast, func, literal, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from mamori.kernel.audit.chain import format_at
from mamori.kernel.audit.models import ENTRIES
from mamori.monitoring.signals import SENSITIVE_FIELDS

NET_KEY = '"net":"'
NET_LENGTH = 13  # "n" + 12 hex (kernel.http.deps.network_tag)


def people_count() -> ColumnElement[Any]:
    """How many subject ids an entry names: commas + 1 in the canonical JSON list, 0 for ``[]``."""
    ids = ENTRIES.c.subject_ids
    return case(
        (ids == "[]", literal(0)),
        else_=func.length(ids) - func.length(func.replace(ids, ",", "")) + 1,
    )


def _net(dialect: str) -> ColumnElement[Any]:
    """The network tag in the details' canonical JSON (NULL when the entry has none)."""
    details = ENTRIES.c.details
    find = func.strpos(details, NET_KEY) if dialect == "postgresql" else func.instr(details, NET_KEY)
    return case((find > 0, func.substr(details, find + len(NET_KEY), NET_LENGTH)), else_=None)


def hourly(
    engine: Engine,
    *,
    after_seq: int | None = None,
    upto_seq: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Any]:
    """The aggregate groups of the entries in a seq range or a time range (both bounds optional)."""
    hour = func.substr(ENTRIES.c.at, 1, 13).label("hour")
    net = _net(engine.dialect.name).label("net")
    people = people_count()
    sensitive = case(
        *[(ENTRIES.c.fields.like(f'%"{name}"%'), literal(1)) for name in SENSITIVE_FIELDS], else_=literal(0)
    )
    stmt: Select[Any] = select(
        ENTRIES.c.actor,
        ENTRIES.c.actor_role,
        hour,
        ENTRIES.c.action,
        ENTRIES.c.decision,
        ENTRIES.c.reason,
        net,
        func.count().label("n"),
        func.sum(people).label("people"),
        func.max(people).label("max_people"),
        func.sum(sensitive).label("sensitive"),
        func.max(ENTRIES.c.seq).label("last_seq"),
    )
    conditions = []
    if after_seq is not None:
        conditions.append(ENTRIES.c.seq > after_seq)
    if upto_seq is not None:
        conditions.append(ENTRIES.c.seq <= upto_seq)
    if since is not None:
        conditions.append(ENTRIES.c.at >= format_at(since))
    if until is not None:
        conditions.append(ENTRIES.c.at < format_at(until))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    stmt = stmt.group_by(
        ENTRIES.c.actor,
        ENTRIES.c.actor_role,
        hour,
        ENTRIES.c.action,
        ENTRIES.c.decision,
        ENTRIES.c.reason,
        net,
    )
    with engine.connect() as conn:
        return list(conn.execute(stmt).all())


def max_seq(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(ENTRIES.c.seq), 0))).scalar_one())


def entry_seqs(
    engine: Engine,
    actor: str,
    since: datetime,
    until: datetime,
    *,
    actions: Sequence[str] = (),
    decisions: Sequence[str] = (),
    reasons: Sequence[str] = (),
    min_people: int = 0,
    sensitive: bool = False,
    nets: Sequence[str] = (),
    upto_seq: int | None = None,
    limit: int = 500,
) -> tuple[list[int], int, str | None, str | None]:
    """(the first ``limit`` seqs, how many entries, first at, last at) of one actor's entries in ``[since, until)``
    matching the filters — read through the (actor, at) index."""
    conds: list[ColumnElement[bool]] = [
        ENTRIES.c.actor == actor,
        ENTRIES.c.at >= format_at(since),
        ENTRIES.c.at < format_at(until),
    ]
    if actions:
        conds.append(ENTRIES.c.action.in_(list(actions)))
    if decisions:
        conds.append(ENTRIES.c.decision.in_(list(decisions)))
    if reasons:
        conds.append(ENTRIES.c.reason.in_(list(reasons)))
    if min_people > 0:
        conds.append(cast(people_count(), Integer) >= min_people)
    if sensitive:
        conds.append(or_(*[ENTRIES.c.fields.like(f'%"{n}"%') for n in SENSITIVE_FIELDS]))
    if nets:
        conds.append(_net(engine.dialect.name).in_(list(nets)))
    if upto_seq is not None:
        conds.append(ENTRIES.c.seq <= upto_seq)
    where = and_(*conds)
    with engine.connect() as conn:
        total, first, last = conn.execute(
            select(func.count(), func.min(ENTRIES.c.at), func.max(ENTRIES.c.at)).where(where)
        ).one()
        seqs = [
            int(s)
            for s in conn.execute(
                select(ENTRIES.c.seq).where(where).order_by(ENTRIES.c.at, ENTRIES.c.seq).limit(limit)
            ).scalars()
        ]
    return seqs, int(total or 0), first, last
