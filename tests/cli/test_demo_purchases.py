"""Issue 24 (6): the demo's synthetic purchase histories have repeat buyers, seasons and churners (the model is in
``mamori.cli.demo_purchases``). The generator alone, with a fixed ``now``: no store, fast.

Bands stated here (3,000 customers, two seeds; twelve seeds fall well inside them):
repeat buyers 70–88 % of buyers · customers with no purchase in the last 365 days 30–50 % of those who first bought
over a year ago · December ≥ 1.8 × February, February the quietest month · 6–12 activities a customer."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mamori.cli import demo_purchases
from mamori.cli.demo import INQUIRIES, PRODUCTS
from mamori.customers.schemas import ActivityIn

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
YEAR_AGO = NOW - timedelta(days=365)
JST = timezone(timedelta(hours=9))
CUSTOMERS = 3000


def histories(seed: int, n: int = CUSTOMERS) -> list[list[ActivityIn]]:
    rng = random.Random(seed)
    return [demo_purchases.history(rng, NOW, products=PRODUCTS, inquiries=INQUIRIES) for _ in range(n)]


@pytest.fixture(scope="module", params=[20261123 + 24, 7])  # the demo's own stream, and another seed
def people(request) -> list[list[ActivityIn]]:
    return histories(request.param)


def purchases(history: list[ActivityIn]) -> list[ActivityIn]:
    return [a for a in history if a.kind == "purchase"]


def when(a: ActivityIn) -> datetime:
    assert a.occurred_at is not None
    return a.occurred_at


def test_most_buyers_buy_again_a_few_only_once_and_some_never_buy(people):
    counts = [len(purchases(h)) for h in people]
    buyers = [c for c in counts if c > 0]
    repeat = sum(1 for c in buyers if c >= 2) / len(buyers)
    once = sum(1 for c in buyers if c == 1) / len(buyers)
    assert 0.70 <= repeat <= 0.88, repeat
    assert 0.12 <= once <= 0.30, once  # a few one-time buyers
    prospects = counts.count(0) / len(counts)
    assert 0.02 <= prospects <= 0.08, prospects  # asked, never bought
    # a few heavy buyers: the top tenth of buyers make over 30 % of the purchases (equal rates would give ≈ 20 %)
    ranked = sorted(buyers, reverse=True)
    assert sum(ranked[: len(ranked) // 10]) / sum(ranked) > 0.30
    assert max(buyers) >= 20


def test_december_sells_more_than_february_and_february_is_the_quietest_month(people):
    by_month = Counter(when(a).astimezone(JST).month for h in people for a in purchases(h))
    assert by_month[12] / by_month[2] >= 1.8, (by_month[12], by_month[2])
    assert min(by_month, key=lambda m: by_month[m]) == 2
    assert by_month[7] > by_month[2] and by_month[6] > by_month[2]  # the summer bonus months


def test_a_visible_share_of_earlier_buyers_has_not_bought_for_a_year(people):
    earlier = [p for h in people if (p := purchases(h)) and when(p[0]) < YEAR_AGO]
    assert len(earlier) > CUSTOMERS // 2
    lapsed = sum(1 for p in earlier if when(p[-1]) < YEAR_AGO) / len(earlier)
    assert 0.30 <= lapsed <= 0.50, lapsed


def test_complaints_come_before_leaving(people):
    """The planted churn signal: a lapsed customer complained (faults, delays, leaving) far more often."""
    complaint = {body for _, body in demo_purchases.COMPLAINTS}

    def complained(h: list[ActivityIn]) -> bool:
        return any(a.body in complaint for a in h)

    earlier = [(h, p) for h in people if (p := purchases(h)) and when(p[0]) < YEAR_AGO]
    lapsed = [h for h, p in earlier if when(p[-1]) < YEAR_AGO]
    active = [h for h, p in earlier if when(p[-1]) >= YEAR_AGO]
    share_lapsed = sum(map(complained, lapsed)) / len(lapsed)
    share_active = sum(map(complained, active)) / len(active)
    assert share_lapsed >= 0.3 and share_lapsed >= 2 * share_active, (share_lapsed, share_active)
    kinds = Counter(a.kind for h in people for a in h)
    assert kinds["inquiry"] > 0 and kinds["call"] > 0


def test_no_date_in_the_future_and_all_within_about_three_years(people):
    earliest = NOW - timedelta(
        days=3 * 365 + 46
    )  # first purchase within 3 years; a complaint up to 45 days before
    for h in people:
        dates = [when(a) for a in h]
        assert all(earliest <= d < NOW for d in dates)
        assert dates == sorted(dates)  # oldest first
        assert all(d.tzinfo is not None for d in dates)


def test_six_to_twelve_activities_a_customer_on_average(people):
    assert 6 <= sum(len(h) for h in people) / len(people) <= 12


def test_amounts_are_prices_around_a_personal_mean_and_products_from_the_demo_list(people):
    bought = [a for h in people for a in purchases(h)]
    assert all(a.amount is not None and a.amount >= 980 and a.amount % 100 == 80 for a in bought)
    assert {a.body for a in bought} == set(PRODUCTS)
    # Gamma-Gamma's assumption: how much a person spends does not follow how often they buy (|r| < 0.1)
    rows = [(len(p), sum(a.amount or 0 for a in p) / len(p)) for h in people if len(p := purchases(h)) >= 2]
    n = len(rows)
    mx = sum(f for f, _ in rows) / n
    my = sum(m for _, m in rows) / n
    cov = sum((f - mx) * (m - my) for f, m in rows)
    r = cov / (sum((f - mx) ** 2 for f, _ in rows) * sum((m - my) ** 2 for _, m in rows)) ** 0.5
    assert abs(r) < 0.1, r
    # and people differ: the spread of personal means is wide (tenth to ninetieth percentile more than 2×)
    means = sorted(m for _, m in rows)
    assert means[9 * n // 10] > 2 * means[n // 10]


def test_the_same_seed_gives_the_same_histories_and_another_seed_others():
    def dump(hs: list[list[ActivityIn]]) -> list[list[dict]]:
        return [[a.model_dump() for a in h] for h in hs]

    assert dump(histories(11, 200)) == dump(histories(11, 200))
    assert dump(histories(11, 200)) != dump(histories(12, 200))


def test_the_main_stream_makes_the_draws_of_the_former_activity_loop():
    """demo.py replays on its main rng the draws the loop before issue 24 made, so owners, consents and the next
    customers stay as they were. The former loop, as it was:"""

    def former_loop(rng: random.Random) -> None:
        for _ in range(rng.randint(1, 6)):
            rng.randint(1, 900)
            rng.randint(0, 1440)
            if rng.random() < 0.6:
                ActivityIn(kind="purchase", body=rng.choice(PRODUCTS), amount=rng.randrange(1980, 89800, 10))
            else:
                ActivityIn(kind="inquiry", body=rng.choice(INQUIRIES))

    old, new = random.Random(20261123), random.Random(20261123)
    for _ in range(50):
        former_loop(old)
        demo_purchases.replay_old_draws(new, PRODUCTS, INQUIRIES)
        assert old.getstate() == new.getstate()
