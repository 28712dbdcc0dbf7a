"""The analytics pages without a browser (issue 24, items 4 and 5): ``/analytics`` (the KPI dashboard: cards in two
groups, the period filter, the charts as ChartData JSON with their tables), ``/analytics/checklist`` and
``/analytics/datamap`` — for the roles allowed, refused with the rule id for the others, bad periods answered with
a 422 page that says which date, and Chart.js served from ``web-vendor/`` (or, when it is not installed, the app
still starting and showing the tables alone).

Consent rate of 「メールでのご案内」 by hand: two customers notified of it, one of whom consented → 1 / 2 = 50.0%."""

from __future__ import annotations

import html
import logging
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mamori.analytics import web as analytics_web
from mamori.analytics.kpi_schemas import ChartData
from mamori.analytics.web import kpi as kpi_web
from mamori.api.app import create_app
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import Runtime
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import grant, make_customer
from tests.web.test_customers_pages import page_headers

PERSONAL = ("山田", "ヤマダ", "example.jp", "090-", "渋谷", "150-0001", "1985")
CHART_JSON = re.compile(r'<template class="chart-data">(.*?)</template>', re.S)


@pytest.fixture
def site(runtime: Runtime) -> dict[str, Any]:
    api = Api(runtime)
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        sato = staff_service.actor_for(ctx, "sato")
    consenting = make_customer(runtime, sato, email="a@example.jp", phone="090-1111-2222")
    make_customer(runtime, sato, email="b@example.jp", phone="090-3333-4444")  # notified, no consent
    grant(runtime, sato, consenting, "marketing-email")
    return {"api": api}


def charts_in(text: str) -> list[ChartData]:
    return [ChartData.model_validate_json(block) for block in CHART_JSON.findall(text)]


def chart_table(text: str, chart_id: str) -> list[list[str]]:
    """The chart's table as rows of cell texts (the header row first)."""
    m = re.search(
        rf'<figure class="chart" id="chart-{chart_id}".*?<table class="chart-table">(.*?)</table>', text, re.S
    )
    assert m, chart_id
    rows = re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S)
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]


def card(text: str, card_id: str) -> str:
    m = re.search(rf'<section class="card kpi" id="{card_id}">(.*?)</section>', text, re.S)
    assert m, card_id
    return m.group(1)


def test_the_dashboard_shows_both_groups_the_hand_computed_consent_rate_and_valid_charts(
    site: dict[str, Any],
) -> None:
    c, _ = site["api"].client("po")
    r = c.get("/analytics")
    assert r.status_code == 200, r.text
    page_headers(r)
    assert "KPI ダッシュボード" in r.text and "事業 KPI" in r.text and "プライバシー KPI" in r.text
    for code in ("cac", "repeat_rate", "churn_rate", "ltv", "email_open_rate", "data_quality"):
        assert f'id="kpi-business-{code}"' in r.text, code
    for code in (
        "requests_on_time",
        "request_median_days",
        "consent_rate",
        "do_not_contact_rate",
        "incidents",
    ):
        assert f'id="kpi-privacy-{code}"' in r.text, code
    consent = card(r.text, "kpi-privacy-consent_rate")
    row = re.search(r"<th scope=\"row\">メールでのご案内</th>(.*?)</tr>", consent, re.S)
    assert row and "50.0%" in row.group(1) and "1 / 2" in row.group(1)
    # a value the service cannot compute says so, with the reason, instead of a number
    ltv = card(r.text, "kpi-business-ltv")
    assert "計算できません" in ltv and "CLV" in ltv
    assert "定義と根拠" in ltv and "<details>" in ltv
    # the charts: each JSON block is a ChartData, with a canvas and a table of the same figures beside it
    charts = charts_in(r.text)
    assert {"purchases_per_month", "consent_rate_per_purpose"} <= {ch.id for ch in charts}
    no_incidents = re.search(r'<figure class="chart" id="chart-incidents_by_cause".*?</figure>', r.text, re.S)
    assert no_incidents and "この期間のデータはありません" in no_incidents.group(0)
    assert "<canvas" not in no_incidents.group(0)  # nothing to draw: no empty chart
    for ch in charts:
        assert f'id="chart-{ch.id}" data-chart="{ch.id}"' in r.text
        assert f'<canvas id="chart-{ch.id}-canvas" role="img"' in r.text
    consent_chart = next(ch for ch in charts if ch.id == "consent_rate_per_purpose")
    assert consent_chart.datasets[0].data[consent_chart.labels.index("メールでのご案内")] == 50.0
    header, row = chart_table(r.text, "consent_rate_per_purpose")[:2]
    assert row[header.index("メールでのご案内")] == "50"  # the table beside the chart says the same
    # Chart.js and our script, both from the app
    if analytics_web.chart_js_dir() is not None:
        assert '<script src="/static/vendor/chart.js/chart.umd.min.js" defer></script>' in r.text
    assert '<script src="/static/mamori/charts.js" defer></script>' in r.text
    text = re.sub(r"[0-9A-Za-z_-]{16,}", "<token>", r.text)
    for value in PERSONAL:
        assert value not in text, value


def test_the_dashboard_in_english(site: dict[str, Any]) -> None:
    c, _ = site["api"].client("po")
    r = c.get("/analytics", params={"lang": "en"})
    assert r.status_code == 200 and "KPI dashboard" in r.text and "Privacy KPIs" in r.text
    assert "Not computable" in r.text and "Definition and evidence" in r.text
    assert '<html lang="en">' in r.text


def test_the_period_filter(site: dict[str, Any]) -> None:
    c, _ = site["api"].client("analyst")
    r = c.get("/analytics", params={"start": "２０２６-０１-０１", "end": "2026/3/31"})  # full-width, slashes
    assert r.status_code == 200, r.text
    assert "2026年1月1日〜2026年3月31日" in r.text
    assert 'name="start" value="2026-01-01"' in r.text and 'name="end" value="2026-03-31"' in r.text


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"start": "2026-13-01"}, "開始日: 日付を 2026-01-31 の形で入力してください"),
        ({"start": "2026-01-01", "end": "yesterday"}, "終了日: 日付を 2026-01-31 の形で入力してください"),
        ({"start": "2026-06-01", "end": "2026-01-01"}, "期間の開始日が終了日より後です"),
        ({"start": "2000-01-01", "end": "2026-01-01"}, "期間は3660日以内で指定してください"),
    ],
)
def test_a_bad_period_is_a_422_that_says_what_is_wrong(
    site: dict[str, Any], params: dict[str, str], said: str
) -> None:
    c, _ = site["api"].client("analyst")
    r = c.get("/analytics", params=params)
    assert r.status_code == 422, r.text
    assert said in re.sub(r"<[^>]+>", "", r.text)
    assert "yesterday" not in r.text  # the input is not echoed


@pytest.mark.parametrize("user", ["sato", "support"])
@pytest.mark.parametrize("path", ["/analytics", "/analytics/checklist", "/analytics/datamap"])
def test_sales_and_support_are_refused_with_the_rule_id(site: dict[str, Any], user: str, path: str) -> None:
    c, _ = site["api"].client(user)
    r = c.get(path)
    assert r.status_code == 403, r.text
    assert "R-23-2" in r.text and "権限では、この操作はできません" in r.text
    assert 'data-chart="' not in r.text and "<svg" not in r.text


def test_each_number_links_to_the_list_behind_it_when_the_role_has_that_list(site: dict[str, Any]) -> None:
    po, _ = site["api"].client("po")
    text = po.get("/analytics").text
    requests = card(text, "kpi-privacy-requests_on_time")
    assert '<a href="/rights">一覧: 本人からの請求</a>' in requests
    assert '<a href="/consent">一覧: 同意・連絡停止</a>' in card(text, "kpi-privacy-consent_rate")
    analyst, _ = site["api"].client("analyst")
    text = analyst.get("/analytics").text
    assert 'href="/rights"' not in card(
        text, "kpi-privacy-requests_on_time"
    )  # not a page the analyst may open
    assert '<a href="/contact/campaigns">一覧: メール配信</a>' in card(text, "kpi-business-email_open_rate")


@pytest.mark.parametrize("path", ["/analytics/checklist", "/analytics/datamap"])
def test_the_analyst_sees_the_dashboard_but_not_the_governance_pages(site: dict[str, Any], path: str) -> None:
    c, _ = site["api"].client("analyst")
    assert c.get("/analytics").status_code == 200
    r = c.get(path)
    assert r.status_code == 403 and "R-23-2" in r.text
    assert (
        'href="/analytics/checklist"' not in c.get("/analytics").text
    )  # no link to a page they may not open


def test_the_menu_shows_analytics_to_the_roles_allowed(site: dict[str, Any]) -> None:
    for user, shown in (
        ("po", True),
        ("analyst", True),
        ("admin", True),
        ("sato", False),
        ("support", False),
    ):
        c, _ = site["api"].client(user)
        assert ('<a href="/analytics">' in c.get("/").text) is shown, user


def test_chart_js_is_served_by_the_app_as_javascript(site: dict[str, Any]) -> None:
    if analytics_web.chart_js_dir() is None:
        pytest.skip("Chart.js is not installed (make install runs npm ci in web-vendor/)")
    c, _ = site["api"].client()
    r = c.get("/static/vendor/chart.js/chart.umd.min.js")
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]
    assert r.text.startswith("/*!\n * Chart.js v4.")
    r = c.get("/static/mamori/charts.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"] and "data-chart" in r.text


def test_without_chart_js_the_app_starts_and_the_pages_show_tables(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    api = Api(runtime)
    monkeypatch.setattr(kpi_web, "WEB_VENDOR", tmp_path / "web-vendor")  # nothing installed there
    kpi_web.chart_js_dir.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger=kpi_web.__name__):
            app = create_app(runtime)
            create_app(runtime)
        warnings = [rec for rec in caplog.records if "Chart.js is not installed" in rec.getMessage()]
        assert len(warnings) == 1  # once, not per app or per page
        c = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
        assert c.get("/static/vendor/chart.js/chart.umd.min.js").status_code == 404
        api.app = app
        po, _ = api.client("po")
        r = po.get("/analytics")
        assert r.status_code == 200, r.text
        assert "chart.umd.min.js" not in r.text and "表のみを表示しています" in r.text
        assert charts_in(r.text) and '<table class="chart-table">' in r.text
    finally:
        kpi_web.chart_js_dir.cache_clear()


def test_chart_numbers_and_kpi_values_in_words() -> None:
    assert kpi_web.chart_number(None, "ja") == "—"
    assert kpi_web.chart_number(1234.0, "ja") == "1,234"
    assert kpi_web.chart_number(12.34, "ja") == "12.3"
    assert kpi_web.parse_day("２０２６年１月５日") == date(2026, 1, 5)
    assert kpi_web.parse_day(" 2026/1/5 ") == date(2026, 1, 5)
    assert kpi_web.parse_day("2026-02-30") is None
    assert kpi_web.parse_day("1/5/2026") is None


STATUS_WORDS = {"ok": "対応済み", "attention": "要確認", "ng": "未対応", "manual": "人による確認"}


@pytest.mark.parametrize("user", ["po", "admin"])
def test_the_checklist_shows_each_item_with_its_status_evidence_and_rules(
    runtime: Runtime, site: dict[str, Any], user: str
) -> None:
    from mamori.analytics.service import checklist as checklist_service

    c, _ = site["api"].client(user)
    r = c.get("/analytics/checklist")
    assert r.status_code == 200, r.text
    page_headers(r)
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        report = checklist_service.checklist(ctx)
    assert len(report.items) >= 8
    for item in report.items:
        m = re.search(
            rf'<li class="card" id="check-{item.id}">(.*?)</li>\s*(?:<li class="card"|</ol>)', r.text, re.S
        )
        assert m, item.id
        block = m.group(1)
        assert item.question_ja in block
        assert f'data-status="{item.status}">{STATUS_WORDS[item.status]}</span>' in block
        for rule in item.rule_ids:
            assert rule in block
        # its evidence, one line per finding (the texts hold live counts, e.g. of audit entries: the words only)
        shown = re.findall(r"<li>(.*?)</li>", block, re.S)
        assert len(shown) == len(item.evidence)
        for finding, line in zip(item.evidence, shown, strict=True):
            assert re.sub(r"\d", "", finding.ja)[:12] in re.sub(r"\d", "", html.unescape(line)), (
                finding.ja,
                line,
            )
    # the counts line: one figure per status
    counts = re.search(r'<p id="checklist-counts">(.*?)</p>', r.text, re.S)
    assert counts
    for status, word in STATUS_WORDS.items():
        assert re.search(rf"{word}</span> {report.counts.get(status, 0)}", counts.group(1)), status
    r = c.get("/analytics/checklist", params={"lang": "en"})
    assert r.status_code == 200 and "Practical checklist" in r.text and report.items[0].question_en in r.text


def _a_map_abroad() -> Any:
    """A small data map by hand: the persons → the customers store; us → an outsourcee in the United States."""
    from datetime import UTC, datetime

    from mamori.analytics.kpi_schemas import DataMap, DataStore, Flow, MapNode

    at = datetime(2026, 11, 1, tzinfo=UTC)
    return DataMap(
        generated_at=at,
        nodes=[
            MapNode(id="person", kind="person", name="本人（顧客）"),
            MapNode(id="self", kind="self", name="架空商事株式会社", country="JP"),
            MapNode(id="store:source:customers", kind="store", name="顧客情報", country="JP"),
            MapNode(id="counterparty:c1", kind="outsourcee", name="Example Cloud Inc.", country="US"),
        ],
        stores=[
            DataStore(
                id="source:customers",
                kind="source",
                name="customers",
                label_ja="顧客情報",
                label_en="customers",
                categories=["contact"],
            )
        ],
        flows=[
            Flow(
                id="f1",
                from_="person",
                to="store:source:customers",
                categories=["contact"],
                basis="collection",
                basis_ja="本人からの取得",
                basis_en="collection from the person",
                rule_ids=["R-20-1"],
                count=2,
            ),
            Flow(
                id="f2",
                from_="self",
                to="counterparty:c1",
                categories=["contact"],
                basis="entrustment",
                basis_ja="委託",
                basis_en="entrustment",
                cross_border="US",
                safeguard_ja="基準適合体制（契約）",
                safeguard_en="equivalent measures (contract)",
                rule_ids=["R-28-1"],
                last_at=at,
            ),
        ],
        purposes=[],
        notes=[],
    )


def test_the_data_map_is_drawn_in_three_columns_and_marks_what_goes_abroad() -> None:
    drawing = kpi_web.draw_map(_a_map_abroad(), "ja")
    boxes = {b.id: b for b in drawing.boxes}
    assert boxes["person"].x < boxes["store:source:customers"].x < boxes["counterparty:c1"].x
    assert boxes["self"].x == boxes["store:source:customers"].x
    assert boxes["person"].name == "本人（顧客）" and boxes["self"].name == "架空商事株式会社"
    assert boxes["counterparty:c1"].name == "Example Cloud Inc." and boxes["counterparty:c1"].abroad
    assert boxes["counterparty:c1"].sub == "外国: アメリカ合衆国"
    assert not boxes["store:source:customers"].abroad and boxes["store:source:customers"].sub == "連絡先"
    lines = {line.flow.id: line for line in drawing.lines}
    assert lines["f2"].dashed and not lines["f1"].dashed
    assert lines["f1"].colour != lines["f2"].colour and len(drawing.markers) == 2
    # each curve starts at its sender's right edge and ends at its recipient's left edge
    a, b = boxes["person"], boxes["store:source:customers"]
    assert lines["f1"].path.startswith(f"M{a.x + kpi_web.BOX_WIDTH},{a.y + kpi_web.BOX_HEIGHT // 2} ")
    assert lines["f1"].path.endswith(f" {b.x},{b.y + kpi_web.BOX_HEIGHT // 2}")


def test_the_data_map_page_draws_the_svg_and_the_same_as_tables(
    site: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mamori.analytics.service import datamap as datamap_service

    c, _ = site["api"].client("po")
    r = c.get("/analytics/datamap")  # the service on the test store
    assert r.status_code == 200, r.text
    page_headers(r)
    assert 'role="img" aria-labelledby="datamap-title datamap-desc"' in r.text
    assert r.text.count('<g class="datamap-node"') >= 3 and 'marker-end="url(#datamap-arrow-1)"' in r.text

    monkeypatch.setattr(datamap_service, "data_map", lambda ctx: _a_map_abroad())  # a map with a flow abroad
    r = c.get("/analytics/datamap")
    assert r.status_code == 200, r.text
    svg = r.text[r.text.index("<svg") : r.text.index("</svg>")]
    assert svg.count('<g class="datamap-node"') == 4 and svg.count("marker-end=") == 2
    assert svg.count('stroke-dasharray="6 4" marker-end=') == 1  # the flow abroad, dashed
    assert "外国: US" in svg
    flows = re.search(r'<section class="card" id="datamap-flows".*?</section>', r.text, re.S)
    assert flows
    row = re.search(r'<tr id="flow-f2" class="abroad">(.*?)</tr>', flows.group(0), re.S)
    assert (
        row and "<strong>アメリカ合衆国</strong>" in row.group(1) and "基準適合体制（契約）" in row.group(1)
    )
    assert (
        "Example Cloud Inc." in row.group(1)
        and "架空商事株式会社" in row.group(1)
        and "R-28-1" in row.group(1)
    )
    assert re.search(r'<tr id="flow-f1">.*?本人（顧客）.*?顧客情報.*?2件', flows.group(0), re.S)
