"""A store for the analytics tests (issue 24): purposes that do and do not state profiling, a contact purpose that
states it, and customers with purchase histories (loyal recent buyers, lapsed ones, one-time buyers) — plus people
the policy leaves out (not notified, stopped, erased). Synthetic data only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from mamori.consent import service as consent_service
from mamori.customers.schemas import ActivityIn, CustomerCreate, ProvenanceIn
from mamori.customers.service import core as customers_service
from mamori.customers.service import subjects
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.policy import Category
from mamori.kernel.runtime import Runtime
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeCreate
from tests.factories import seed_basics

ANALYSIS = PurposeCreate(
    code="purchase-analysis",
    title_ja="購買履歴の分析",
    title_en="Purchase analysis",
    text_ja="ご購入・お問い合わせの履歴と年代・性別を分析（プロファイリングを含む）し、商品企画に利用します。",
    text_en="We analyse purchase and inquiry history with age band and gender (including profiling) for planning.",
    categories=[Category.ATTRIBUTE, Category.BEHAVIOUR],
    profiling=True,
)
PLANNING = PurposeCreate(
    code="planning-plain",
    title_ja="商品企画",
    title_en="Product planning",
    text_ja="ご購入の履歴を商品企画のための集計に利用します。",
    text_en="We count purchases for product planning.",
    categories=[Category.BEHAVIOUR],
)
RECOMMEND = PurposeCreate(
    code="recommend-call",
    title_ja="購買履歴に基づくおすすめのご案内",
    title_en="Recommendations from purchase history",
    text_ja="ご購入の履歴を分析（プロファイリングを含む）し、おすすめの商品を氏名・電話番号を用いてお電話でご案内します。",
    text_en="We analyse purchase history (including profiling) and call you about recommended products.",
    categories=[Category.IDENTIFIER, Category.CONTACT, Category.BEHAVIOUR],
    channels=["phone"],
    profiling=True,
)
CALLS = PurposeCreate(
    code="plain-calls",
    title_ja="お電話でのご案内",
    title_en="Calls about products",
    text_ja="新商品のご案内のため、氏名・電話番号を用いてお電話でご連絡します。",
    text_en="We call you about new products, using name and phone number.",
    categories=[Category.IDENTIFIER, Category.CONTACT],
    channels=["phone"],
)
AS_OF = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)  # the day before the test clock (2026-11-23)


@dataclass
class World:
    rt: Runtime
    actors: dict[str, Actor]
    ids: dict[str, str] = field(default_factory=dict)
    loyal: list[str] = field(default_factory=list)
    lapsed: list[str] = field(default_factory=list)
    notified: list[str] = field(default_factory=list)


def _history(rng: random.Random, kind: str) -> list[ActivityIn]:
    acts: list[ActivityIn] = []
    if kind == "loyal":  # every month or so, recently
        days = sorted(rng.sample(range(3, 720), rng.randint(10, 16)))
        amounts = (rng.randrange(8000, 20000, 10) for _ in days)
    elif (
        kind == "lapsed"
    ):  # bought a few times, then stopped a year or more ago; asked questions before leaving
        last = rng.randint(400, 650)
        days = sorted(rng.sample(range(last, last + 300), rng.randint(3, 6)))
        amounts = (rng.randrange(3000, 9000, 10) for _ in days)
        acts.append(
            ActivityIn(kind="inquiry", body="解約について", occurred_at=AS_OF - timedelta(days=last - 5))
        )
    else:  # one purchase, recent
        days = [rng.randint(5, 200)]
        amounts = (rng.randrange(2000, 6000, 10) for _ in days)
    for day, amount in zip(days, amounts, strict=False):
        acts.append(
            ActivityIn(
                kind="purchase",
                body="テスト商品",
                amount=amount,
                occurred_at=AS_OF - timedelta(days=day, hours=rng.randint(0, 8)),
            )
        )
    return acts


def _person(n: int, birth: str, gender: str) -> CustomerCreate:
    return CustomerCreate(
        name=f"分析 花子{n}",
        kana="ブンセキ ハナコ",
        birth_date=birth,
        gender=gender,
        postal_code="150-0001",
        address="東京都渋谷区神宮前1-2-3",
        phones=[f"090-2000-{n:04d}"],
        emails=[f"analysis{n}@example.jp"],
    )


def populate(rt: Runtime, actors: dict[str, Actor]) -> World:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        for p in (ANALYSIS, PLANNING, RECOMMEND, CALLS):
            purposes_service.add(ctx, p)
    rng = random.Random(24)
    w = World(rt, actors)
    items = []
    plan: list[tuple[str, str]] = []
    everyone = ("contract", ANALYSIS.code, PLANNING.code, RECOMMEND.code, CALLS.code)
    n = 0
    for kind, count in (("loyal", 14), ("lapsed", 14), ("once", 10)):
        for _ in range(count):
            n += 1
            birth = f"{rng.randint(1950, 2000)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
            data = _person(n, birth, rng.choice(["female", "male"]))
            prov = ProvenanceIn(method="direct", channel="web_form", notice_version="n-2026")
            items.append((data, prov, everyone, actors["sato"].id, _history(rng, kind)))
            plan.append((kind, f"{kind}{n}"))
    # left out by the policy: one never told of the analysis, one who stopped it, one erased
    for label, codes in (("unnotified", ("contract",)), ("stopped", everyone), ("erased", everyone)):
        n += 1
        items.append(
            (
                _person(n, "1980-05-05", "female"),
                ProvenanceIn(method="direct", channel="web_form", notice_version="n-2026"),
                codes,
                actors["sato"].id,
                _history(rng, "loyal"),
            )
        )
        plan.append((label, label))
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ids = customers_service.bulk_create(ctx, items)
    for cid, (kind, label) in zip(ids, plan, strict=True):
        w.ids[label] = cid
        if kind == "loyal":
            w.loyal.append(cid)
        elif kind == "lapsed":
            w.lapsed.append(cid)
        if kind in ("loyal", "lapsed", "once"):
            w.notified.append(cid)
    with rt.transaction(actors["po"]) as ctx:
        consent_service.suppress(ctx, w.ids["stopped"], "purpose", ANALYSIS.code, "req-24")
    with rt.transaction(actors["po"]) as ctx:
        subjects.erase(ctx, w.ids["erased"])
    return w


@pytest.fixture
def world(runtime: Runtime) -> World:
    return populate(runtime, seed_basics(runtime))
