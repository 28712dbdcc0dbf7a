"""Synthetic purchase histories for the demo (issue 24, item 6): repeat buyers, seasonality and churners, so that RFM,
BG/NBD + Gamma-Gamma lifetime value and a churn model have something to find. Fictitious people only.

Called from ``mamori.cli.demo.generate`` once per customer: ``history(rng, now, products=…, inquiries=…)`` returns
that person's purchases, inquiries and calls, oldest first. Deterministic for a seeded ``rng`` and a fixed ``now``;
the demo gives it its own ``random.Random`` (seed + 24) so the rest of the demo data does not move.

The model (one customer; rates are per year, dates in JST):

1. **Kind of customer.** 5 % are prospects who asked a question or two and never bought (inquiries only); 6 % are
   one-time buyers (a gift, a campaign offer: one purchase, then gone); everyone else follows steps 2–5.
2. **Purchase rate** λ ~ Gamma(shape 1.6, mean 6.5 a year), capped at 24: many light buyers (a few purchases a
   year) and a few heavy ones (one or two a month). Buying times form a Poisson process with rate λ·s(month),
   s the seasonal weight of step 5 (drawn by thinning a process at the peak rate).
3. **Dropout** as in BG/NBD: after each purchase the person stops buying for good with probability p, where
   p ~ Beta(1, 14) (mean 1/15; some leave after their first purchase). With step 2's light buyers, about 35–45 %
   of those who first bought over a year ago have not bought in the last 365 days; about 80 % of buyers buy
   more than once.
4. **First purchase** uniformly within the last three years (``YEARS``); the history stops at ``now``: nothing is
   ever in the future.
5. **Seasonality** ``SEASON``: most in December (winter bonus, year end), then July and June (summer bonus) and
   March (new-life season: moving, appliances); fewest in February, then September. December sees about 2.5
   times the purchases of February.
6. **Amounts** as the Gamma-Gamma model assumes: each person has a mean spend m ~ LogNormal(median ¥14,000,
   σ 0.55), independent of how often they buy; each purchase is Gamma(shape 6, mean m), shown as a price ending
   in 80 yen (¥12,980), at least ¥980. Products are drawn from the demo's ``PRODUCTS``.
7. **Inquiries and calls, correlated with churn.** Any purchase is followed, with probability 0.15, by an ordinary
   inquiry (the demo's ``INQUIRIES``: delivery, returns, warranty) within 20 days and, with probability 0.05, by a
   call (``CALLS``). A person who drops out in step 3 first complains with probability 0.7: one to three inquiries
   or calls about faults, late deliveries or leaving the membership (``COMPLAINTS``) within 45 days either side of
   the last purchase. About half of the lapsed customers have such a complaint, against one in seven of the
   others: a planted churn signal. Age and gender play no part in any step.

On average a customer has about 8 activities; ``tests/cli/test_demo_purchases.py`` holds the shares above.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

from mamori.customers.schemas import ActivityIn

JST = timezone(timedelta(hours=9))
YEARS = 3
PROSPECT_SHARE = 0.05  # inquiries only, no purchase
ONE_TIME_SHARE = 0.06  # one purchase, then gone
RATE_SHAPE, RATE_MEAN, RATE_CAP = 1.6, 6.5, 24.0  # purchases a year: Gamma(shape, mean), capped
DROPOUT_A, DROPOUT_B = 1.0, 14.0  # per-purchase dropout probability ~ Beta(a, b)
SPEND_MEDIAN, SPEND_SIGMA, SPEND_SHAPE = 14_000.0, 0.55, 6.0  # personal mean ~ LogNormal; purchase ~ Gamma
INQUIRY_AFTER_PURCHASE, CALL_AFTER_PURCHASE, COMPLAINS_BEFORE_LEAVING = 0.15, 0.05, 0.7

# Relative purchases per month (January … December); scaled below so the year averages 1.
_WEIGHTS = (0.9, 0.55, 1.15, 0.9, 0.9, 1.25, 1.35, 1.0, 0.75, 0.9, 1.05, 1.75)
SEASON: tuple[float, ...] = tuple(w * 12 / sum(_WEIGHTS) for w in _WEIGHTS)
_PEAK = max(SEASON)

# Hour of day (JST) of a purchase or contact: shop and call-centre hours, evenings for the web shop.
_HOURS = tuple(range(9, 24))
_HOUR_WEIGHTS = (2, 3, 4, 4, 5, 4, 4, 4, 4, 5, 6, 7, 7, 6, 3)

CALLS = [
    "お客様より電話。注文内容の変更を受け付けた。",
    "お客様より電話。商品の使い方について説明した。",
    "購入後のフォローの電話。問題なしとのこと。",
]
COMPLAINTS: list[tuple[Literal["inquiry", "call"], str]] = [
    ("inquiry", "購入した商品が故障した。修理の受付と代替機の手配を案内。"),
    ("inquiry", "配送の遅れについて苦情。お詫びし、配送状況を確認して回答。"),
    ("call", "お客様より電話。初期不良で交換を希望、不満が大きい様子。"),
    ("call", "お客様より電話。修理が長引いていることへの苦情。"),
    ("inquiry", "会員の退会方法について問い合わせ。手続きを案内。"),
    ("inquiry", "請求金額の誤りについて苦情。差額の返金を手配。"),
]


def history(
    rng: random.Random, now: datetime, *, products: Sequence[str], inquiries: Sequence[str]
) -> list[ActivityIn]:
    """One customer's activities (purchases, inquiries, calls) before ``now``, oldest first (see the module)."""
    start = now - timedelta(days=YEARS * 365)
    first = start + (now - start) * rng.random()
    roll = rng.random()
    if roll < PROSPECT_SHARE:
        count = 1 + int(rng.random() < 0.4)
        asked = [_at(rng, first + timedelta(days=rng.uniform(0, 60)), now) for _ in range(count)]
        times = sorted(t for t in asked if t is not None)
        return [ActivityIn(kind="inquiry", body=rng.choice(inquiries), occurred_at=t) for t in times]
    one_time = roll < PROSPECT_SHARE + ONE_TIME_SHARE
    rate = min(rng.gammavariate(RATE_SHAPE, RATE_MEAN / RATE_SHAPE), RATE_CAP)
    dropout = rng.betavariate(DROPOUT_A, DROPOUT_B)
    spend = SPEND_MEDIAN * math.exp(rng.gauss(0.0, SPEND_SIGMA))

    bought: list[datetime] = []
    left = one_time
    t: datetime | None = first
    while t is not None and (when := _at(rng, t, now)) is not None:
        bought.append(when)
        if left or rng.random() < dropout:
            left = True
            break
        t = _next_purchase(rng, t, now, rate)

    acts = [
        ActivityIn(kind="purchase", body=rng.choice(products), amount=_price(rng, spend), occurred_at=when)
        for when in bought
    ]
    for when in bought:  # ordinary after-sales contacts
        if rng.random() < INQUIRY_AFTER_PURCHASE:
            at = _at(rng, when + timedelta(days=rng.uniform(0, 20)), now)
            if at:
                acts.append(ActivityIn(kind="inquiry", body=rng.choice(inquiries), occurred_at=at))
        if rng.random() < CALL_AFTER_PURCHASE:
            at = _at(rng, when + timedelta(days=rng.uniform(1, 40)), now)
            if at:
                acts.append(ActivityIn(kind="call", body=rng.choice(CALLS), occurred_at=at))
    if left and not one_time and rng.random() < COMPLAINS_BEFORE_LEAVING:  # the churn signal
        last = bought[-1]
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            kind, body = rng.choice(COMPLAINTS)
            at = _at(rng, last + timedelta(days=rng.uniform(-45, 45)), now)
            if at:
                acts.append(ActivityIn(kind=kind, body=body, occurred_at=at))
    acts.sort(key=lambda a: a.occurred_at or now)
    return acts


def _next_purchase(rng: random.Random, t: datetime, now: datetime, rate: float) -> datetime | None:
    """The next buying time after ``t`` of a Poisson process with rate ``rate``·SEASON[month] a year (thinning
    of a process at the peak rate); None once past ``now``."""
    per_day = rate * _PEAK / 365.0
    while True:
        t = t + timedelta(days=rng.expovariate(per_day))
        if t >= now:
            return None
        if rng.random() * _PEAK < SEASON[t.astimezone(JST).month - 1]:
            return t


def _at(rng: random.Random, day: datetime, now: datetime) -> datetime | None:
    """``day`` (JST) at a shop-hours time of day, in UTC; None if that is not before ``now``."""
    local = day.astimezone(JST)
    hour = rng.choices(_HOURS, _HOUR_WEIGHTS)[0]
    at = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
    at = at.astimezone(UTC)
    return at if at < now else None


def _price(rng: random.Random, mean: float) -> int:
    """A purchase amount around the person's mean spend (Gamma), as a price ending in 80 yen, at least ¥980."""
    amount = rng.gammavariate(SPEND_SHAPE, mean / SPEND_SHAPE)
    return max(980, round(amount / 100) * 100 - 20)


def replay_old_draws(rng: random.Random, products: Sequence[str], inquiries: Sequence[str]) -> None:
    """Make on ``rng`` exactly the draws the demo's former activity loop made (before issue 24), discarding them:
    the histories now come from their own stream, and the main stream still reaches the rest of the customer (its
    owner, its consents, the next customer) in the same state, so every other demo outcome stays as it was."""
    for _ in range(rng.randint(1, 6)):
        rng.randint(1, 900)
        rng.randint(0, 1440)
        if rng.random() < 0.6:
            rng.choice(products)
            rng.randrange(1980, 89800, 10)
        else:
            rng.choice(inquiries)
