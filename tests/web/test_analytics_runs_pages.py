"""The analysis pages of issue 24 without a browser: ``/analytics/runs/new`` (the form), ``POST /analytics/runs`` (the
result: segments with their rules and thresholds, charts with their tables, the first lines under pseudonyms),
``/analytics/runs`` and ``/analytics/runs/{id}``, saving groups as a versioned segment, ``/analytics/segments`` and
``/analytics/segments/{name}``.

The happy path for the analyst, refusals with their rule id (sales and support R-23-2; a purpose whose notice does
not state profiling R-17-1) that record nothing, bad input re-rendered in words without echoing it, a write without
its CSRF token changing nothing, and no customer id, name or contact point on any page."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, select

from mamori.analytics.compute import rfm as rfm_compute
from mamori.analytics.models import AnalyticsRun, AnalyticsSegment
from mamori.analytics.schemas import RunRead
from mamori.analytics.service import frames, runs, segments
from mamori.analytics.web import runs as runs_web
from mamori.deid import service as deid_service
from mamori.kernel.runtime import Runtime
from tests.analytics.conftest import ANALYSIS, PLANNING, RECOMMEND, World, populate
from tests.api.conftest import USERS, Api
from tests.contact.conftest import staff_actors
from tests.web.test_customers_pages import page_headers

HTMX = {"HX-Request": "true"}
PERSONAL = ("分析 花子", "ブンセキ", "example.jp", "090-2000", "+8190", "渋谷", "150-0001")


@pytest.fixture
def site(runtime: Runtime) -> tuple[Api, World]:
    api = Api(runtime)
    return api, populate(runtime, staff_actors(runtime, USERS))


def _nothing_personal(w: World, text: str) -> None:
    for v in PERSONAL:
        assert v not in text, v
    for cid in w.ids.values():  # customer ids are 32 hex digits: never on a page, in a link or in a form
        assert cid not in text


def _count(rt: Runtime, model: Any) -> int:
    with rt.transaction(readonly=True) as ctx:
        return int(ctx.session.execute(select(func.count()).select_from(model)).scalar_one())


def _run(c: Any, csrf: str, **form: str) -> Any:
    return c.post("/analytics/runs", data={"csrf": csrf, "kind": "rfm", "purpose": ANALYSIS.code, **form})


def _stored(rt: Runtime, run_id: str) -> RunRead:
    with rt.transaction(readonly=True) as ctx:
        return runs.to_read(ctx.session.get(AnalyticsRun, run_id))


def test_the_analyst_runs_rfm_and_sees_the_segments_the_thresholds_and_pseudonyms(
    site: tuple[Api, World],
) -> None:
    api, w = site
    c, csrf = api.client("analyst")
    form = c.get("/analytics/runs/new")
    assert form.status_code == 200, form.text
    page_headers(form)
    # purposes in force, the one that states profiling first and marked; the other offered apart
    assert form.text.index(f'value="{ANALYSIS.code}"') < form.text.index(f'value="{PLANNING.code}"')
    assert f"{ANALYSIS.title_ja}（{ANALYSIS.code}）★分析を含む" in form.text
    assert f"{PLANNING.title_ja}（{PLANNING.code}）<" in form.text
    assert (
        'hx-indicator="#run-progress"' in form.text and '<progress aria-label="分析しています">' in form.text
    )

    r = _run(c, csrf, bins="5")
    assert r.status_code == 200, r.text
    page_headers(r)
    run_id = r.headers["hx-push-url"].rsplit("/", 1)[1]
    run = _stored(api.rt, run_id)
    assert run.kind == "rfm" and run.purpose == ANALYSIS.code and run.created_by
    # 14 loyal + 14 lapsed + 10 one-time buyers were told of the purpose; three people were left out, one per reason
    assert run.subjects == 38
    facts = r.text[r.text.index('id="run-facts"') :]
    assert "38人" in facts and "利用停止 1人" in facts and "消去済み 1人" in facts
    assert "利用目的を通知していない 1人" in facts
    # every named segment with its rule and its count
    for g in run.summary["segments"]:
        assert (
            f"{g['name_ja']} <small><code>{g['code']}</code></small></th><td>{g['rule_ja']}</td><td>{g['count']}人"
            in r.text
        )
    assert "優良顧客" in r.text and "最近も買い、回数も金額も多い：R ≥ 4 かつ F ≥ 4 かつ M ≥ 4" in r.text
    # the thresholds: score 5 on recency is fewer days than the first cut, score 1 on frequency up to the first cut
    t = run.summary["thresholds"]

    def cut(x: float) -> str:
        return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"

    table = r.text[r.text.index('id="run-thresholds"') :]
    assert f'<th scope="row">5</th><td>x &lt; {cut(t["recency_days"][0])}</td>' in table
    assert f"<td>{cut(t['recency_days'][3])} ≤ x</td>" in table
    assert (
        f"<td>x ≤ {cut(t['frequency'][0])}</td>" in table
        and f"<td>{cut(t['monetary'][3])} &lt; x</td>" in table
    )
    # a bar chart of people per segment, drawn from its data and readable as a table
    assert 'data-chart="run-segments"' in r.text and 'id="chart-run-segments-canvas"' in r.text
    # the first lines: one per person analysed (38 ≤ 100), under pseudonyms
    lines = r.text[r.text.index('id="run-lines-table"') :]
    pseudonyms = re.findall(r"<code>(P-[0-9a-f]{16})</code>", lines)
    assert len(pseudonyms) == 38 and len(set(pseudonyms)) == 38
    _nothing_personal(w, r.text)

    # the stored run shows its summary (the lines are not stored)
    again = c.get(f"/analytics/runs/{run_id}")
    assert again.status_code == 200 and "優良顧客" in again.text and 'id="run-thresholds"' in again.text
    assert "P-" not in again.text and 'id="save-form"' in again.text
    listed = c.get("/analytics/runs")
    assert listed.status_code == 200 and f'href="/analytics/runs/{run_id}"' in listed.text
    assert "RFM 分析" in listed.text and "38人" in listed.text
    assert c.get("/analytics/runs?kind=churn").text.count("/analytics/runs/" + run_id) == 0
    for page in (again, listed):
        _nothing_personal(w, page.text)


def test_htmx_posts_get_the_page_whose_main_is_swapped_in(site: tuple[Api, World]) -> None:
    api, _ = site
    c, csrf = api.client("po")
    r = c.post(
        "/analytics/runs",
        data={"csrf": csrf, "kind": "behaviour", "purpose": ANALYSIS.code, "window_days": "365"},
        headers=HTMX,
    )
    assert r.status_code == 200, r.text
    assert '<main id="main">' in r.text and r.headers["hx-push-url"].startswith("/analytics/runs/")
    assert "購入中心" in r.text and 'data-chart="run-segments"' in r.text


def test_saving_groups_as_a_segment_and_seeing_its_versions(site: tuple[Api, World]) -> None:
    api, w = site
    c, csrf = api.client("analyst")
    r = _run(c, csrf)
    run_id = r.headers["hx-push-url"].rsplit("/", 1)[1]
    counts = {g["code"]: g["count"] for g in _stored(api.rt, run_id).summary["segments"]}
    expected = counts["champions"] + counts["loyal"]  # the run is deterministic for the same reference date
    saved = c.post(
        f"/analytics/runs/{run_id}/segments",
        data={"csrf": csrf, "name": "top-buyers", "take": ["champions", "loyal"], "note": "上位の購入者"},
    )
    assert saved.status_code == 200, saved.text
    assert f"第1版として保存しました（{expected} 人）" in saved.text
    assert "<code>@top-buyers</code>" in saved.text and "--segment @top-buyers" in saved.text
    assert "優良顧客・ロイヤル顧客" in saved.text
    _nothing_personal(w, saved.text)
    # the save ran the analysis again (a second recorded run) and stored one version
    assert _count(api.rt, AnalyticsRun) == 2 and _count(api.rt, AnalyticsSegment) == 1

    again = c.post(
        f"/analytics/runs/{run_id}/segments", data={"csrf": csrf, "name": "top-buyers", "take": ["champions"]}
    )
    assert again.status_code == 200 and f"第2版として保存しました（{counts['champions']} 人）" in again.text

    listed = c.get("/analytics/segments")
    assert listed.status_code == 200
    row = listed.text[listed.text.index('href="/analytics/segments/top-buyers"') :].split("</tr>")[0]
    assert "第2版" in row and f"{counts['champions']}人" in row and "使える" in row and ANALYSIS.code in row
    one = c.get("/analytics/segments/top-buyers")
    assert (
        one.status_code == 200 and "第2版" in one.text and "第1版" in one.text and "上位の購入者" in one.text
    )
    assert c.get("/analytics/segments/no-such").status_code == 404
    for page in (listed, one):
        _nothing_personal(w, page.text)


@pytest.mark.parametrize("who", ["sato", "support"])
def test_sales_and_support_are_refused_and_nothing_runs(site: tuple[Api, World], who: str) -> None:
    api, w = site
    c, csrf = api.client(who)
    form = c.get("/analytics/runs/new")
    assert form.status_code == 403 and "R-23-2" in form.text and 'id="run-form"' not in form.text
    r = _run(c, csrf)
    assert r.status_code == 403 and "R-23-2" in r.text
    assert c.get("/analytics/runs").status_code == 403 and c.get("/analytics/segments").status_code == 403
    assert _count(api.rt, AnalyticsRun) == 0
    denied = [e for e in api.rt.audit.tail(10) if e.action == "analytics.run" and e.decision == "deny"]
    assert denied and "R-23-2" in denied[-1].rule_ids
    _nothing_personal(w, r.text)


def test_a_purpose_that_does_not_state_profiling_is_refused_with_R_17_1(site: tuple[Api, World]) -> None:
    api, _ = site
    c, csrf = api.client("analyst")
    for purpose in (PLANNING.code, RECOMMEND.code):
        r = c.post("/analytics/runs", data={"csrf": csrf, "kind": "rfm", "purpose": purpose})
        if purpose == PLANNING.code:
            assert r.status_code == 403, r.text
            assert "R-17-1" in r.text and 'id="run-form"' in r.text  # the form stays, to choose another
            assert f'<option value="{PLANNING.code}" selected>' in r.text
    assert _count(api.rt, AnalyticsRun) == 1  # only the run under RECOMMEND (which states profiling)


@pytest.mark.parametrize(
    ("form", "field", "message", "echo"),
    [
        ({"as_of": "2026-13-45"}, "as_of", "日付を 2026-01-31 の形で入力してください。", "2026-13-45"),
        ({"as_of": "2099-01-01"}, "as_of", "基準日は 2000年1月1日から今日までの日付にしてください。", None),
        ({"bins": "11"}, "bins", "2〜10 の整数で入力してください。", None),
        ({"bins": "abc"}, "bins", "2〜10 の整数で入力してください。", None),
        ({"kind": "magic"}, "kind", "分析の種類を選んでください。", "magic"),
        ({"kind": "churn", "horizon_days": "7"}, "horizon_days", "30〜1825 の整数で入力してください。", None),
        ({"purpose": ""}, "purpose", "利用目的を選んでください。", None),
    ],
)
def test_bad_input_re_renders_the_form_in_words(
    site: tuple[Api, World], form: dict[str, str], field: str, message: str, echo: str | None
) -> None:
    api, _ = site
    c, csrf = api.client("analyst")
    r = _run(c, csrf, **form)
    assert r.status_code == 422, r.text
    assert message in r.text and f'id="run-{field}-error"' in r.text and 'id="run-form"' in r.text
    if echo == "2026-13-45":  # the date is put back into the form so it can be corrected, nowhere else
        assert r.text.count(echo) == 1 and f'value="{echo}"' in r.text
    elif echo:
        assert echo not in r.text.replace(f'value="{echo}"', "")
    assert _count(api.rt, AnalyticsRun) == 0


def test_full_width_digits_and_slashed_dates_are_accepted(site: tuple[Api, World]) -> None:
    api, _ = site
    c, csrf = api.client("analyst")
    r = _run(c, csrf, bins="４", as_of="2026/11/01")
    assert r.status_code == 200, r.text
    run = _stored(api.rt, r.headers["hx-push-url"].rsplit("/", 1)[1])
    assert run.params == {"as_of": "2026-11-01", "bins": 4}
    assert len(run.summary["thresholds"]["recency_days"]) == 3  # 4 bins, 3 cuts


def test_a_bad_save_says_which_field_and_saves_nothing(site: tuple[Api, World]) -> None:
    api, _ = site
    c, csrf = api.client("analyst")
    run_id = _run(c, csrf).headers["hx-push-url"].rsplit("/", 1)[1]
    url = f"/analytics/runs/{run_id}/segments"
    cases = [
        ({"name": "top buyers!", "take": ["champions"]}, "save-name", "セグメント名"),
        ({"name": "vip", "take": ["whales"]}, "save-take", "この分析にない区分が含まれています"),
        ({"name": "vip"}, "save-take", "保存する区分を一つ以上選んでください。"),
        ({"name": "vip", "take": ["champions"], "note": "連絡先 090-1234-5678"}, "save-note", "個人情報"),
    ]
    for data, anchor, words in cases:
        r = c.post(url, data={"csrf": csrf, **data})
        assert r.status_code == 422, (data, r.text)
        assert f'href="#{anchor}"' in r.text and words in r.text and 'id="save-form"' in r.text
        assert "whales" not in r.text.replace('value="whales"', "")
    assert _count(api.rt, AnalyticsSegment) == 0
    no_csrf = c.post(url, data={"name": "vip", "take": ["champions"]})
    assert no_csrf.status_code == 403 and _count(api.rt, AnalyticsSegment) == 0
    assert c.post("/analytics/runs", data={"kind": "rfm", "purpose": ANALYSIS.code}).status_code == 403
    assert c.get("/analytics/runs/not-an-id").status_code == 404
    assert c.get("/analytics/runs/" + "0" * 32).status_code == 404
    assert c.post("/analytics/runs/" + "0" * 32 + "/segments", data={"csrf": csrf}).status_code == 404
    assert c.get("/analytics/runs?kind=magic").status_code == 422


def test_the_churn_result_shows_metrics_calibration_importance_and_fairness(site: tuple[Api, World]) -> None:
    api, w = site
    c, csrf = api.client("analyst")
    r = c.post("/analytics/runs", data={"csrf": csrf, "kind": "churn", "purpose": ANALYSIS.code})
    assert r.status_code == 200, r.text
    run = _stored(api.rt, r.headers["hx-push-url"].rsplit("/", 1)[1])
    m = run.summary["metrics"]
    assert f'<dd id="churn-auc">{m["auc"]:,.3f}</dd>' in r.text
    assert f'<dd id="churn-brier">{m["brier"]:,.3f}</dd>' in r.text
    calibration = r.text[r.text.index('id="churn-calibration"') :].split("</table>")[0]
    assert calibration.count("<tr>") == 1 + len(run.summary["calibration"])
    importance = r.text[r.text.index('id="churn-importance"') :].split("</table>")[0]
    for i in run.summary["importance"]:
        assert i["label_ja"] in importance
    fairness = r.text[r.text.index('id="run-fairness"') :].split("</section>")[0]
    assert "性別" in fairness and "年代" in fairness and "女性" in fairness and "男性" in fairness
    assert "参考値" in fairness  # the notes on small groups
    for chart_id in ("run-bands", "run-calibration", "run-importance"):
        assert f'data-chart="{chart_id}"' in r.text
    _nothing_personal(w, r.text)


def test_score_ranges_match_how_the_rfm_module_scores() -> None:
    # hand-written: recency scores fall as the days grow; frequency and spend scores rise with the value
    assert runs_web.score_ranges([10, 20, 30, 40], lower_is_better=True, bins=5) == [
        "x < 10",
        "10 ≤ x < 20",
        "20 ≤ x < 30",
        "30 ≤ x < 40",
        "40 ≤ x",
    ]
    assert runs_web.score_ranges([1, 2.5, 4, 12], lower_is_better=False, bins=5) == [
        "12 < x",
        "4 < x ≤ 12",
        "2.5 < x ≤ 4",
        "1 < x ≤ 2.5",
        "x ≤ 1",
    ]
    # and the module itself puts the values on the edges where the page says
    days = [0, 3, 9, 10, 19, 20, 40, 41, 60, 61]
    tx = pl.DataFrame(
        {
            "subject": [f"P-{i}" for i in range(len(days))],
            "occurred_at": [datetime(2026, 3, 1) - timedelta(days=d) for d in days],
            "amount": [1000.0] * len(days),
        }
    )
    result = rfm_compute.rfm(tx, as_of=datetime(2026, 3, 1).date(), bins=5)
    cuts = list(result.thresholds.recency_days)
    ranges = runs_web.score_ranges(cuts, lower_is_better=True, bins=5)
    for row in result.table.iter_rows(named=True):
        shown = ranges[5 - row["r"]]
        lo = re.search(r"^([\d.,]+) ≤", shown)
        hi = re.search(r"< ([\d.,]+)$", shown)
        assert lo is None or row["recency_days"] >= float(lo.group(1).replace(",", ""))
        assert hi is None or row["recency_days"] < float(hi.group(1).replace(",", ""))


def test_a_model_that_could_not_say_something_shows_a_dash() -> None:
    nan = float("nan")
    run = RunRead(
        id="0" * 32,
        kind="clv",
        kind_ja="顧客生涯価値",
        path="personal",
        path_ja="個人データ",
        purpose="analytics",
        purpose_version=1,
        dataset_id=None,
        params={},
        summary={"bands": [{"code": "high", "name_ja": "高", "name_en": "high", "count": nan}]},
        rows_in=0,
        subjects=0,
        left_out={},
        seconds=None,
        created_by="analyst",
        created_at=datetime(2026, 11, 23),
    )
    (chart,) = runs_web.charts_of(run, "ja")
    assert chart.labels == ["高"] and chart.datasets[0].data == [None]
    assert runs_web.yen(nan, "ja") == "—" and runs_web.num(None) == "—" and runs_web.pct(0.4375) == "43.8%"
    assert runs_web.yen(12345.4, "ja") == "12,345円" and not math.isnan(runs_web._finite(1.5) or 0)


def test_a_pseudonymised_run_and_its_segment_are_shown_as_never_contactable(
    site: tuple[Api, World], tmp_path: Path
) -> None:
    api, w = site
    out = tmp_path / "activities.csv"
    with api.rt.transaction(w.actors["po"]) as ctx:  # 削除情報等 are the privacy officer's (R-41-2)
        deid_service.create_key(ctx)
    with api.rt.transaction(w.actors["analyst"], ANALYSIS.code) as ctx:
        frames.extract(ctx, out)
    with api.rt.transaction(w.actors["analyst"], ANALYSIS.code) as ctx:
        outcome = runs.rfm(ctx, runs.Source(dataset=out))
        segments.save(ctx, outcome, "pseudo-top", ["champions"])
    c, csrf = api.client("analyst")
    page = c.get(f"/analytics/runs/{outcome.run.id}")
    assert page.status_code == 200 and "仮名加工情報" in page.text
    assert 'id="save-form"' not in page.text and "--dataset ファイル --save 名前" in page.text
    refused = c.post(
        f"/analytics/runs/{outcome.run.id}/segments",
        data={"csrf": csrf, "name": "again", "take": ["champions"]},
    )
    assert refused.status_code == 422 and "R-41-5" in refused.text
    listed = c.get("/analytics/segments")
    row = listed.text[listed.text.index('href="/analytics/segments/pseudo-top"') :].split("</tr>")[0]
    assert "使えない（仮名加工情報）" in row and "R-41-5" in row and "@pseudo-top" not in row
    one = c.get("/analytics/segments/pseudo-top")
    assert 'id="segment-contactable">使えない' in one.text
    for text in (page.text, listed.text, one.text):
        _nothing_personal(w, text)


def test_the_pages_in_english(site: tuple[Api, World]) -> None:
    api, _ = site
    c, csrf = api.client("analyst")
    c.cookies.set("mamori_lang", "en")
    form = c.get("/analytics/runs/new")
    assert "Run an analysis" in form.text and "Purposes that state analysis (profiling)" in form.text
    r = c.post("/analytics/runs", data={"csrf": csrf, "kind": "rfm", "purpose": ANALYSIS.code})
    assert r.status_code == 200 and "Champions" in r.text and "Thresholds (the range of each score)" in r.text
    assert "優良顧客" not in r.text


def test_an_unknown_purpose_is_refused_with_its_rule(site: tuple[Api, World]) -> None:
    api, _ = site
    c, csrf = api.client("analyst")
    r = c.post("/analytics/runs", data={"csrf": csrf, "kind": "rfm", "purpose": "no-such-purpose"})
    assert r.status_code == 403, r.text
    assert "利用目的「no-such-purpose」は登録されていません。" in r.text and "R-17-1" in r.text
    assert _count(api.rt, AnalyticsRun) == 0


def test_a_save_after_the_data_changed_saves_nothing_and_shows_the_new_result(
    site: tuple[Api, World],
) -> None:
    """Per-person results are not stored, so a save runs the analysis again: when that no longer gives the groups
    the user saw (here a person stopped the use of their data since), nothing is saved and the new result is shown
    to save from — a segment never holds people other than the ones on the page."""
    from mamori.consent import service as consent_service

    api, w = site
    c, csrf = api.client("analyst")
    run_id = _run(c, csrf).headers["hx-push-url"].rsplit("/", 1)[1]
    shown = _stored(api.rt, run_id)
    with api.rt.transaction(w.actors["po"]) as ctx:
        consent_service.suppress(ctx, w.loyal[0], "purpose", ANALYSIS.code, "req-24-web")
    r = c.post(
        f"/analytics/runs/{run_id}/segments",
        data={"csrf": csrf, "name": "moved", "take": ["champions", "loyal"]},
    )
    assert r.status_code == 409
    assert "データが変わり" in r.text and "保存していません" in r.text
    assert _count(api.rt, AnalyticsSegment) == 0 and _count(api.rt, AnalyticsRun) == 2
    new_id = r.headers["hx-push-url"].rsplit("/", 1)[1]
    assert new_id != run_id and _stored(api.rt, new_id).subjects == shown.subjects - 1
    assert 'value="moved"' in r.text  # the name typed is kept for the save from the new result
    _nothing_personal(w, r.text)
    # saving from the new result works
    ok = c.post(f"/analytics/runs/{new_id}/segments", data={"csrf": csrf, "name": "moved", "take": ["loyal"]})
    assert ok.status_code == 200 and _count(api.rt, AnalyticsSegment) == 1


def test_same_groups_compares_the_people_analysed_and_each_groups_count(site: tuple[Api, World]) -> None:
    api, _ = site
    c, csrf = api.client("analyst")
    run = _stored(api.rt, _run(c, csrf).headers["hx-push-url"].rsplit("/", 1)[1])
    assert runs_web.same_groups(run, run)
    segs = [dict(g) for g in run.summary["segments"]]
    segs[0]["count"] += 1
    assert not runs_web.same_groups(
        run, run.model_copy(update={"summary": {**run.summary, "segments": segs}})
    )
    assert not runs_web.same_groups(run, run.model_copy(update={"subjects": run.subjects + 1}))


def test_a_segment_page_says_how_many_are_still_members_after_an_erasure(site: tuple[Api, World]) -> None:
    from mamori.kernel.registry import erase_subjects

    api, w = site
    with api.rt.transaction(w.actors["analyst"], ANALYSIS.code) as ctx:
        out = runs.rfm(ctx, runs.Source())
        segments.save(ctx, out, "everyone", list(out.segments))
    c, _ = api.client("analyst")
    assert "現在" not in c.get("/analytics/segments").text
    with api.rt.transaction(w.actors["po"]) as ctx:
        erase_subjects(ctx, [w.loyal[0]])
    for url in ("/analytics/segments", "/analytics/segments/everyone"):
        page = c.get(url)
        assert page.status_code == 200
        assert f"{out.run.subjects}人" in page.text
        assert f"現在 {out.run.subjects - 1}人（消去・廃棄により減少）" in page.text
