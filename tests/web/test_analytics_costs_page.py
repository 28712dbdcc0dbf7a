"""The acquisition costs screen without a browser (issue 24, item 4): ``GET /analytics/costs`` lists every line,
newest first, the superseded ones marked (a correction is a new line for the same channel, campaign and period);
``POST /analytics/costs`` adds a line through the costs service (stored, audited ``analytics.cost_add``) and
redirects to the list with 「登録しました」; bad input comes back as the form (422) with the error in words and the
service's code, the values kept, nothing stored — and a note refused for personal data is not shown back; a post
without the session's CSRF token changes nothing; sales, support and the administrator (no ``analytics.costs``) get
the refusal page with R-23-2 for both; the page in English. Synthetic data only."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from mamori.analytics.kpi_schemas import CostIn, CostRead
from mamori.analytics.service import costs as costs_service
from mamori.analytics.web import costs as costs_web
from mamori.customers import service as customers_service
from mamori.customers.schemas import CustomerCreate, ProvenanceIn
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.runtime import Runtime
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.web.test_customers_pages import page_headers

CAMPAIGN_FIELD = costs_web.CAMPAIGN_FIELD  # CostIn's / CostRead's field for the campaign code

URL = "/analytics/costs"
CAMPAIGN = "2026秋フェア"  # an acquisition campaign's code, as recorded on provenance
FORM = {
    "channel": "web_form",
    "campaign": "",
    "period_start": "2026-01-01",
    "period_end": "2026-03-31",
    "amount_yen": "120,000",
    "note": "検索広告（1〜3月）",
}


@pytest.fixture
def site(runtime: Runtime) -> dict[str, Any]:
    api = Api(runtime)
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        actors = {u: staff_service.actor_for(ctx, u) for u in ("sato", "analyst", "po")}
    make_customer(runtime, actors["sato"])  # provenance channel web_form: a channel in use
    with runtime.transaction(
        actors["sato"]
    ) as ctx:  # acquired at a fair: channel event, campaign 2026秋フェア
        customers_service.create(
            ctx,
            CustomerCreate(name="展示 花子", kana="テンジ ハナコ", emails=["hanako@example.jp"]),
            provenance=ProvenanceIn(
                method="direct", channel="event", notice_version="n-2026", campaign=CAMPAIGN
            ),
            purposes=["contract"],
        )
    return {"api": api, "actors": actors}


def seed(rt: Runtime, actor: Actor, **kw: Any) -> CostRead:
    values: dict[str, Any] = {
        "channel": "web_form",
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 3, 31),
        "amount_yen": 120_000,
        "note": "検索広告（1〜3月）",
    }
    values.update(kw)
    with rt.transaction(actor) as ctx:
        return costs_service.add_cost(ctx, CostIn(**values))


def stored(rt: Runtime, actor: Actor) -> list[CostRead]:
    with rt.transaction(actor, readonly=True) as ctx:
        return costs_service.list_costs(ctx)


def rows(text: str) -> list[tuple[str, str]]:
    """(row id, row text without tags) of the table's body rows, in page order."""
    body = re.search(r'<table id="costs">.*?<tbody>(.*?)</tbody>', text, re.S)
    assert body, "no table"
    found = re.findall(r'<tr id="cost-([0-9a-f]{32})"[^>]*>(.*?)</tr>', body.group(1), re.S)
    return [(i, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cells)).strip()) for i, cells in found]


def plain(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))


def test_the_page_lists_lines_newest_first_with_the_superseded_one_marked(site: dict[str, Any]) -> None:
    rt: Runtime = site["api"].rt
    analyst = site["actors"]["analyst"]
    first = seed(rt, analyst)
    rt.clock.advance(timedelta(minutes=5))
    correction = seed(rt, analyst, amount_yen=100_000, note="訂正: 請求書の金額")
    rt.clock.advance(timedelta(minutes=5))
    other = seed(rt, site["actors"]["po"], period_start=date(2026, 4, 1), period_end=date(2026, 6, 30))
    c, _ = site["api"].client("analyst")
    r = c.get(URL)
    assert r.status_code == 200, r.text
    page_headers(r)
    for head in ("経路", "キャンペーン", "期間", "金額", "メモ", "登録者", "登録日時"):
        assert f'<th scope="col">{head}</th>' in r.text, head
    shown = rows(r.text)
    assert [i for i, _ in shown] == [other.id, correction.id, first.id]  # newest first
    texts = dict(shown)
    assert "2026年4月1日〜2026年6月30日" in texts[other.id] and "120,000円" in texts[other.id]
    assert "集計に使う" in texts[other.id] and f"staff:{site['api'].ids['po']}" in texts[other.id]
    assert "100,000円" in texts[correction.id] and "訂正: 請求書の金額" in texts[correction.id]
    assert "自分" in texts[correction.id]  # entered by the analyst viewing the page
    assert "集計に使う" in texts[correction.id] and "訂正済み" not in texts[correction.id]
    assert "訂正済み" in texts[first.id] and "2026年1月1日〜2026年3月31日" in texts[first.id]
    assert re.search(rf'<tr id="cost-{first.id}" class="retired">', r.text)
    assert "ウェブフォーム（web_form）" in texts[first.id]
    assert "（日本時間）" in texts[first.id]  # 登録日時 in JST
    assert "集計に使う行 2件／全 3件" in plain(r.text)
    # the form: the channels in use and 「キャンペーン」, the CSRF token, the fields
    channel = re.search(r'<select id="cost-channel" name="channel".*?</select>', r.text, re.S)
    assert channel
    assert re.findall(r'<option value="([^"]*)"', channel.group(0)) == ["", "event", "web_form", "campaign"]
    assert ">キャンペーン</option>" in channel.group(0)
    for name in ("campaign", "period_start", "period_end", "amount_yen"):
        assert f'name="{name}"' in r.text, name
    assert '<textarea id="cost-note" name="note"' in r.text
    assert f'<datalist id="cost-campaigns"><option value="{CAMPAIGN}"></option></datalist>' in r.text
    assert re.search(r'<input type="hidden" name="csrf" value="[^"]+">', r.text)


def test_an_empty_list_and_the_links_from_the_dashboard(site: dict[str, Any]) -> None:
    c, _ = site["api"].client("po")
    r = c.get(URL)
    assert r.status_code == 200 and 'id="costs-empty"' in r.text and '<table id="costs">' not in r.text
    dashboard = c.get("/analytics").text
    cac = re.search(r'<section class="card kpi" id="kpi-business-cac">(.*?)</section>', dashboard, re.S)
    assert cac and '<a href="/analytics/costs" id="cac-costs">獲得費用を入力</a>' in cac.group(1)
    nav = re.search(r'<nav class="subnav".*?</nav>', dashboard, re.S)
    assert nav and '<a href="/analytics/costs">獲得費用</a>' in nav.group(0)
    admin, _ = site["api"].client("admin")  # sees the dashboard, may not enter costs: no link
    assert 'href="/analytics/costs"' not in admin.get("/analytics").text


def test_adding_a_line_through_the_form_stores_it_audits_it_and_redirects(site: dict[str, Any]) -> None:
    rt: Runtime = site["api"].rt
    c, csrf = site["api"].client("analyst")
    form = {**FORM, "amount_yen": "１２０,０００", "period_end": "2026/3/31"}  # full-width digits, slashes
    r = c.post(URL, data={"csrf": csrf, **form}, follow_redirects=False)
    assert r.status_code == 303, r.text
    [line] = stored(rt, site["actors"]["po"])
    assert r.headers["location"] == f"{URL}?added={line.id}"
    assert (
        line.channel,
        line.campaign_id,
        line.period_start,
        line.period_end,
        line.amount_yen,
        line.note,
    ) == (
        "web_form",
        None,
        date(2026, 1, 1),
        date(2026, 3, 31),
        120_000,
        "検索広告（1〜3月）",
    )
    assert line.created_by == f"staff:{site['api'].ids['analyst']}"
    entry = rt.audit.search(action="analytics.cost_add", limit=1)[0]
    assert entry.actor == line.created_by and entry.decision == "allow"
    assert entry.details["cost_id"] == line.id and entry.details["amount_yen"] == 120_000
    page = c.get(r.headers["location"])
    assert page.status_code == 200
    notice = re.search(r'<p class="notice" role="status" id="cost-added">(.*?)</p>', page.text, re.S)
    assert notice and "獲得費用を登録しました" in notice.group(1)
    assert "2026年1月1日〜2026年3月31日" in notice.group(1) and "120,000円" in notice.group(1)
    assert [i for i, _ in rows(page.text)] == [line.id]
    assert 'id="cost-added"' not in c.get(URL).text  # the message is the redirect's only
    assert 'id="cost-added"' not in c.get(URL, params={"added": "0" * 32}).text  # no such line: no message


def test_a_campaign_line_through_the_form(site: dict[str, Any]) -> None:
    rt: Runtime = site["api"].rt
    c, csrf = site["api"].client("po")
    r = c.post(URL, data={"csrf": csrf, **FORM, "channel": "campaign", "campaign": f" {CAMPAIGN} "})
    assert r.status_code == 200 and 'id="cost-added"' in r.text  # followed the redirect
    [line] = stored(rt, site["actors"]["po"])
    assert line.channel == "campaign" and getattr(line, CAMPAIGN_FIELD) == CAMPAIGN
    assert f"<code>{CAMPAIGN}</code>" in r.text and "キャンペーン" in dict(rows(r.text))[line.id]


@pytest.mark.parametrize(
    ("change", "field", "said"),
    [
        ({"amount_yen": "0"}, "amount_yen", "金額（円） : 金額は 1 円以上の整数で入力してください。"),
        ({"amount_yen": "-5"}, "amount_yen", "金額は 1 円以上の整数で入力してください。"),
        ({"amount_yen": "12万"}, "amount_yen", "金額は 1 円以上の整数で入力してください。"),
        ({"period_start": "2026-04-01"}, "period_end", "期間の開始日が終了日より後です"),
        ({"period_start": "2026-13-01"}, "period_start", "日付を 2026-01-31 の形で入力してください。"),
        ({"period_end": ""}, "period_end", "日付を 2026-01-31 の形で入力してください。"),
        (
            {"channel": "tv_ads"},
            "channel",
            "（記録のある経路: event, web_form、またはキャンペーンは campaign）。 unknown_channel",
        ),
        ({"channel": ""}, "channel", "経路を選んでください。"),
        ({"channel": "campaign"}, "campaign", "campaign_required"),
        ({"channel": "campaign", "campaign": "2025春フェア"}, "campaign", "取得の記録にないキャンペーンです"),
        ({"campaign": CAMPAIGN}, "campaign", "campaign_not_expected"),
    ],
)
def test_bad_input_comes_back_as_the_form_with_the_error_and_nothing_stored(
    site: dict[str, Any], change: dict[str, str], field: str, said: str
) -> None:
    rt: Runtime = site["api"].rt
    c, csrf = site["api"].client("analyst")
    form = {**FORM, **change}
    r = c.post(URL, data={"csrf": csrf, **form}, follow_redirects=False)
    assert r.status_code == 422, r.text
    page_headers(r)
    errors = re.search(r'<div class="card" id="form-errors" role="alert">(.*?)</div>', r.text, re.S)
    assert errors and said in plain(errors.group(1)), plain(errors.group(1))
    assert f'id="cost-{field}"' in r.text and f'id="cost-{field}-error"' in r.text
    assert re.search(rf'id="cost-{field}"[^>]*aria-invalid="true"', r.text)
    assert stored(rt, site["actors"]["analyst"]) == []
    # the values entered are kept
    assert ">検索広告（1〜3月）</textarea>" in r.text
    if form["amount_yen"]:
        assert 'name="amount_yen" type="text"' in r.text and f'value="{form["amount_yen"]}"' in r.text
    if form["channel"] in ("web_form", "campaign"):
        assert f'<option value="{form["channel"]}" selected>' in r.text


@pytest.mark.parametrize(
    ("change", "code", "said", "secret"),
    [
        (
            {"note": "紹介者 山田太郎さん 090-1234-5678 への謝礼"},
            "personal_data_in_text",
            "メモに個人データが含まれています",
            "090-1234-5678",
        ),
        (
            {"channel": "campaign", "campaign": "taro@example.jp"},
            "bad_campaign_code",
            "メールアドレスや電話番号は指定できません",
            "taro@example.jp",
        ),
    ],
)
def test_a_value_that_may_name_a_person_is_refused_and_not_shown_back(
    site: dict[str, Any], change: dict[str, str], code: str, said: str, secret: str
) -> None:
    rt: Runtime = site["api"].rt
    c, csrf = site["api"].client("analyst")
    r = c.post(URL, data={"csrf": csrf, **FORM, **change})
    assert r.status_code == 422
    assert said in r.text and code in r.text
    assert secret not in r.text and "山田" not in r.text
    assert 'value="120,000"' in r.text  # the other values are kept
    assert stored(rt, site["actors"]["analyst"]) == []


@pytest.mark.parametrize(
    ("sent", "headers"),
    [
        (None, {}),
        ("not-the-token", {}),
        ("<the token>", {"Sec-Fetch-Site": "cross-site"}),
    ],
)
def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    site: dict[str, Any], sent: str | None, headers: dict[str, str]
) -> None:
    rt: Runtime = site["api"].rt
    c, csrf = site["api"].client("analyst")
    data = dict(FORM)
    if sent is not None:
        data["csrf"] = csrf if sent == "<the token>" else sent
    r = c.post(URL, data=data, headers=headers, follow_redirects=False)
    assert r.status_code == 403, r.text
    assert "location" not in r.headers
    assert stored(rt, site["actors"]["analyst"]) == []
    assert rt.audit.search(action="analytics.cost_add", limit=1) == []


@pytest.mark.parametrize("user", ["sato", "support", "admin"])
def test_roles_without_analytics_costs_get_the_refusal_page_for_get_and_post(
    site: dict[str, Any], user: str
) -> None:
    rt: Runtime = site["api"].rt
    seed(rt, site["actors"]["analyst"])
    c, csrf = site["api"].client(user)
    r = c.get(URL)
    assert r.status_code == 403, r.text
    assert "R-23-2" in r.text and "権限では、この操作はできません" in r.text
    assert '<table id="costs">' not in r.text and "検索広告" not in r.text
    r = c.post(URL, data={"csrf": csrf, **FORM, "amount_yen": "999"}, follow_redirects=False)
    assert r.status_code == 403 and "R-23-2" in r.text
    bad = c.post(URL, data={"csrf": csrf, **FORM, "amount_yen": "0"}, follow_redirects=False)
    assert bad.status_code == 403  # bad input from a refused role: still the refusal, never the form
    assert [line.amount_yen for line in stored(rt, site["actors"]["po"])] == [120_000]
    denied = rt.audit.search(action="analytics.costs", decision="deny", limit=1)[0]
    assert denied.actor == f"staff:{site['api'].ids[user]}"


def test_signed_out_is_sent_to_sign_in(site: dict[str, Any]) -> None:
    c, _ = site["api"].client()
    for r in (c.get(URL, follow_redirects=False), c.post(URL, data=FORM, follow_redirects=False)):
        assert r.status_code == 303 and r.headers["location"] == "/sign-in"
    assert stored(site["api"].rt, site["actors"]["po"]) == []


def test_the_page_in_english(site: dict[str, Any]) -> None:
    rt: Runtime = site["api"].rt
    seed(rt, site["actors"]["po"])
    c, csrf = site["api"].client("analyst")
    r = c.get(URL, params={"lang": "en"})
    assert r.status_code == 200 and '<html lang="en">' in r.text
    assert "<h1>Acquisition costs</h1>" in r.text
    for head in ("Channel", "Campaign", "Period", "Amount", "Note", "Entered by", "Entered at"):
        assert f'<th scope="col">{head}</th>' in r.text, head
    [(_, row)] = rows(r.text)
    assert "1 Jan 2026〜31 Mar 2026" in row and "JPY 120,000" in row and "Counted" in row
    assert "JST" in row and "Web form" in row
    assert ">Campaign</option>" in r.text and "Enter an acquisition cost" in r.text
    c.cookies.set("mamori_lang", "en")  # the staff app's language switch
    bad = c.post(URL, data={"csrf": csrf, **FORM, "amount_yen": "0"})
    assert bad.status_code == 422
    assert "Enter the amount as a whole number of yen, 1 or more." in bad.text
