"""The KPI dashboard (issue 24, item 4): seed 002's business indicators and the privacy indicators nobody else shows
beside them, for a period of JST dates (default: the year ending today), with the dashboard's charts.

Business
  - **CAC** per channel (and overall): the acquisition costs entered (``analytics_acquisition_costs``; a line
    counts for the days its period overlaps the report's, prorated) ÷ the customers first acquired through that
    provenance channel in the period (each customer's earliest provenance row: channel and time). A campaign's
    CAC (cost lines of channel ``campaign`` naming an acquisition campaign code) divides by the customers whose
    earliest provenance row names that campaign and falls in the period (``provenance.campaign``); None with a note
    when it acquired nobody. The overall CAC divides every cost by every new customer. The counts are built by
    the customers slice (``mamori.customers.queries``), which owns those tables.
  - **Repeat rate**: of the customers who bought in the period, the share who bought on two or more JST days.
  - **Churn rate**: of the customers who had bought by the period's end, the share with no purchase in the 365
    days up to the end (churned = last purchase more than 365 days before the end).
  - **LTV**: the mean CLV of the newest CLV run (``analytics_runs`` kind ``clv``, summary ``mean_clv``); else not
    computed, with what to run.
  - **E-mail open and click rates** (brief T): of the *measured* sends of the campaigns sent in the period that
    reached the person (status sent or unsubscribed; not queued, failed or bounced), the share with a first open
    (``opened_at``; a click records an open too) and with a first click (``clicked_at``). Only campaigns created
    with ``tracking`` measure, and never for a person under the GDPR: those sends are counted apart
    (``untracked_sends``). None with a note when no measured send exists. Opens are a lower bound (blocked images)
    and inflated by image pre-fetching (Apple Mail Privacy Protection).
  - **Data quality**: the lifecycle slice's score (issue 21, ``lifecycle.service.quality``, 0–1). That check opens
    the values it verifies, so it runs only for an actor the lifecycle slice lets check every customer (the
    privacy officer, with a current training and pledge); for anyone else the value is None with the command.

Privacy
  - **Requests answered on time** and the **median days to answer** (rights slice): requests received in the
    period; on time = answered (the decision, ``answered_at``) on or before the due date (the extended one when
    extended). Requests still open and not yet due are left out; open ones past due count as late.
  - **Consent rate per purpose**: of the live people notified of the purpose, those whose newest consent-ledger
    line for it says granted — for the purposes in force that need consent or have consent lines.
  - **Do-not-contact rate per channel**: of the live people, those whose newest line for the channel is a
    do-not-contact (opt_out).
  - **Outsourcee audits on time** (processors slice): of the audits due in the period that are due by now (or
    were performed early), those performed on or before their due date.
  - **Incidents** known in the period, by trigger (R-26-1, the incidents slice's classification) and by cause.

Counts and dates only: the customers tables are read through their plaintext columns (kind, times, channel), the
rights, processors and incidents tables through their states and dates; no personal value is decrypted here.
Each call is audited ``analytics.kpi`` with the period and counts. Authorisation: ``analytics.kpi`` (analyst,
privacy officer, administrator).
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from mamori.analytics import queries
from mamori.analytics.kpi_schemas import (
    CAMPAIGN,
    EARLIEST,
    LATEST,
    ChartData,
    ChartSeries,
    Kpi,
    KpiEvidence,
    KpiReport,
)
from mamori.analytics.models import AcquisitionCost
from mamori.analytics.permissions import ANALYTICS_KPI
from mamori.analytics.service import costs as costs_service
from mamori.customers import queries as customers_queries
from mamori.incidents.schemas import CAUSE_LABELS
from mamori.incidents.service.classify import TRIGGER_LABELS, TRIGGERS, classification
from mamori.kernel import labels
from mamori.kernel.auditing import authorise, record_info
from mamori.kernel.clock import JST, ensure_aware, today_jst
from mamori.kernel.context import Context
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.policy import CHANNELS, Resource, Scope, decide, row_scope
from mamori.lifecycle.permissions import LIFECYCLE_QUALITY
from mamori.lifecycle.service import quality as quality_service
from mamori.purposes import service as purposes_service

A_KPI = "analytics.kpi"
RESOURCE = Resource(kind="analytics_kpi")
CHURN_DAYS = 365
CHART_MONTHS = 24
MAX_PERIOD_DAYS = 3660  # ten years
UNKNOWN_CHANNEL = "unknown"  # a provenance row without a channel


# -- the period -----------------------------------------------------------------------------------------------------


def jst_midnight(day: date) -> datetime:
    """00:00 JST of ``day`` as an aware UTC datetime."""
    return datetime.combine(day, time(0), JST).astimezone(UTC)


def _year_before(end: date) -> date:
    """The first day of the year ending on ``end`` (both included): ``end`` one year back, plus one day."""
    try:
        back = end.replace(year=end.year - 1)
    except ValueError:  # 29 February
        back = end.replace(year=end.year - 1, day=28)
    return back + timedelta(days=1)


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    @property
    def start_utc(self) -> datetime:
        return jst_midnight(self.start)

    @property
    def end_utc(self) -> datetime:
        """Exclusive: 00:00 JST of the day after ``end``."""
        return jst_midnight(self.end + timedelta(days=1))


def _in_range(day: date) -> date:
    if not EARLIEST <= day <= LATEST:
        raise ValidationFailed(
            f"日付は{EARLIEST.isoformat()}〜{LATEST.isoformat()}の範囲で指定してください。",
            f"Dates must be within {EARLIEST.isoformat()} - {LATEST.isoformat()}.",
            code="bad_date",
        )
    return day


def window(ctx: Context, start: date | None, end: date | None) -> Window:
    """The report's period: ``end`` defaults to today (JST), ``start`` to the year ending on ``end``."""
    last = _in_range(end or today_jst(ctx.clock))
    first = _in_range(start or _year_before(last))
    if first > last:
        raise ValidationFailed(
            "期間の開始日が終了日より後です。", "The period starts after it ends.", code="period_reversed"
        )
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationFailed(
            f"期間は{MAX_PERIOD_DAYS}日以内で指定してください。",
            f"The period may be at most {MAX_PERIOD_DAYS} days.",
            code="period_too_long",
        )
    return Window(first, last)


def months_ending(end: date, n: int = CHART_MONTHS) -> list[date]:
    """The first days of the ``n`` months ending with ``end``'s month, oldest first."""
    year, month = end.year, end.month
    out: list[date] = []
    for _ in range(n):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _label(first: date) -> str:
    return f"{first.year:04d}-{first.month:02d}"


def _jst_day(at: datetime) -> date:
    return ensure_aware(at).astimezone(JST).date()


def percent(numerator: float, denominator: float) -> float | None:
    return round(100.0 * numerator / denominator, 2) if denominator else None


# -- business ---------------------------------------------------------------------------------------------------


def _cac(ctx: Context, w: Window, new: dict[str, int]) -> list[Kpi]:
    rows = costs_service.effective(ctx.session.execute(queries.costs_overlapping(w.start, w.end)).scalars())
    definition = (
        "期間に入力した取得コスト（期間が重なる日数で按分）÷ その経路で期間中に新たに取得した顧客数"
        "（各顧客の最初の取得経路と取得日時）。",
        "Acquisition costs entered for the period (prorated by the days that overlap it) ÷ the customers first "
        "acquired through that channel in the period (each customer's earliest provenance).",
    )
    total_new = sum(new.values())
    if not rows:
        return [
            Kpi(
                code="cac",
                group="business",
                label_ja="顧客獲得単価（CAC）",
                label_en="Customer acquisition cost (CAC)",
                value=None,
                unit="yen",
                definition_ja=definition[0],
                definition_en=definition[1],
                evidence=KpiEvidence(
                    denominator=total_new,
                    denominator_ja="期間中の新規顧客数",
                    denominator_en="customers acquired in the period",
                    sources=["analytics_acquisition_costs", "provenance"],
                ),
                note_ja="この期間に重なる取得コストが入力されていません（mamori analytics costs add で入力）。",
                note_en="No acquisition cost overlaps the period (enter one with mamori analytics costs add).",
            )
        ]
    spent: dict[str, float] = {}
    campaign_spent: dict[str, float] = {}
    for row in rows:
        share = _prorated(row, w)
        if row.channel == CAMPAIGN:
            key = row.campaign_id or ""
            campaign_spent[key] = campaign_spent.get(key, 0.0) + share
        else:
            spent[row.channel] = spent.get(row.channel, 0.0) + share
    total = sum(spent.values()) + sum(campaign_spent.values())
    out = [
        _cac_kpi(
            None,
            "顧客獲得単価（CAC）全体",
            "Customer acquisition cost (CAC), overall",
            total,
            total_new,
            "期間中の新規顧客数（全経路）",
            "customers acquired in the period (every channel)",
            definition,
        )
    ]
    for channel in sorted(spent):
        out.append(
            _cac_kpi(
                channel,
                f"顧客獲得単価（CAC）: {channel}",
                f"Customer acquisition cost (CAC): {channel}",
                spent[channel],
                new.get(channel, 0),
                f"期間中に経路「{channel}」で取得した新規顧客数",
                f"customers first acquired through '{channel}' in the period",
                definition,
            )
        )
    by_campaign: dict[str, int] = {}
    if campaign_spent:
        by_campaign = {
            str(code): int(n)
            for code, n in ctx.session.execute(
                customers_queries.new_customers_by_campaign(w.start_utc, w.end_utc)
            ).all()
        }
    for code in sorted(campaign_spent):
        kpi = _cac_kpi(
            f"{CAMPAIGN}:{code}",
            f"顧客獲得単価（CAC）: キャンペーン「{code}」",
            f"Customer acquisition cost (CAC): campaign '{code}'",
            campaign_spent[code],
            by_campaign.get(code, 0),
            f"期間中にキャンペーン「{code}」で取得した新規顧客数（最初の取得の記録がこのキャンペーン）",
            f"customers first acquired through the campaign '{code}' in the period (their earliest provenance)",
            definition,
        )
        if not by_campaign.get(code):
            kpi.note_ja = (
                "この期間にこのキャンペーンで新たに取得した顧客がいないため計算できません"
                "（費用は全体の CAC に含めています）。"
            )
            kpi.note_en = (
                "No customer was first acquired through this campaign in the period (its cost is included in the "
                "overall CAC)."
            )
        out.append(kpi)
    return out


def _prorated(row: AcquisitionCost, w: Window) -> float:
    """The part of a cost line that falls in the window: its amount × overlapping days ÷ its days."""
    first, last = max(row.period_start, w.start), min(row.period_end, w.end)
    overlap = (last - first).days + 1
    length = (row.period_end - row.period_start).days + 1
    return float(row.amount_yen) * overlap / length if overlap > 0 else 0.0


def _cac_kpi(
    key: str | None,
    label_ja: str,
    label_en: str,
    cost: float,
    acquired: int,
    denominator_ja: str,
    denominator_en: str,
    definition: tuple[str, str],
) -> Kpi:
    value = float(round(cost / acquired)) if acquired else None
    return Kpi(
        code="cac",
        key=key,
        group="business",
        label_ja=label_ja,
        label_en=label_en,
        value=value,
        unit="yen",
        definition_ja=definition[0],
        definition_en=definition[1],
        evidence=KpiEvidence(
            numerator=round(cost, 2),
            numerator_ja="期間に按分した取得コスト（円）",
            numerator_en="acquisition cost prorated to the period (yen)",
            denominator=acquired,
            denominator_ja=denominator_ja,
            denominator_en=denominator_en,
            sources=["analytics_acquisition_costs", "provenance"],
        ),
        note_ja=None if acquired else "この期間に新規顧客がいないため計算できません。",
        note_en=None if acquired else "No customer was acquired in the period.",
    )


@dataclass(frozen=True)
class _Purchases:
    buyers: int  # bought before the end
    lapsed: int  # of them, no purchase in the CHURN_DAYS up to the end
    purchasers: int  # bought in the period
    repeaters: int  # of them, on two or more JST days


def _purchases(ctx: Context, w: Window, dialect: str) -> _Purchases:
    cutoff = w.end_utc - timedelta(days=CHURN_DAYS)
    row = ctx.session.execute(customers_queries.purchase_facts(dialect, w.start_utc, w.end_utc, cutoff)).one()
    return _Purchases(*(int(v or 0) for v in row))


def _repeat_rate(p: _Purchases) -> Kpi:
    buyers, repeaters = p.purchasers, p.repeaters
    return Kpi(
        code="repeat_rate",
        group="business",
        label_ja="リピート率",
        label_en="Repeat rate",
        value=percent(repeaters, buyers),
        unit="percent",
        definition_ja="期間中に購入した顧客のうち、2日以上（日本時間の暦日）購入した顧客の割合。",
        definition_en="Of the customers who bought in the period, the share who bought on two or more days (JST).",
        evidence=KpiEvidence(
            numerator=repeaters,
            numerator_ja="2日以上購入した顧客数",
            numerator_en="customers who bought on two or more days",
            denominator=buyers,
            denominator_ja="期間中に購入した顧客数",
            denominator_en="customers who bought in the period",
            sources=["activities (kind, occurred_at)"],
        ),
        note_ja=None if buyers else "この期間に購入がありません。",
        note_en=None if buyers else "No purchase in the period.",
    )


def _churn_rate(p: _Purchases, w: Window) -> Kpi:
    cutoff = w.end_utc - timedelta(days=CHURN_DAYS)
    buyers, lapsed = p.buyers, p.lapsed
    return Kpi(
        code="churn_rate",
        group="business",
        label_ja="離反率（チャーン率）",
        label_en="Churn rate",
        value=percent(lapsed, buyers),
        unit="percent",
        definition_ja=(
            f"期間の終了日までに購入したことのある顧客のうち、終了日までの{CHURN_DAYS}日間に購入がない顧客の割合"
            f"（離反 = 最後の購入から{CHURN_DAYS}日超）。"
        ),
        definition_en=(
            f"Of the customers who had bought by the end of the period, the share with no purchase in the "
            f"{CHURN_DAYS} days up to the end (churned = last purchase more than {CHURN_DAYS} days ago)."
        ),
        evidence=KpiEvidence(
            numerator=lapsed,
            numerator_ja=f"{CHURN_DAYS}日間購入のない顧客数",
            numerator_en=f"customers with no purchase in {CHURN_DAYS} days",
            denominator=buyers,
            denominator_ja="終了日までに購入したことのある顧客数",
            denominator_en="customers who had bought by the end",
            sources=["activities (kind, occurred_at)"],
            figures={"cutoff": _jst_day(cutoff).isoformat()},
        ),
        note_ja=None if buyers else "購入した顧客がいません。",
        note_en=None if buyers else "No customer has bought yet.",
    )


def _ltv(ctx: Context) -> Kpi:
    row = ctx.session.execute(queries.latest_run("clv")).scalars().first()
    definition = (
        "最新の CLV 分析（BG/NBD + Gamma-Gamma）による、分析対象の顧客の生涯価値の平均（円、分析の期間）。",
        "The mean lifetime value of the customers analysed by the newest CLV run (BG/NBD + Gamma-Gamma; yen, over "
        "the run's horizon).",
    )
    summary: dict[str, Any] = {}
    if row is not None:
        try:
            loaded = json.loads(row.summary or "{}")
        except ValueError:
            loaded = {}
        summary = loaded if isinstance(loaded, dict) else {}
    mean = summary.get("mean_clv")
    value = float(mean) if isinstance(mean, int | float) and math.isfinite(mean) else None
    evidence = KpiEvidence(sources=["analytics_runs (kind clv)"])
    if row is not None:
        evidence.denominator = row.subjects
        evidence.denominator_ja = "分析した人数"
        evidence.denominator_en = "people analysed"
        evidence.figures = {
            "run_id": row.id,
            "run_at": ensure_aware(row.created_at).isoformat(),
            "purpose": row.purpose_code,
            "path": row.path,
            "horizon_days": summary.get("horizon_days"),
        }
    note: tuple[str | None, str | None] = (None, None)
    if row is None:
        note = (
            "未計算: CLV の分析がまだ実行されていません（mamori analytics clv -p 利用目的 で実行すると表示されます）。",
            "Not computed: no CLV analysis has run yet (run mamori analytics clv -p PURPOSE).",
        )
    elif value is None:
        note = (
            "最新の CLV 分析に平均値がありません（購入のある対象者がいなかった可能性があります）。",
            "The newest CLV run holds no mean (it may have had no one with purchases).",
        )
    return Kpi(
        code="ltv",
        group="business",
        label_ja="顧客生涯価値（LTV）",
        label_en="Customer lifetime value (LTV)",
        value=round(value, 2) if value is not None else None,
        unit="yen",
        definition_ja=definition[0],
        definition_en=definition[1],
        evidence=evidence,
        note_ja=note[0],
        note_en=note[1],
    )


def _email_rates(ctx: Context, w: Window) -> list[Kpi]:
    by_status = {
        str(s): int(n) for s, n in ctx.session.execute(queries.campaign_sends(w.start_utc, w.end_utc)).all()
    }
    campaigns = int(ctx.session.execute(queries.campaigns_sent(w.start_utc, w.end_utc)).scalar_one())
    measured = {
        bool(tracked): (int(n), int(opened), int(clicked))
        for tracked, n, opened, clicked in ctx.session.execute(
            queries.campaign_measurement(w.start_utc, w.end_utc)
        ).all()
    }
    tracked, opened, clicked = measured.get(True, (0, 0, 0))
    untracked = measured.get(False, (0, 0, 0))[0]
    figures: dict[str, float | int | str | None] = {
        "campaigns": campaigns,
        "tracked_sends": tracked,
        "opened": opened,
        "clicked": clicked,
        "untracked_sends": untracked,
        **{f"sends_{k}": v for k, v in sorted(by_status.items())},
    }
    out = []
    for code, ja, en, what_ja, what_en, numerator in (
        ("email_open_rate", "メール開封率", "E-mail open rate", "開封", "opened", opened),
        ("email_click_rate", "メールクリック率", "E-mail click rate", "クリック", "clicked", clicked),
    ):
        note: tuple[str | None, str | None] = (None, None)
        if not tracked:
            note = (
                "計測ありの配信がありません（開封・クリックは、計測を有効にしたキャンペーンの、GDPR の対象でない方への"
                f"配信でだけ記録します。計測なしの配信 {untracked} 件の{what_ja}は記録していません）。",
                f"No measured send in the period (opens and clicks are recorded only for campaigns with tracking, "
                f"to people not under the GDPR; the {untracked} unmeasured sends are not counted).",
            )
        elif code == "email_open_rate":
            note = (
                "開封は下限の値です（画像を表示しないメールソフトでは記録されません）。Apple Mail のプライバシー保護など、"
                "画像を先読みするメールソフトでは実際より多く記録されます。リンクのクリックは開封にも数えます。",
                "Opens are a lower bound (not recorded where images are blocked) and are inflated by clients that "
                "pre-fetch images (Apple Mail Privacy Protection). A click counts as an open.",
            )
        out.append(
            Kpi(
                code=code,
                group="business",
                label_ja=ja,
                label_en=en,
                value=percent(numerator, tracked),
                unit="percent",
                definition_ja=(
                    f"期間中に送信したキャンペーンの計測ありの配信（届いたもの: 送信済み・配信停止済み）のうち、"
                    f"{what_ja}が記録されたものの割合。計測なしの配信（計測しないキャンペーン、GDPR の対象の方）は"
                    "分母に含めません。"
                ),
                definition_en=(
                    f"Of the measured sends of the campaigns sent in the period that reached the person (sent or "
                    f"since unsubscribed), the share {what_en}. Unmeasured sends (untracked campaigns, people "
                    "under the GDPR) are left out of the denominator."
                ),
                evidence=KpiEvidence(
                    numerator=numerator,
                    numerator_ja=f"{what_ja}が記録された配信数",
                    numerator_en=f"sends {what_en}",
                    denominator=tracked,
                    denominator_ja="期間中の計測ありの配信数（届いたもの）",
                    denominator_en="measured sends that reached the person in the period",
                    sources=[
                        "contact_campaigns",
                        "contact_sends (status, tracked, opened_at, clicked_at)",
                    ],
                    figures=figures,
                ),
                note_ja=note[0],
                note_en=note[1],
            )
        )
    return out


def _may_check_quality(ctx: Context) -> bool:
    """The lifecycle slice lets this actor check every customer's data (no audit entry: a question, not a use)."""
    return (
        ctx.actor.cleared
        and row_scope(ctx, LIFECYCLE_QUALITY) == Scope.ALL
        and decide(ctx, LIFECYCLE_QUALITY, Resource(kind="customer")).allowed
    )


def _quality(ctx: Context) -> Kpi:
    definition = (
        "データ品質スコア（issue 21）: 顧客ごとの完全性・妥当性・重複なし・鮮度（各0〜1）の平均の、全顧客の平均。",
        "The data-quality score (issue 21): the mean over customers of the mean of completeness, validity, "
        "no duplicates and freshness (each 0-1).",
    )
    kpi = Kpi(
        code="data_quality",
        group="business",
        label_ja="データ品質スコア",
        label_en="Data-quality score",
        value=None,
        unit="score",
        definition_ja=definition[0],
        definition_en=definition[1],
        evidence=KpiEvidence(sources=["lifecycle.service.quality"]),
    )
    if not _may_check_quality(ctx):
        kpi.note_ja = (
            "データ品質の確認は値を開いて検査するため、全顧客を確認できる個人情報保護管理者だけが計算できます"
            "（mamori quality report）。"
        )
        kpi.note_en = (
            "The quality check opens the values it verifies, so only the privacy officer (who may check every "
            "customer) can compute it (mamori quality report)."
        )
        return kpi
    report = quality_service.report(ctx, worst=0)
    kpi.evidence.denominator = report.customers
    kpi.evidence.denominator_ja = "確認した顧客数"
    kpi.evidence.denominator_en = "customers checked"
    kpi.evidence.figures = {
        **report.parts.model_dump(),
        "due": report.due,
        "incomplete": report.incomplete,
        "invalid": report.invalid,
        "duplicated": report.duplicated,
    }
    if report.customers:
        kpi.value = report.score
    else:
        kpi.note_ja, kpi.note_en = "顧客がいません。", "No customer yet."
    return kpi


# -- privacy ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    received: date
    due: date
    answered: date | None

    def on_time(self) -> bool:
        return self.answered is not None and self.answered <= self.due

    def decided(self, today: date) -> bool:
        """Answered, or open and past due (late): either way its timeliness is known."""
        return self.answered is not None or self.due < today


def _requests(ctx: Context, start: datetime, end: datetime) -> list[_Request]:
    return [
        _Request(
            received=_jst_day(received_at),
            due=extended or due,
            answered=_jst_day(answered_at) if answered_at is not None else None,
        )
        for _id, received_at, due, extended, answered_at, _status in ctx.session.execute(
            queries.requests_received(start, end)
        ).all()
    ]


def _request_kpis(requests: Sequence[_Request], w: Window, today: date) -> list[Kpi]:
    inside = [r for r in requests if w.start <= r.received <= w.end]
    decided = [r for r in inside if r.decided(today)]
    on_time = sum(1 for r in decided if r.on_time())
    pending = len(inside) - len(decided)
    answered = [r for r in inside if r.answered is not None]
    days = [(r.answered - r.received).days for r in answered if r.answered is not None]
    median = float(statistics.median(days)) if days else None
    return [
        Kpi(
            code="requests_on_time",
            group="privacy",
            label_ja="期限内に回答した請求の割合",
            label_en="Requests answered within the deadline",
            value=percent(on_time, len(decided)),
            unit="percent",
            definition_ja=(
                "期間中に受け付けた本人からの請求のうち、期限（延長した場合は延長後の期限）までに回答したものの割合。"
                "分母は回答済みの請求と、未回答で期限を過ぎた請求（期限前の未回答は含めない）。"
            ),
            definition_en=(
                "Of the requests received in the period, the share answered on or before the due date (the "
                "extended one when extended). The denominator is the answered requests and the open ones past "
                "due (open ones not yet due are left out)."
            ),
            evidence=KpiEvidence(
                numerator=on_time,
                numerator_ja="期限内に回答した請求",
                numerator_en="requests answered on time",
                denominator=len(decided),
                denominator_ja="回答済み、または期限切れの請求",
                denominator_en="requests answered or past due",
                sources=["rights_requests (received_at, due_on, extended_due_on, answered_at)"],
                figures={"received": len(inside), "pending_not_due": pending, "late": len(decided) - on_time},
            ),
            note_ja=None if decided else "期間中に期限の来た請求がありません。",
            note_en=None if decided else "No request received in the period has come due.",
        ),
        Kpi(
            code="request_median_days",
            group="privacy",
            label_ja="回答までの日数（中央値）",
            label_en="Median days to answer",
            value=median,
            unit="days",
            definition_ja="期間中に受け付けて回答した請求の、受付日から回答日まで（日本時間の暦日）の日数の中央値。",
            definition_en="The median of the calendar days (JST) from receipt to answer of the requests received "
            "in the period and answered.",
            evidence=KpiEvidence(
                denominator=len(answered),
                denominator_ja="回答した請求",
                denominator_en="requests answered",
                sources=["rights_requests (received_at, answered_at)"],
            ),
            note_ja=None if answered else "期間中に受け付けて回答した請求がありません。",
            note_en=None if answered else "No request received in the period was answered.",
        ),
    ]


def _consent(ctx: Context, w: Window) -> tuple[list[Kpi], ChartData]:
    notified = {
        str(c): int(n)
        for c, n in ctx.session.execute(customers_queries.notified_per_purpose(w.end_utc)).all()
    }
    granted = {str(c): int(n) for c, n in ctx.session.execute(queries.consented_per_purpose(w.end_utc)).all()}
    en = ctx.lang == "en"
    kpis: list[Kpi] = []
    chart_labels: list[str] = []
    values: list[float | None] = []
    for p in purposes_service.list_purposes(ctx, include_retired=False):
        needs = p.consent_appi or p.consent_gdpr
        if not needs and not granted.get(p.code):
            continue
        n, d = granted.get(p.code, 0), notified.get(p.code, 0)
        kpis.append(
            Kpi(
                code="consent_rate",
                key=p.code,
                group="privacy",
                label_ja=f"同意率: {p.title_ja}",
                label_en=f"Consent rate: {p.title_en}",
                value=percent(n, d),
                unit="percent",
                definition_ja=(
                    "利用目的を通知した顧客（消去済みを除く）のうち、その目的への最新の同意記録が「同意」である顧客の"
                    "割合（期間の終了時点）。"
                ),
                definition_en=(
                    "Of the live customers notified of the purpose, the share whose newest consent line for it "
                    "says granted (at the end of the period)."
                ),
                evidence=KpiEvidence(
                    numerator=n,
                    numerator_ja="同意している顧客数",
                    numerator_en="customers consenting",
                    denominator=d,
                    denominator_ja="利用目的を通知した顧客数",
                    denominator_en="customers notified of the purpose",
                    sources=["consent_events", "customer_purposes"],
                    figures={"consent_required": needs},
                ),
                note_ja=None if d else "この目的を通知した顧客がいません。",
                note_en=None if d else "No customer was notified of this purpose.",
            )
        )
        chart_labels.append(p.title_en if en else p.title_ja)
        values.append(percent(n, d))
    chart = ChartData(
        id="consent_rate_per_purpose",
        kind="bar",
        title_ja="利用目的ごとの同意率（%）",
        title_en="Consent rate per purpose (%)",
        labels=chart_labels,
        datasets=[ChartSeries(label_ja="同意率（%）", label_en="consent rate (%)", data=values)],
    )
    return kpis, chart


def _do_not_contact(ctx: Context, w: Window) -> list[Kpi]:
    live = int(ctx.session.execute(customers_queries.live_customers(w.end_utc)).scalar_one())
    stopped = {
        str(c): int(n) for c, n in ctx.session.execute(queries.do_not_contact_per_channel(w.end_utc)).all()
    }
    out = []
    for channel in CHANNELS:
        ja = labels.label(f"dnc_channel.{channel}", "ja", default=channel)
        en = labels.label(f"dnc_channel.{channel}", "en", default=channel)
        n = stopped.get(channel, 0)
        out.append(
            Kpi(
                code="do_not_contact_rate",
                key=channel,
                group="privacy",
                label_ja=f"連絡停止の割合: {ja}",
                label_en=f"Do-not-contact rate: {en}",
                value=percent(n, live),
                unit="percent",
                definition_ja="顧客（消去済みを除く）のうち、その連絡手段の最新の記録が連絡停止である顧客の割合（期間の終了時点）。",
                definition_en="Of the live customers, the share whose newest line for the channel is a "
                "do-not-contact (at the end of the period).",
                evidence=KpiEvidence(
                    numerator=n,
                    numerator_ja="連絡停止の顧客数",
                    numerator_en="customers who asked not to be contacted",
                    denominator=live,
                    denominator_ja="顧客数（消去済みを除く）",
                    denominator_en="live customers",
                    sources=["consent_events (kind channel)", "customers (erased_at)"],
                ),
                note_ja=None if live else "顧客がいません。",
                note_en=None if live else "No customer yet.",
            )
        )
    return out


def _processor_audits(ctx: Context, w: Window, today: date) -> Kpi:
    due_in = []
    for _id, _contract, _status, due_on, performed_on, _result, _remedied in ctx.session.execute(
        queries.processor_audits()
    ).all():
        if not w.start <= due_on <= w.end:
            continue
        if performed_on is not None or due_on < today:  # its timeliness is known
            due_in.append((due_on, performed_on))
    on_time = sum(1 for due_on, done in due_in if done is not None and done <= due_on)
    overdue = sum(1 for due_on, done in due_in if done is None)
    return Kpi(
        code="processor_audits_on_time",
        group="privacy",
        label_ja="期限内に実施した委託先監査の割合",
        label_en="Outsourcee audits on time",
        value=percent(on_time, len(due_in)),
        unit="percent",
        definition_ja=(
            "期限が期間内にある委託先の監査（期限を過ぎたもの、または期限前に実施済みのもの）のうち、期限までに実施した"
            "ものの割合。"
        ),
        definition_en=(
            "Of the outsourcee audits due in the period (due by now, or performed early), the share performed on "
            "or before their due date."
        ),
        evidence=KpiEvidence(
            numerator=on_time,
            numerator_ja="期限内に実施した監査",
            numerator_en="audits performed on time",
            denominator=len(due_in),
            denominator_ja="期限の来た監査",
            denominator_en="audits come due",
            sources=["processor_audits (due_on, performed_on)"],
            figures={"overdue_not_performed": overdue, "late": len(due_in) - on_time - overdue},
        ),
        note_ja=None if due_in else "期間中に期限の来た委託先監査がありません。",
        note_en=None if due_in else "No outsourcee audit came due in the period.",
    )


def _incidents(ctx: Context, w: Window) -> tuple[list[Kpi], ChartData]:
    rows = list(ctx.session.execute(queries.incidents_known(w.start_utc, w.end_utc)).scalars())
    causes: Counter[str] = Counter(r.cause for r in rows)
    triggers: Counter[str] = Counter()
    reportable = 0
    for row in rows:
        found = classification(ctx, row)  # ids, flags and counts of the scope; nothing personal
        triggers.update(found.triggers)
        reportable += int(found.reportable)
    source = ["incidents (known_at, cause)", "incidents.service.classify"]
    out = [
        Kpi(
            code="incidents",
            group="privacy",
            label_ja="漏えい等事案の件数",
            label_en="Incidents",
            value=float(len(rows)),
            unit="count",
            definition_ja="期間中に把握した漏えい等事案（漏えい・滅失・毀損とそのおそれ）の件数。",
            definition_en="Incidents (leak, loss, damage, or their possibility) the company knew of in the period.",
            evidence=KpiEvidence(
                numerator=len(rows),
                numerator_ja="事案の件数",
                numerator_en="incidents",
                sources=source,
                figures={
                    "reportable": reportable,
                    **{f"cause_{c}": n for c, n in sorted(causes.items())},
                    **{f"trigger_{t}": triggers.get(t, 0) for t in TRIGGERS},
                },
            ),
        )
    ]
    for trigger in TRIGGERS:
        ja, en = TRIGGER_LABELS[trigger]
        out.append(
            Kpi(
                code="incidents_by_trigger",
                key=trigger,
                group="privacy",
                label_ja=f"報告対象の事態: {ja}",
                label_en=f"Report trigger: {en}",
                value=float(triggers.get(trigger, 0)),
                unit="count",
                definition_ja="期間中に把握した事案のうち、この報告対象の事態（R-26-1）に当たるものの件数。",
                definition_en="Incidents known in the period that meet this report trigger (R-26-1).",
                evidence=KpiEvidence(
                    numerator=triggers.get(trigger, 0),
                    numerator_ja="該当する事案",
                    numerator_en="incidents meeting it",
                    denominator=len(rows),
                    denominator_ja="期間中の事案",
                    denominator_en="incidents in the period",
                    sources=source,
                ),
            )
        )
    en_lang = ctx.lang == "en"
    listed = [c for c in CAUSE_LABELS if causes.get(c)]
    chart = ChartData(
        id="incidents_by_cause",
        kind="doughnut",
        title_ja="原因別の漏えい等事案",
        title_en="Incidents by cause",
        labels=[CAUSE_LABELS[c][1 if en_lang else 0] for c in listed],
        datasets=[
            ChartSeries(label_ja="件数", label_en="incidents", data=[float(causes[c]) for c in listed])
        ],
    )
    return out, chart


# -- charts over 24 months ----------------------------------------------------------------------------------------


def _monthly(
    ctx: Context, w: Window, dialect: str, requests: Sequence[_Request], today: date
) -> list[ChartData]:
    months = months_ending(w.end)
    keys = [_label(m) for m in months]
    first, after = jst_midnight(months[0]), jst_midnight(_next_month(months[-1]))
    purchases = {
        str(m): int(n)
        for m, n in ctx.session.execute(customers_queries.purchases_by_month(dialect, first, after)).all()
    }
    by_channel: dict[str, dict[str, int]] = {}
    acquired = customers_queries.new_customers_by_month(dialect, first, after)
    for month, channel, n in ctx.session.execute(acquired).all():
        by_channel.setdefault(channel or UNKNOWN_CHANNEL, {})[str(month)] = int(n)
    received: Counter[str] = Counter()
    decided: Counter[str] = Counter()
    on_time: Counter[str] = Counter()
    for r in requests:
        key = _label(r.received.replace(day=1))
        received[key] += 1
        if r.decided(today):
            decided[key] += 1
            on_time[key] += int(r.on_time())
    return [
        ChartData(
            id="purchases_per_month",
            kind="bar",
            title_ja=f"月別の購入件数（直近{CHART_MONTHS}か月）",
            title_en=f"Purchases per month (last {CHART_MONTHS} months)",
            labels=keys,
            datasets=[
                ChartSeries(
                    label_ja="購入件数", label_en="purchases", data=[float(purchases.get(k, 0)) for k in keys]
                )
            ],
        ),
        ChartData(
            id="new_customers_per_month",
            kind="bar",
            title_ja="月別・取得経路別の新規顧客数",
            title_en="New customers per month by channel",
            labels=keys,
            datasets=[
                ChartSeries(
                    label_ja=channel if channel != UNKNOWN_CHANNEL else "（経路の記録なし）",
                    label_en=channel if channel != UNKNOWN_CHANNEL else "(no channel recorded)",
                    data=[float(by_channel[channel].get(k, 0)) for k in keys],
                )
                for channel in sorted(by_channel)
            ],
        ),
        ChartData(
            id="requests_per_month",
            kind="bar",
            title_ja="月別の本人からの請求と期限内回答率",
            title_en="Requests per month and the share answered on time",
            labels=keys,
            datasets=[
                ChartSeries(
                    label_ja="受付件数", label_en="requests received", data=[float(received[k]) for k in keys]
                ),
                ChartSeries(
                    label_ja="期限内回答率（%）",
                    label_en="answered on time (%)",
                    data=[percent(on_time[k], decided[k]) for k in keys],
                ),
            ],
        ),
    ]


# -- the report -----------------------------------------------------------------------------------------------------


def kpis(ctx: Context, *, start: date | None = None, end: date | None = None) -> KpiReport:
    """The KPIs of the period (JST dates, both included; default the year ending today) and the dashboard's charts.
    ``analytics.kpi``; audited with the period and counts."""
    authorise(ctx, ANALYTICS_KPI, RESOURCE)
    w = window(ctx, start, end)
    today = today_jst(ctx.clock)
    dialect = ctx.session.get_bind().dialect.name
    new = {
        (channel or UNKNOWN_CHANNEL): int(n)
        for channel, n in ctx.session.execute(
            customers_queries.new_customers_by_channel(w.start_utc, w.end_utc)
        ).all()
    }
    months = months_ending(w.end)
    chart_start = min(jst_midnight(months[0]), w.start_utc)
    requests = _requests(ctx, chart_start, w.end_utc)
    bought = _purchases(ctx, w, dialect)
    business = [
        *_cac(ctx, w, new),
        _repeat_rate(bought),
        _churn_rate(bought, w),
        _ltv(ctx),
        *_email_rates(ctx, w),
        _quality(ctx),
    ]
    consent_kpis, consent_chart = _consent(ctx, w)
    incident_kpis, incident_chart = _incidents(ctx, w)
    privacy = [
        *_request_kpis(requests, w, today),
        *consent_kpis,
        *_do_not_contact(ctx, w),
        _processor_audits(ctx, w, today),
        *incident_kpis,
    ]
    monthly = _monthly(ctx, w, dialect, [r for r in requests if r.received >= months[0]], today)
    charts = [*monthly, consent_chart, incident_chart]
    result = KpiReport(
        generated_at=ctx.clock.now(),
        start=w.start,
        end=w.end,
        kpis=[*business, *privacy],
        charts=charts,
    )
    record_info(
        ctx,
        A_KPI,
        details={
            "start": w.start.isoformat(),
            "end": w.end.isoformat(),
            "kpis": len(result.kpis),
            "not_computable": sum(1 for k in result.kpis if k.value is None),
            "new_customers": sum(new.values()),
            "requests": sum(1 for r in requests if w.start <= r.received <= w.end),
        },
    )
    return result
