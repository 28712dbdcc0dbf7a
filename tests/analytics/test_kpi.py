"""The KPI dashboard (issue 24, item 4): each indicator against a store built by hand, the expected figures worked
out here; the charts' shape; the refusals (sales, support) and bad input; the CLI and the API. Counts only leave
the report and its audit entry — never a name or a contact point. Synthetic data only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import typer
from sqlalchemy import update
from typer.testing import CliRunner

from mamori.analytics.kpi_schemas import KpiReport
from mamori.analytics.models import AcquisitionCost, AnalyticsRun
from mamori.analytics.service import kpi as kpi_service
from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.contact.models import Campaign, CampaignSend
from mamori.customers.models import Provenance
from mamori.customers.schemas import ActivityIn, CustomerCreate, ProvenanceIn
from mamori.customers.service import core as customers_core
from mamori.customers.service import subjects
from mamori.incidents.schemas import IncidentIn
from mamori.incidents.service import register as incidents_register
from mamori.kernel.clock import JST
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.db import new_id
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import reset_settings_cache
from mamori.lifecycle.service import quality
from mamori.processors.models import ProcessorAudit, ProcessorContract
from mamori.provision.models import Counterparty
from mamori.rights.models import RightsRequest
from tests.factories import point_env_at, seed_basics

PERSONAL = ("山田", "ヤマダ", "example.jp", "090-", "渋谷")
PERIOD = {"start": date(2026, 1, 1), "end": date(2026, 6, 30)}  # the business scenario's half year


def jst(y: int, m: int, d: int, h: int = 12, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=JST)


def _person(n: int) -> CustomerCreate:
    return CustomerCreate(
        name=f"山田 太郎{n}",
        kana="ヤマダ タロウ",
        birth_date="1985-01-02",
        gender="male",
        postal_code="150-0001",
        address="東京都渋谷区神宮前1-2-3",
        phones=[f"090-3000-{n:04d}"],
        emails=[f"kpi{n}@example.jp"],
    )


def make_people(
    rt: Runtime,
    owner: Actor,
    specs: list[tuple[str, list[datetime]]],
    purposes: tuple[str, ...],
    *,
    campaign: str | None = None,
    first: int = 0,
) -> list[str]:
    """People created through the customers slice: (provenance channel, purchase times) each; ``campaign``: the
    acquisition campaign their provenance names."""
    items = [
        (
            _person(first + i),
            ProvenanceIn(method="direct", channel=channel, notice_version="n-2026", campaign=campaign),
            purposes,
            owner.id,
            [ActivityIn(kind="purchase", amount=1000, occurred_at=t) for t in times],
        )
        for i, (channel, times) in enumerate(specs)
    ]
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        return customers_core.bulk_create(ctx, items)


def set_acquired(rt: Runtime, cid: str, when: datetime) -> None:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.execute(update(Provenance).where(Provenance.customer_id == cid).values(acquired_at=when))


def add_provenance(rt: Runtime, cid: str, channel: str, when: datetime) -> None:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            Provenance(
                id=new_id(),
                customer_id=cid,
                method="direct",
                channel=channel,
                acquired_at=when,
                recorded_by="test",
            )
        )


def add_cost(
    rt: Runtime,
    channel: str,
    start: date,
    end: date,
    amount: int,
    *,
    campaign_id: str | None = None,
    at: datetime | None = None,
) -> None:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            AcquisitionCost(
                id=new_id(),
                channel=channel,
                campaign_id=campaign_id,
                period_start=start,
                period_end=end,
                amount_yen=amount,
                created_by="test",
                created_at=at or ctx.clock.now(),
            )
        )


def add_campaign(rt: Runtime, *, sent_at: datetime | None = None) -> str:
    cid = new_id()
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            Campaign(
                id=cid,
                name="春のご案内",
                purpose_code="marketing-email",
                purpose_version=1,
                channel="email",
                subject="春のご案内",
                body="新商品のご案内です。",
                status="sent" if sent_at else "draft",
                created_at=ctx.clock.now(),
                created_by="test",
                sent_at=sent_at,
            )
        )
    return cid


def report(rt: Runtime, actor: Actor, **kw: Any) -> KpiReport:
    with rt.transaction(actor, readonly=True) as ctx:
        return kpi_service.kpis(ctx, **kw)


def one(r: KpiReport, code: str, key: str | None = None) -> Any:
    found = [k for k in r.kpis if k.code == code and k.key == key]
    assert len(found) == 1, (code, key, [(k.code, k.key) for k in r.kpis])
    return found[0]


def chart(r: KpiReport, chart_id: str) -> Any:
    return next(c for c in r.charts if c.id == chart_id)


def no_values(text: str) -> None:
    for value in PERSONAL:
        assert value not in text, value


@dataclass
class Shop:
    rt: Runtime
    actors: dict[str, Actor]
    ids: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def shop(runtime: Runtime) -> Shop:
    """Five customers with purchases around the half year 2026-01-01 … 2026-06-30 (the clock: 2026-11-23)."""
    actors = seed_basics(runtime)
    ids = make_people(
        runtime,
        actors["sato"],
        [
            # A: two purchases on one JST day
            ("web_form", [jst(2026, 2, 1, 10), jst(2026, 2, 1, 15)]),
            # B: two days; the second is 2026-03-31 16:00 UTC = 1 April 01:00 JST
            ("web_form", [jst(2026, 3, 1), datetime(2026, 3, 31, 16, 0, tzinfo=UTC)]),
            # C: the last evening of the period (JST)
            ("event", [jst(2026, 6, 30, 23, 30)]),
            # D: long ago, then 30 minutes after the period ends (JST)
            ("web_form", [jst(2025, 1, 10), jst(2026, 7, 1, 0, 30)]),
            # E: once, more than 365 days before the end
            ("event", [jst(2025, 5, 1)]),
        ],
        ("contract", "marketing-email"),
    )
    shop = Shop(runtime, actors, dict(zip("ABCDE", ids, strict=True)))
    for name, when in (
        ("A", jst(2026, 1, 10)),
        ("B", jst(2026, 2, 10)),
        ("C", jst(2026, 3, 10)),
        ("D", jst(2025, 1, 1)),
        ("E", jst(2025, 4, 1)),
    ):
        set_acquired(runtime, shop.ids[name], when)
    add_provenance(
        runtime, shop.ids["A"], "import", jst(2026, 5, 5)
    )  # a later row: A stays a web_form customer
    return shop


# -- business -----------------------------------------------------------------------------------------------------


def test_repeat_rate_counts_jst_days_in_the_period(shop: Shop) -> None:
    r = report(shop.rt, shop.actors["analyst"], **PERIOD)
    k = one(r, "repeat_rate")
    # purchasers in the half year: A (one day), B (two days), C (30 June 23:30 JST); D bought on 1 July JST
    assert (k.evidence.numerator, k.evidence.denominator) == (1, 3)
    assert k.value == round(100 * 1 / 3, 2) and k.unit == "percent"


def test_churn_rate_is_no_purchase_in_the_365_days_up_to_the_end(shop: Shop) -> None:
    k = one(report(shop.rt, shop.actors["analyst"], **PERIOD), "churn_rate")
    # had bought by 30 June (JST): A, B, C, D (Jan 2025), E (May 2025); D and E not since 1 July 2025
    assert (k.evidence.numerator, k.evidence.denominator) == (2, 5) and k.value == 40.0
    assert k.evidence.figures["cutoff"] == "2025-07-01"


def test_purchases_per_month_over_24_months_by_jst_month(shop: Shop) -> None:
    c = chart(report(shop.rt, shop.actors["analyst"], **PERIOD), "purchases_per_month")
    assert c.kind == "bar" and len(c.labels) == 24
    assert c.labels[0] == "2024-07" and c.labels[-1] == "2026-06"
    got = dict(zip(c.labels, c.datasets[0].data, strict=True))
    assert {k: v for k, v in got.items() if v} == {
        "2025-01": 1.0,  # D
        "2025-05": 1.0,  # E
        "2026-02": 2.0,  # A, twice
        "2026-03": 1.0,  # B
        "2026-04": 1.0,  # B: 31 March UTC is 1 April JST
        "2026-06": 1.0,  # C; D's purchase of 1 July is past the last month
    }


def test_cac_per_channel_prorated_with_corrections_and_campaigns(shop: Shop) -> None:
    rt = shop.rt
    campaign = add_campaign(rt)
    earlier = rt.clock.now() - timedelta(days=1)
    add_cost(rt, "web_form", date(2026, 1, 1), date(2026, 6, 30), 300_000, at=earlier)
    add_cost(rt, "web_form", date(2026, 1, 1), date(2026, 6, 30), 240_000)  # corrects the line above
    add_cost(rt, "event", date(2025, 7, 1), date(2026, 6, 30), 365_000)  # 365 days, 181 of them in the period
    add_cost(rt, "campaign", date(2026, 2, 1), date(2026, 2, 28), 50_000, campaign_id=campaign)
    r = report(rt, shop.actors["analyst"], **PERIOD)
    web = one(r, "cac", "web_form")
    # new through web_form in the period: A (10 Jan) and B (10 Feb); D was acquired in 2025
    assert (web.evidence.numerator, web.evidence.denominator, web.value) == (240_000, 2, 120_000)
    event = one(r, "cac", "event")
    assert event.evidence.numerator == pytest.approx(365_000 * 181 / 365)
    assert (event.evidence.denominator, event.value) == (1, 181_000)  # C
    camp = one(r, "cac", f"campaign:{campaign}")
    assert camp.value is None and camp.note_ja and camp.evidence.numerator == 50_000
    overall = one(r, "cac")
    assert overall.evidence.denominator == 3  # A, B, C
    assert overall.value == round((240_000 + 181_000 + 50_000) / 3)


def test_cac_per_acquisition_campaign_hand_computed(shop: Shop) -> None:
    """¥100,000 spent on the campaign ``fair`` in April and four people first acquired through it in the period:
    ¥25,000 each. A later provenance row naming the campaign does not make someone new (B stays a web_form
    customer); a person acquired through a campaign before the period does not count; a campaign with costs and
    no acquisition in the period is None with a note; the overall CAC still divides every cost by every new
    customer."""
    rt, sato = shop.rt, shop.actors["sato"]
    fair = make_people(rt, sato, [("event", [])] * 4, ("contract",), campaign="fair", first=10)
    for day, cid in enumerate(fair, start=1):
        set_acquired(rt, cid, jst(2026, 4, day))
    (before,) = make_people(rt, sato, [("web_form", [])], ("contract",), campaign="tv-spring", first=20)
    set_acquired(rt, before, jst(2025, 12, 31))
    with rt.transaction(
        SYSTEM_ACTOR
    ) as ctx:  # B's second provenance row names the campaign: not an acquisition
        ctx.session.add(
            Provenance(
                id=new_id(),
                customer_id=shop.ids["B"],
                method="direct",
                channel="event",
                campaign="fair",
                acquired_at=jst(2026, 4, 20),
                recorded_by="test",
            )
        )
    add_cost(rt, "campaign", date(2026, 4, 1), date(2026, 4, 30), 100_000, campaign_id="fair")
    add_cost(rt, "campaign", date(2026, 1, 1), date(2026, 1, 31), 30_000, campaign_id="tv-spring")
    r = report(rt, shop.actors["analyst"], **PERIOD)
    k = one(r, "cac", "campaign:fair")
    assert (k.evidence.numerator, k.evidence.denominator, k.value) == (100_000, 4, 25_000)
    assert k.note_ja is None and "fair" in k.label_ja
    none = one(r, "cac", "campaign:tv-spring")
    assert (none.value, none.evidence.numerator, none.evidence.denominator) == (None, 30_000, 0)
    assert "計算できません" in (none.note_ja or "") and none.note_en
    overall = one(r, "cac")
    assert overall.evidence.denominator == 7  # A, B, C and the four fair customers
    assert overall.value == round(130_000 / 7)
    no_values(r.model_dump_json())


def test_cac_without_costs_says_what_to_enter(shop: Shop) -> None:
    k = one(report(shop.rt, shop.actors["analyst"], **PERIOD), "cac")
    assert k.value is None and "costs add" in (k.note_ja or "") and k.evidence.denominator == 3


def test_new_customers_per_month_by_channel(shop: Shop) -> None:
    c = chart(report(shop.rt, shop.actors["analyst"], **PERIOD), "new_customers_per_month")
    series = {s.label_en: dict(zip(c.labels, s.data, strict=True)) for s in c.datasets}
    assert set(series) == {"web_form", "event"}
    assert {k: v for k, v in series["web_form"].items() if v} == {
        "2025-01": 1.0,
        "2026-01": 1.0,
        "2026-02": 1.0,
    }
    assert {k: v for k, v in series["event"].items() if v} == {"2025-04": 1.0, "2026-03": 1.0}


def test_ltv_is_the_newest_clv_runs_mean_or_says_it_is_not_computed(shop: Shop) -> None:
    rt = shop.rt
    k = one(report(rt, shop.actors["analyst"], **PERIOD), "ltv")
    assert k.value is None and "未計算" in (k.note_ja or "")
    for mean, age in ((9000.0, 2), (12345.6, 1)):
        with rt.transaction(SYSTEM_ACTOR) as ctx:
            ctx.session.add(
                AnalyticsRun(
                    id=new_id(),
                    kind="clv",
                    path="personal",
                    purpose_code="contract",
                    params="{}",
                    summary=json.dumps({"mean_clv": mean, "horizon_days": 365}),
                    rows_in=10,
                    subjects=4,
                    created_by="test",
                    created_at=ctx.clock.now() - timedelta(days=age),
                )
            )
    k = one(report(rt, shop.actors["analyst"], **PERIOD), "ltv")
    assert k.value == 12345.6 and k.evidence.denominator == 4 and k.note_ja is None


def test_open_and_click_rates_are_not_recorded_and_say_so(shop: Shop) -> None:
    rt = shop.rt
    campaign = add_campaign(rt, sent_at=jst(2026, 3, 3))
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        for name, status in (("A", "sent"), ("B", "sent"), ("C", "sent"), ("D", "bounced")):
            ctx.session.add(
                CampaignSend(
                    id=new_id(),
                    campaign_id=campaign,
                    customer_id=shop.ids[name],
                    status=status,
                    queued_at=jst(2026, 3, 3),
                )
            )
    r = report(rt, shop.actors["analyst"], **PERIOD)
    for code in ("email_open_rate", "email_click_rate"):
        k = one(r, code)
        assert k.value is None and "記録していません" in (k.note_ja or "")
        # brief T: the denominator is the measured sends (none here); the 3 sent unmeasured are counted apart
        assert k.evidence.denominator == 0 and k.evidence.figures["untracked_sends"] == 3
        assert k.evidence.figures["sends_bounced"] == 1 and k.evidence.figures["campaigns"] == 1


def test_data_quality_is_the_lifecycle_score_for_the_privacy_officer_only(shop: Shop) -> None:
    rt, a = shop.rt, shop.actors
    with rt.transaction(a["po"], readonly=True) as ctx:
        expected = quality.report(ctx, worst=0)
    k = one(report(rt, a["po"], **PERIOD), "data_quality")
    assert k.value == expected.score and k.evidence.denominator == 5 and k.unit == "score"
    k = one(report(rt, a["analyst"], **PERIOD), "data_quality")
    assert k.value is None and "mamori quality report" in (k.note_ja or "")


# -- privacy ------------------------------------------------------------------------------------------------------


def _request(rt: Runtime, n: int, received: date, due: date, answered: date | None, **kw: Any) -> None:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            RightsRequest(
                id=new_id(),
                receipt_no=f"R-2026-{n:06d}",
                kind="disclosure",
                regime="appi",
                regime_source="default",
                channel="web",
                status="closed" if answered else "verified",
                received_at=jst(received.year, received.month, received.day, 9),
                due_on=due,
                answered_at=jst(answered.year, answered.month, answered.day, 17) if answered else None,
                created_by="test",
                **kw,
            )
        )


def test_requests_on_time_and_median_days(shop: Shop) -> None:
    rt = shop.rt
    _request(rt, 1, date(2026, 1, 5), date(2026, 1, 19), date(2026, 1, 15))  # on time, 10 days
    _request(rt, 2, date(2026, 2, 1), date(2026, 2, 15), date(2026, 2, 20))  # late, 19 days
    _request(  # extended to 15 May and answered before it: on time, 60 days
        rt, 3, date(2026, 3, 1), date(2026, 3, 15), date(2026, 4, 30), extended_due_on=date(2026, 5, 15)
    )
    _request(rt, 4, date(2026, 4, 1), date(2026, 4, 15), None)  # open and past due: late
    _request(rt, 5, date(2026, 6, 29), date(2026, 12, 31), None)  # open, not due yet: left out
    _request(rt, 6, date(2026, 7, 2), date(2026, 7, 16), date(2026, 7, 3))  # received after the period
    r = report(rt, shop.actors["analyst"], **PERIOD)
    k = one(r, "requests_on_time")
    assert (k.evidence.numerator, k.evidence.denominator, k.value) == (2, 4, 50.0)
    assert k.evidence.figures == {"received": 5, "pending_not_due": 1, "late": 2}
    m = one(r, "request_median_days")
    assert m.value == 19.0 and m.evidence.denominator == 3  # 10, 19, 60
    c = chart(r, "requests_per_month")
    received = dict(zip(c.labels, c.datasets[0].data, strict=True))
    share = dict(zip(c.labels, c.datasets[1].data, strict=True))
    assert [received[m] for m in ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06")] == [
        1.0,
        1.0,
        1.0,
        1.0,
        0.0,
        1.0,
    ]
    assert [share[m] for m in ("2026-01", "2026-02", "2026-03", "2026-04", "2026-06")] == [
        100.0,
        0.0,
        100.0,
        0.0,
        None,
    ]


def _consent(rt: Runtime, actor: Actor, cid: str, purpose: str, granted: bool) -> None:
    with rt.transaction(actor) as ctx:
        data = ConsentIn(method="checkbox", evidence="form-24")
        if granted:
            consent_service.grant(ctx, cid, purpose, data)
        else:
            consent_service.withdraw(ctx, cid, purpose, data)


def _channel(rt: Runtime, actor: Actor, cid: str, channel: str, stop: bool) -> None:
    with rt.transaction(actor) as ctx:
        data = ConsentIn(method="oral", evidence="call-24")
        if stop:
            consent_service.do_not_contact(ctx, cid, channel, data)
        else:
            consent_service.allow_contact(ctx, cid, channel, data)


def test_consent_rate_per_purpose_and_do_not_contact_rate_per_channel(shop: Shop) -> None:
    rt, po, ids = shop.rt, shop.actors["po"], shop.ids
    (extra,) = make_people(rt, shop.actors["sato"], [("web_form", [])], ("contract", "marketing-email"))
    _consent(rt, po, ids["A"], "marketing-email", True)
    _consent(rt, po, ids["B"], "marketing-email", True)
    _consent(rt, po, ids["B"], "marketing-email", False)  # withdrawn since
    _consent(rt, po, ids["C"], "marketing-email", True)
    _consent(rt, po, ids["D"], "contract", True)  # a purpose that needs no consent, with a consent line
    _consent(rt, po, extra, "marketing-email", True)
    _channel(rt, po, ids["D"], "email", True)
    _channel(rt, po, ids["E"], "email", True)
    _channel(rt, po, ids["A"], "phone", True)
    _channel(rt, po, ids["A"], "phone", False)  # allowed again
    _channel(rt, po, extra, "email", True)
    with rt.transaction(po) as ctx:
        subjects.erase(ctx, extra)  # the erased person counts nowhere
    r = report(rt, shop.actors["analyst"])  # the year ending today: everyone was created today
    k = one(r, "consent_rate", "marketing-email")
    assert (k.evidence.numerator, k.evidence.denominator, k.value) == (2, 5, 40.0)  # A, C of A–E
    k = one(r, "consent_rate", "contract")
    assert (k.evidence.numerator, k.evidence.denominator, k.value) == (1, 5, 20.0)
    k = one(r, "consent_rate", "gdpr-newsletter")  # needs consent, nobody was told of it
    assert k.value is None and k.evidence.denominator == 0
    assert not [x for x in r.kpis if x.code == "consent_rate" and x.key == "partner-sharing"]
    c = chart(r, "consent_rate_per_purpose")
    assert dict(zip(c.labels, c.datasets[0].data, strict=True))["メールでのご案内"] == 40.0
    email = one(r, "do_not_contact_rate", "email")
    assert (email.evidence.numerator, email.evidence.denominator, email.value) == (2, 5, 40.0)  # D, E
    assert one(r, "do_not_contact_rate", "phone").value == 0.0
    assert {x.key for x in r.kpis if x.code == "do_not_contact_rate"} == {
        "phone",
        "email",
        "post",
        "sms",
        "visit",
    }


def test_outsourcee_audits_on_time(shop: Shop) -> None:
    rt = shop.rt
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        now = ctx.clock.now()
        cp = Counterparty(
            id=new_id(),
            kind="outsourcee",
            name="架空コールセンター株式会社",
            address="東京都千代田区1-1",
            representative="代表取締役",
            country="JP",
            created_at=now,
            created_by="test",
            updated_at=now,
        )
        ctx.session.add(cp)
        ctx.session.flush()
        contract = ProcessorContract(
            id=new_id(),
            counterparty_id=cp.id,
            work="電話受付",
            purposes=["contract"],
            fields=["name"],
            clauses=[],
            starts_on=date(2025, 1, 1),
            ends_on=date(2027, 12, 31),
            status="active",
            created_at=now,
            created_by="test",
        )
        ctx.session.add(contract)
        ctx.session.flush()
        for due, done in (
            (date(2026, 3, 1), date(2026, 2, 20)),  # on time
            (date(2026, 5, 1), date(2026, 5, 10)),  # late
            (date(2026, 9, 1), None),  # past due, not performed: late
            (date(2026, 12, 15), None),  # not due yet: left out
            (date(2026, 12, 20), date(2026, 11, 20)),  # performed early: on time
            (date(2025, 6, 1), None),  # due before the period
        ):
            ctx.session.add(
                ProcessorAudit(
                    id=new_id(),
                    contract_id=contract.id,
                    method="document",
                    due_on=due,
                    scheduled_at=now,
                    scheduled_by="test",
                    performed_on=done,
                    result="passed" if done else None,
                )
            )
    k = one(report(rt, shop.actors["analyst"], end=date(2026, 12, 31)), "processor_audits_on_time")
    assert (k.evidence.numerator, k.evidence.denominator, k.value) == (2, 4, 50.0)
    assert k.evidence.figures == {"overdue_not_performed": 1, "late": 1}


def test_incidents_by_trigger_and_cause(shop: Shop) -> None:
    rt, po = shop.rt, shop.actors["po"]
    for cause, day in (("external_attack", 3), ("misdelivery", 4), ("misdelivery", 5)):
        with rt.transaction(po) as ctx:
            incidents_register.register(
                ctx,
                IncidentIn(
                    title="メールの誤送信" if cause == "misdelivery" else "不正アクセス",
                    kind="leak",
                    suspected=True,
                    known_at=jst(2026, 11, day),
                    known_by="情報システム部",
                    discovered_by="監視担当",
                    cause=cause,
                ),
            )
    r = report(rt, shop.actors["analyst"])
    k = one(r, "incidents")
    assert k.value == 3.0 and k.evidence.figures["cause_misdelivery"] == 2
    assert one(r, "incidents_by_trigger", "wrongful").value == 1.0  # an external attack (R-26-1 (3))
    assert one(r, "incidents_by_trigger", "over_1000").value == 0.0
    c = chart(r, "incidents_by_cause")
    assert c.kind == "doughnut"
    assert dict(zip(c.labels, c.datasets[0].data, strict=True)) == {
        "外部からの攻撃（不正アクセス等）": 1.0,
        "誤送付・誤送信": 2.0,
    }


# -- the report as a whole ------------------------------------------------------------------------------------------


def test_every_kpi_has_words_and_the_charts_keep_their_shape(shop: Shop) -> None:
    r = report(shop.rt, shop.actors["admin"], **PERIOD)
    assert (r.start, r.end) == (PERIOD["start"], PERIOD["end"])
    for k in r.kpis:
        assert k.label_ja and k.label_en and k.definition_ja and k.definition_en, k.code
        if k.value is None:
            assert k.note_ja and k.note_en, (k.code, k.key)
    assert {c.id for c in r.charts} == {
        "purchases_per_month",
        "new_customers_per_month",
        "requests_per_month",
        "consent_rate_per_purpose",
        "incidents_by_cause",
    }
    for c in r.charts:
        assert set(c.model_dump()) == {"id", "kind", "title_ja", "title_en", "labels", "datasets"}
        for s in c.datasets:
            assert set(s.model_dump()) == {"label_ja", "label_en", "data"}
            assert len(s.data) == len(c.labels)
    no_values(r.model_dump_json())


def test_the_default_period_is_the_year_ending_today(shop: Shop) -> None:
    r = report(shop.rt, shop.actors["analyst"])
    assert (r.start, r.end) == (
        date(2025, 11, 24),
        date(2026, 11, 23),
    )  # the test clock: 2026-11-23 10:00 JST


def test_each_report_is_audited_with_counts_only(shop: Shop) -> None:
    report(shop.rt, shop.actors["analyst"], **PERIOD)
    entry = shop.rt.audit.search(action="analytics.kpi", limit=1)[0]
    assert entry.decision == "info" and entry.subject_ids == ()
    assert entry.details["start"] == "2026-01-01" and entry.details["new_customers"] == 3
    no_values(json.dumps(entry.details, ensure_ascii=False))


@pytest.mark.parametrize("who", ["sato", "support"])
def test_sales_and_support_are_refused_and_the_refusal_is_audited(shop: Shop, who: str) -> None:
    with pytest.raises(PolicyDenied) as refused:
        report(shop.rt, shop.actors[who])
    assert refused.value.rule_id == "R-23-2"
    denied = shop.rt.audit.search(action="analytics.kpi", decision="deny", limit=1)[0]
    assert denied.actor == shop.actors[who].label


def test_a_reversed_or_too_long_period_is_refused(shop: Shop) -> None:
    with pytest.raises(ValidationFailed) as bad:
        report(shop.rt, shop.actors["analyst"], start=date(2026, 6, 30), end=date(2026, 1, 1))
    assert bad.value.code == "period_reversed" and bad.value.http_status == 422
    with pytest.raises(ValidationFailed) as bad:
        report(shop.rt, shop.actors["analyst"], start=date(2000, 1, 1), end=date(2026, 1, 1))
    assert bad.value.code == "period_too_long"
    with pytest.raises(ValidationFailed) as bad:
        report(shop.rt, shop.actors["analyst"], end=date(1, 1, 1))
    assert bad.value.code == "bad_date"


# -- CLI and API ------------------------------------------------------------------------------------------------------


def cli_app() -> typer.Typer:
    """`mamori` with the analytics commands as the lead mounts them (top-level `kpi`, the `analytics` group)."""
    from mamori.analytics import cli as analytics_cli
    from mamori.analytics.cli import kpi as kpi_cli
    from mamori.cli import main

    app = typer.Typer(pretty_exceptions_enable=False)
    app.callback()(main.root)
    app.command("kpi")(kpi_cli.kpi)
    app.add_typer(analytics_cli.app, name="analytics")
    return app


@pytest.fixture
def cli(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    point_env_at(monkeypatch, shop.rt.settings)
    runner = CliRunner()
    app = cli_app()

    def run(user: str, *args: str) -> Any:
        return runner.invoke(app, ["--as", user, *args])

    yield run
    reset_settings_cache()


def test_cli_kpi(cli: Any) -> None:
    r = cli("analyst", "kpi", "--from", "2026-01-01", "--to", "2026-06-30", "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["start"] == "2026-01-01" and {c["id"] for c in got["charts"]} >= {"purchases_per_month"}
    repeat = next(k for k in got["kpis"] if k["code"] == "repeat_rate")
    assert repeat["value"] == round(100 / 3, 2)
    r = cli("analyst", "kpi", "--from", "2026-01-01", "--to", "2026-06-30")
    assert r.exit_code == 0 and "リピート率" in r.stdout and "離反率" in r.stdout
    no_values(r.stdout)
    r = cli("analyst", "--lang", "en", "kpi", "--from", "2026-01-01", "--to", "2026-06-30")
    assert r.exit_code == 0 and "Repeat rate" in r.stdout


def test_cli_kpi_refusals_and_bad_input(cli: Any) -> None:
    for who in ("sato", "support"):
        r = cli(who, "kpi")
        assert r.exit_code == PolicyDenied.exit_code and "R-23-2" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    r = cli("analyst", "kpi", "--from", "2026-06-30", "--to", "2026-01-01")
    assert r.exit_code != 0 and "period_reversed" in r.stderr
    r = cli("analyst", "kpi", "--from", "2026-02-30")
    assert r.exit_code != 0


def mounted_api(rt: Runtime) -> Any:
    from tests.api.conftest import Api

    api = Api(rt)
    if not any(getattr(route, "path", "") == "/api/v1/kpi" for route in api.app.routes):
        from mamori.analytics.api.kpi import router

        api.app.include_router(router, prefix="/api/v1")  # until the lead mounts it in api/app.py
    return api


def test_api_kpi(runtime: Runtime) -> None:
    api = mounted_api(runtime)
    analyst, _ = api.client("analyst")
    r = analyst.get("/api/v1/kpi", params={"from": "2026-01-01", "to": "2026-06-30"})
    assert r.status_code == 200, r.text
    assert r.json()["start"] == "2026-01-01" and r.json()["kpis"]
    assert r.headers["cache-control"] == "no-store"
    r = analyst.get("/api/v1/kpi", params={"from": "2026-06-30", "to": "2026-01-01"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "period_reversed"
    r = analyst.get("/api/v1/kpi", params={"from": "yesterday"})
    assert r.status_code == 422 and "yesterday" not in r.text
    r = analyst.get("/api/v1/kpi", params={"to": "0001-01-01"})
    assert r.status_code == 422 and r.json()["code"] == "bad_date"
    for who in ("sato", "support"):
        c, _ = api.client(who)
        r = c.get("/api/v1/kpi")
        assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2"
    anonymous, _ = api.client()
    assert anonymous.get("/api/v1/kpi").status_code == 401
