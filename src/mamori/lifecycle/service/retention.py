"""Retention and disposal (issue 21, R-22-1: erase personal data once it is no longer needed; R-23-4: keep a
record of the disposal; R-29-4: provision records keep their own retention).

Rules
-----
A rule says how long the data serving a purpose (``*``: any purpose without a rule of its own) is kept, for the
whole person (category ``*``) or for one data category (identifier / contact / attribute / behaviour /
sensitive), counted from

- ``relationship_end``: ``Customer.relationship_ended_at`` (``mamori customers end-relationship``); a person whose
  relationship has not ended is never due under such a rule;
- ``last_activity``: the latest of the customer's creation, last update, last confirmation of accuracy and
  latest activity (purchase, inquiry, call, note) — see ``customers.service.relationship.retention_facts``.

One active rule per (purpose, category); a retired rule no longer counts.

Who is due
----------
The purposes that keep a person are the purposes they were notified of (``customer_purposes``), all of them: a
stop-use (R-35-1) or a retired purpose does not shorten the retention its rule sets (the person's way to have
the data erased earlier is an erasure request). A person notified of nothing is kept under the ``*`` rule.

- Whole person: each of the person's purposes keeps them until its rule (its own, else ``*``) runs out; the
  person is due when every one has run out. A purpose with no rule at all (and no ``*`` rule) keeps the person
  indefinitely: persons no rule covers are never disposed of (counted as ``uncovered``).
- One category (a kept person): each of the person's purposes whose notified version covers the category keeps
  it until its category rule (its own, else the ``*`` purpose's rule for that category) runs out; a purpose
  covering the category with no category rule keeps it as long as it keeps the person. The category is due when
  every purpose that covers it has let go (and at least one category rule applied).

Holds (each reported with its code and rule id): every registered ``RetentionHoldProvider`` (the rights slice:
an open request from the person; an incidents slice, when there is one: an open incident) and the privacy
officer's legal holds. A held person is left whole (no category is deleted either).

A run crypto-shreds the due persons through every subject source (``registry.erase_subjects``: the sources'
batch ``erase_many``) in batches, forgets the mail queue's content about them, deletes the due categories of
kept persons, and writes one disposal record (廃棄記録): counts per source and category, persons, when, by
whom, how, the plan's sha256 — never a value.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from mamori.customers.service import relationship as customer_relationship
from mamori.customers.service import subjects as customer_subjects
from mamori.kernel import mail, registry
from mamori.kernel.auditing import authorise, record_info, record_write
from mamori.kernel.context import SYSTEM_ACTOR, Context
from mamori.kernel.db import chunks, new_id
from mamori.kernel.errors import Conflict, NotFound, ValidationFailed
from mamori.kernel.policy import Resource
from mamori.kernel.registry import Hold
from mamori.law.rules import R_22_1, R_29_4
from mamori.lifecycle import queries
from mamori.lifecycle.models import DisposalRecord, RetentionRule
from mamori.lifecycle.permissions import RETENTION_DISPOSE, RETENTION_MANAGE
from mamori.lifecycle.retention_schemas import (
    DisposalRead,
    PlanCategory,
    PlanDetail,
    PlanDue,
    PlanHeld,
    PlanHold,
    PlanKept,
    PlanRule,
    ProvisionKept,
    RetentionPlan,
    RuleCreate,
    RuleRead,
)
from mamori.lifecycle.service import holds
from mamori.purposes import service as purposes_service
from mamori.rights.service import forget as rights_forget
from mamori.rights.service import holds as rights_holds

if TYPE_CHECKING:
    from mamori.kernel.runtime import Runtime

BATCH = 500  # persons per erase_subjects call
MAIL_BATCH = 100  # persons per mail.forget call (one LIKE per person in its query)
Progress = Callable[[int, int], None]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# -- rules ------------------------------------------------------------------------------------------------------


def _rule_read(row: RetentionRule) -> RuleRead:
    return RuleRead(
        id=row.id,
        purpose=row.purpose_code,
        category=row.category,
        days=row.period_days,
        basis=row.basis,
        note=row.note,
        created_at=row.created_at,
        created_by=row.created_by,
        retired_at=row.retired_at,
        retired_by=row.retired_by,
    )


def _active_rules(ctx: Context) -> list[RetentionRule]:
    return list(
        ctx.session.execute(
            select(RetentionRule)
            .where(RetentionRule.retired_at.is_(None))
            .order_by(RetentionRule.created_at, RetentionRule.id)
        ).scalars()
    )


def add_rule(ctx: Context, data: RuleCreate) -> RuleRead:
    """A retention period for a purpose (``*`` any) and a category (``*`` the whole person); R-22-1."""
    authorise(ctx, RETENTION_MANAGE, Resource(kind="retention_rule"))
    if data.purpose != "*" and purposes_service.facts(ctx, data.purpose) is None:
        raise ValidationFailed(
            "その利用目的は登録されていません。",
            "No such purpose.",
            code="purpose_unknown",
            details={"purpose": data.purpose},
        )
    for row in _active_rules(ctx):
        if row.purpose_code == data.purpose and row.category == data.category:
            raise Conflict(
                "同じ利用目的・データ区分の保存期間が既にあります（先に廃止してください）。",
                "A retention rule for this purpose and category exists; retire it first.",
                code="rule_exists",
                details={"rule_id": row.id},
            )
    row = RetentionRule(
        id=new_id(),
        purpose_code=data.purpose,
        category=data.category,
        period_days=data.days,
        basis=data.basis,
        note=data.note,
        created_at=ctx.clock.now(),
        created_by=ctx.actor.label,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx,
        "retention.rule_add",
        [],
        [],
        rule_ids=(R_22_1.id,),
        details={
            "rule_id": row.id,
            "purpose": row.purpose_code,
            "category": row.category,
            "days": row.period_days,
            "basis": row.basis,
        },
    )
    return _rule_read(row)


_ID = re.compile(r"[0-9a-f]{32}")  # a rule id (new_id); anything else is no rule


def list_rules(ctx: Context, *, include_retired: bool = False) -> list[RuleRead]:
    authorise(ctx, RETENTION_MANAGE, Resource(kind="retention_rule"))
    stmt = select(RetentionRule).order_by(RetentionRule.created_at, RetentionRule.id)
    if not include_retired:
        stmt = stmt.where(RetentionRule.retired_at.is_(None))
    return [_rule_read(r) for r in ctx.session.execute(stmt).scalars()]


def retire_rule(ctx: Context, rule_id: str) -> RuleRead:
    authorise(ctx, RETENTION_MANAGE, Resource(kind="retention_rule"))
    row = ctx.session.get(RetentionRule, rule_id) if _ID.fullmatch(rule_id or "") else None
    if row is None:
        raise NotFound("保存期間のルールが見つかりません。", "No such retention rule.", code="rule_not_found")
    if row.retired_at is not None:
        raise Conflict("このルールは廃止済みです。", "This rule was already retired.", code="rule_retired")
    row.retired_at = ctx.clock.now()
    row.retired_by = ctx.actor.label
    ctx.session.flush()
    record_write(ctx, "retention.rule_retire", [], [], rule_ids=(R_22_1.id,), details={"rule_id": row.id})
    return _rule_read(row)


# -- the plan ---------------------------------------------------------------------------------------------------

_UNCOVERED = "uncovered"


@dataclass
class _Computed:
    at: datetime
    rules: list[RetentionRule]
    checked: int = 0
    uncovered: int = 0
    due: dict[str, str] = field(default_factory=dict)  # person -> binding rule id
    categories: dict[str, dict[str, str]] = field(default_factory=dict)  # person -> category -> rule id
    held: dict[str, Hold] = field(default_factory=dict)
    kept: dict[str, tuple[int, datetime]] = field(default_factory=dict)  # person -> (records, until)

    def sha256(self) -> str:
        # what is disposed of and why, not when: the plan an officer saw and the run that followed it hash alike
        # when nobody changed in between
        body = {
            "rules": sorted(r.id for r in self.rules),
            "due": sorted(self.due.items()),
            "categories": sorted((c, k, r) for c, cats in self.categories.items() for k, r in cats.items()),
            "held": sorted((c, h.code) for c, h in self.held.items()),
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _base(rule: RetentionRule, facts: customer_relationship.RetentionFacts) -> datetime | None:
    if rule.basis == "relationship_end":
        return facts.relationship_ended_at
    return facts.last_activity_at


def _keep_until(
    rules: Iterable[RetentionRule | None], facts: customer_relationship.RetentionFacts
) -> tuple[datetime, str] | str | None:
    """The latest end of the rules' periods, with the rule that sets it; None when one of them has not started
    (a relationship that has not ended); ``_UNCOVERED`` when a purpose has no rule."""
    latest: tuple[datetime, str] | None = None
    for rule in rules:
        if rule is None:
            return _UNCOVERED
        base = _base(rule, facts)
        if base is None:
            return None
        until = base + timedelta(days=rule.period_days)
        if latest is None or until > latest[0]:
            latest = (until, rule.id)
    return latest


class _PurposeCategories:
    """The categories each notified purpose version covers (cached: few purposes, many people)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.cache: dict[tuple[str, int], frozenset[str]] = {}

    def covers(self, code: str, version: int, category: str) -> bool:
        key = (code, version)
        if key not in self.cache:
            facts = purposes_service.facts_for_version(self.ctx, code, version)
            self.cache[key] = (
                frozenset(str(c) for c in facts.categories) if facts is not None else frozenset()
            )
        return category in self.cache[key]


def _compute(ctx: Context, at: datetime) -> _Computed:
    rules = _active_rules(ctx)
    out = _Computed(at=at, rules=rules)
    if not rules:
        return out
    whole = {r.purpose_code: r for r in rules if r.category == "*"}
    by_category: dict[str, dict[str, RetentionRule]] = {}
    for r in rules:
        if r.category != "*":
            by_category.setdefault(r.category, {})[r.purpose_code] = r
    covers = _PurposeCategories(ctx)
    for page in customer_relationship.retention_facts(ctx):
        ids = [f.customer_id for f in page]
        notified: dict[str, list[tuple[str, int]]] = {}
        for chunk in chunks(ids):
            for cid, code, version, _method in customer_subjects.notified_purposes(ctx, chunk):
                notified.setdefault(cid, []).append((code, version))
        for facts in page:
            out.checked += 1
            cid = facts.customer_id
            purposes = notified.get(cid, [])
            codes = sorted({code for code, _ in purposes}) or ["*"]
            kept = _keep_until((whole.get(c) or whole.get("*") for c in codes), facts)
            if kept == _UNCOVERED:
                out.uncovered += 1
            elif isinstance(kept, tuple) and kept[0] <= at:
                out.due[cid] = kept[1]
                continue
            for category, table in by_category.items():
                covering = [(c, v) for c, v in purposes if covers.covers(c, v, category)] or (
                    [] if purposes else [("*", 0)]
                )
                chosen = [table.get(c) or table.get("*") for c, _ in covering]
                if not covering or all(r is None for r in chosen):
                    continue
                # a covering purpose without a category rule keeps the category as long as it keeps the person
                fallback = [
                    r or whole.get(c) or whole.get("*") for r, (c, _) in zip(chosen, covering, strict=True)
                ]
                until = _keep_until(fallback, facts)
                if isinstance(until, tuple) and until[0] <= at:
                    binding = next((r.id for r in chosen if r is not None and r.id == until[1]), None)
                    out.categories.setdefault(cid, {})[category] = binding or next(
                        r.id for r in chosen if r is not None
                    )
    candidates = sorted(set(out.due) | set(out.categories))
    if candidates:
        found: dict[str, Hold] = {}
        for provider in registry.retention_holds():
            for chunk in chunks(candidates):
                for cid, hold in provider.held(ctx, chunk).items():
                    found.setdefault(cid, hold)
        for cid, hold in holds.held(ctx, candidates).items():
            found.setdefault(cid, hold)
        out.held = found
        for cid in found:
            out.due.pop(cid, None)
            out.categories.pop(cid, None)
    for chunk in chunks(sorted(out.due)):
        for kept_id, n, kept_until in ctx.session.execute(queries.kept_provision_records(chunk)).all():
            out.kept[str(kept_id)] = (int(n), _aware(kept_until))
    return out


def _plan(c: _Computed, *, detail: bool) -> RetentionPlan:
    per_rule: dict[str, int] = {}
    for rid in c.due.values():
        per_rule[rid] = per_rule.get(rid, 0) + 1
    for cats in c.categories.values():
        for rid in set(cats.values()):
            per_rule[rid] = per_rule.get(rid, 0) + 1
    holds_by: dict[tuple[str, str], int] = {}
    for hold in c.held.values():
        holds_by[(hold.code, hold.rule_id)] = holds_by.get((hold.code, hold.rule_id), 0) + 1
    untils = [u for _, u in c.kept.values()]
    return RetentionPlan(
        at=c.at,
        rules=[
            PlanRule(
                rule_id=r.id,
                purpose=r.purpose_code,
                category=r.category,
                days=r.period_days,
                basis=r.basis,
                due=per_rule.get(r.id, 0),
            )
            for r in c.rules
        ],
        persons_checked=c.checked,
        due=len(c.due),
        category_due=len(c.categories),
        held=[PlanHold(code=k, rule_id=r, persons=n) for (k, r), n in sorted(holds_by.items())],
        uncovered=c.uncovered,
        provision_kept=ProvisionKept(
            persons=len(c.kept),
            records=sum(n for n, _ in c.kept.values()),
            earliest_until=min(untils) if untils else None,
            latest_until=max(untils) if untils else None,
        ),
        sha256=c.sha256(),
        detail=PlanDetail(
            due=[PlanDue(customer_id=k, rule_id=v) for k, v in sorted(c.due.items())],
            held=[PlanHeld(customer_id=k, code=h.code, rule_id=h.rule_id) for k, h in sorted(c.held.items())],
            provision=[PlanKept(customer_id=k, records=n, until=u) for k, (n, u) in sorted(c.kept.items())],
            categories=[
                PlanCategory(customer_id=k, category=cat, rule_id=rid)
                for k, cats in sorted(c.categories.items())
                for cat, rid in sorted(cats.items())
            ],
        )
        if detail
        else None,
    )


def plan(ctx: Context, *, at: datetime | None = None, detail: bool = False) -> RetentionPlan:
    """What a run at ``at`` (default now) would dispose of and why: per rule the persons due, per hold code the
    persons held, the provision records kept after the disposal (R-29-4) with their retention end. Reads dates
    and ids only; ``detail`` adds the customer ids (the privacy officer's --json)."""
    authorise(ctx, RETENTION_MANAGE, Resource(kind="retention_plan"))
    computed = _compute(ctx, _aware(at) if at is not None else ctx.clock.now())
    result = _plan(computed, detail=detail)
    record_info(
        ctx,
        "retention.plan",
        sorted(set(computed.due) | set(computed.categories) | set(computed.held)) if detail else (),
        details={
            "due": result.due,
            "category_due": result.category_due,
            "held": len(computed.held),
            "detail": detail,
            "sha256": result.sha256,
        },
    )
    return result


# -- the run ----------------------------------------------------------------------------------------------------


def _disposal_read(row: DisposalRecord) -> DisposalRead:
    return DisposalRead(
        id=row.id,
        ran_at=row.ran_at,
        ran_by=row.ran_by,
        trigger=row.trigger,
        method=row.method,
        persons=row.persons,
        counts=json.loads(row.counts),
        held=json.loads(row.held),
        rules=json.loads(row.rules),
        plan_sha256=row.plan_sha256,
        job_run_id=row.job_run_id,
    )


def run(
    ctx: Context,
    *,
    trigger: str = "manual",
    job_run_id: str | None = None,
    progress: Progress | None = None,
    expected_sha256: str | None = None,
) -> DisposalRead:
    """Dispose of what the plan says now (R-22-1) and write the disposal record (R-23-4); see the module doc.

    ``expected_sha256``: the plan the officer confirmed; when what is due changed since (a new rule, a hold, a
    request), nothing is disposed of (Conflict ``plan_changed``) — show the plan again."""
    authorise(ctx, RETENTION_DISPOSE, Resource(kind="retention_run"))
    if trigger not in ("manual", "scheduled"):
        raise ValidationFailed("不明な起動方法です。", "Unknown trigger.", code="bad_trigger")
    computed = _compute(ctx, ctx.clock.now())
    if expected_sha256 is not None and expected_sha256 != computed.sha256():
        raise Conflict(
            "確認した廃棄計画から変わりました。計画を確認し直してください。",
            "The plan changed since it was confirmed; review it again.",
            rule_id=R_22_1.id,
            code="plan_changed",
        )
    due = sorted(computed.due)
    total = len(due) + len(computed.categories)
    counts: dict[str, int] = {}
    done = 0
    if progress is not None:
        progress(0, total)
    for batch in chunks(due, BATCH):
        # persons a (closed) request reached: what the rights slice holds under their identifiers is traced while
        # it can still be read, and forgotten after, as the rights erasure does (keyed digests, request keys)
        requested = rights_holds.persons_with_requests(ctx, batch)
        trace = rights_forget.trace_person(ctx, sorted(requested)) if requested else None
        for source, n in registry.erase_subjects(ctx, list(batch)).items():
            counts[source] = counts.get(source, 0) + n
        for part in chunks(list(batch), MAIL_BATCH):
            forgotten = mail.forget(ctx, subject_ids=part)
            counts["mail_messages"] = counts.get("mail_messages", 0) + forgotten
        if trace is not None:
            counts["mail_messages"] += mail.forget(ctx, request_ids=trace.requests)
            scrubbed, throttles, keys = rights_forget.forget_person(ctx, trace)
            counts["rights_identifiers_scrubbed"] = counts.get("rights_identifiers_scrubbed", 0) + scrubbed
            counts["rights_request_keys_destroyed"] = counts.get("rights_request_keys_destroyed", 0) + keys
        done += len(batch)
        if progress is not None:
            progress(done, total)
    if computed.categories:
        deleted = customer_relationship.dispose_categories(
            ctx, {cid: sorted(cats) for cid, cats in computed.categories.items()}
        )
        for cat, n in deleted.items():
            counts[f"category:{cat}"] = n
        done += len(computed.categories)
        if progress is not None:
            progress(done, total)
    methods = (["crypto_shred"] if due or not computed.categories else []) + (
        ["category_delete"] if computed.categories else []
    )
    per_rule: dict[str, int] = {}
    for rid in computed.due.values():
        per_rule[rid] = per_rule.get(rid, 0) + 1
    for cats in computed.categories.values():
        for rid in set(cats.values()):
            per_rule[rid] = per_rule.get(rid, 0) + 1
    held: dict[str, int] = {}
    for hold in computed.held.values():
        held[hold.code] = held.get(hold.code, 0) + 1
    if computed.kept:  # R-29-4: their provision records stay, sealed under a system key, until their own end
        counts["provision_records_kept"] = sum(n for n, _ in computed.kept.values())
    row = DisposalRecord(
        id=new_id(),
        ran_at=ctx.clock.now(),
        ran_by=ctx.actor.label,
        trigger=trigger,
        method="+".join(methods),
        persons=len(due),
        counts=json.dumps(dict(sorted(counts.items()))),
        held=json.dumps(dict(sorted(held.items()))),
        rules=json.dumps(dict(sorted(per_rule.items()))),
        plan_sha256=computed.sha256(),
        job_run_id=job_run_id,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx,
        "retention.dispose",
        sorted(set(due) | set(computed.categories)),
        ["*"],
        rule_ids=(R_22_1.id, R_29_4.id) if computed.kept else (R_22_1.id,),
        details={
            "disposal_id": row.id,
            "persons": len(due),
            "categories": len(computed.categories),
            "held": len(computed.held),
            "trigger": trigger,
        },
    )
    return _disposal_read(row)


def disposals(ctx: Context, *, limit: int = 100) -> list[DisposalRead]:
    """The disposal records (廃棄記録), newest first."""
    authorise(ctx, RETENTION_MANAGE, Resource(kind="disposal_record"))
    rows = ctx.session.execute(
        select(DisposalRecord).order_by(DisposalRecord.ran_at.desc(), DisposalRecord.id).limit(limit)
    ).scalars()
    return [_disposal_read(r) for r in rows]


def scheduled_run(rt: Runtime, *, job_run_id: str) -> Mapping[str, object]:
    """The scheduler's retention job: a run as the system actor (trigger "scheduled"); counts only."""
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        record = run(ctx, trigger="scheduled", job_run_id=job_run_id)
    return {"disposal_id": record.id, "persons": record.persons, "held": sum(record.held.values())}
