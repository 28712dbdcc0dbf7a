"""The monthly governance report (issue 25 "Deliver" 4): every figure of a known November 2026, worked out by hand
(tests/monitoring/test_report_support.py); the HTML document stand-alone and free of any customer's value; the PDF
with the Japanese font and the month; bad and future months refused; sales, support and the analyst refused and
audited, the administrator allowed. Synthetic data only."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

from mamori.kernel.context import Actor
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.runtime import Runtime
from mamori.monitoring.models import MonitoringState
from mamori.monitoring.report_schemas import GovernanceReport
from mamori.monitoring.schemas import SettingsIn
from mamori.monitoring.service import report as service
from mamori.monitoring.service import report_layout as layout
from mamori.monitoring.service import settings as settings_service
from tests.monitoring.test_report_support import (
    CUSTOMER,
    INCIDENT_TITLES,
    MONTH_END,
    NOW,
    december_clock,
    jst,
    no_external_url,
    november,
)


@pytest.fixture
def clock():
    return december_clock()


@pytest.fixture
def store(runtime: Runtime, actors: dict[str, Actor]) -> dict[str, Actor]:
    november(runtime)
    return actors


def build(rt: Runtime, who: Actor, month: str | None = None, fmt: str = "json") -> GovernanceReport:
    with rt.transaction(who) as ctx:
        return service.build(ctx, month, fmt=fmt)


def test_reads_and_exports_by_role(runtime: Runtime, store: dict[str, Actor]) -> None:
    rep = build(runtime, store["po"])  # no month: the previous one
    assert (rep.month, rep.start, rep.end, rep.era, rep.complete) == (
        "2026-11",
        date(2026, 11, 1),
        date(2026, 11, 30),
        "令和8年11月",
        True,
    )
    got = {
        r.role: (
            r.accounts,
            r.service_accounts,
            r.active_staff,
            r.staff_days,
            r.entries,
            r.reads,
            r.denials,
            r.exports,
            r.off_hours,
            r.sensitive,
        )
        for r in rep.activity.roles
    }
    assert list(got) == ["admin", "privacy_officer", "sales", "support", "analyst", "outsourcee"]
    assert got["sales"] == (2, 0, 2, 3, 70, 50, 14, 100, 5, 1)
    assert got["support"] == (1, 0, 1, 1, 50, 45, 1, 0, 3, 2)
    assert got["admin"] == got["privacy_officer"] == got["analyst"] == (1, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert got["outsourcee"] == (0,) * 10
    t = rep.activity.total
    assert (t.accounts, t.active_staff, t.staff_days, t.entries, t.reads, t.denials, t.exports) == (
        6,
        3,
        4,
        120,
        95,
        15,
        100,
    )
    assert (t.off_hours, t.sensitive) == (8, 3)
    # the role's words in both languages, for the management
    sales = next(r for r in rep.activity.roles if r.role == "sales")
    assert (sales.role_ja, sales.role_en) == ("営業担当者", "Sales rep")


def test_alerts_by_signal_and_status(runtime: Runtime, store: dict[str, Actor]) -> None:
    a = build(runtime, store["po"], "2026-11").alerts
    assert (a.raised, a.high, a.handled, a.median_days_to_handle) == (5, 3, 3, 2.5)
    assert a.by_status == {"new": 1, "looking": 1, "dismissed": 2, "incident": 1}
    assert a.dismiss_reasons == {"business": 1, "expected": 1}
    assert [(c.signal, c.raised, c.high, c.new, c.looking, c.dismissed, c.incident) for c in a.by_signal] == [
        ("read_volume", 1, 1, 0, 0, 0, 1),
        ("off_hours", 1, 0, 0, 1, 0, 0),
        ("denials", 1, 1, 0, 0, 1, 0),
        ("bulk_export", 1, 1, 1, 0, 0, 0),
        ("sensitive_read", 1, 0, 0, 0, 1, 0),
    ]
    assert a.by_signal[0].name_ja == "閲覧件数の急増"


def test_requests_answered_on_time(runtime: Runtime, store: dict[str, Actor]) -> None:
    r = build(runtime, store["po"], "2026-11").requests
    assert (r.received, r.decided, r.on_time, r.late, r.pending_not_due) == (6, 5, 2, 3, 1)
    assert (r.on_time_rate, r.answered, r.median_days) == (40.0, 3, 20.0)
    assert r.overdue_open == 4 and r.overdue_as_of == MONTH_END
    # October: R4 (open) and R5 (answered 1 Dec) received, both past due; at the end of October only R4 was
    # overdue (R5 was due 3 Nov)
    october = build(runtime, store["po"], "2026-10").requests
    assert (october.received, october.decided, october.on_time, october.late) == (2, 2, 0, 2)
    assert (october.answered, october.median_days, october.overdue_open) == (1, 42.0, 1)


def test_incidents_known_in_the_month(runtime: Runtime, store: dict[str, Actor]) -> None:
    i = build(runtime, store["po"], "2026-11").incidents
    assert (i.known, i.reportable, i.open, i.closed, i.open_now) == (3, 2, 2, 1, 3)
    assert i.prelim == {"on_time": 1, "late": 0, "overdue": 1, "pending": 0}
    assert i.final == {"on_time": 0, "late": 0, "overdue": 0, "pending": 2}
    assert i.by_trigger == {"sensitive": 0, "financial": 0, "wrongful": 2, "over_1000": 0}
    lines = [(x.ref, x.cause, x.status, x.reportable, x.prelim, x.final) for x in i.incidents]
    assert lines == [
        ("INC-0001", "insider", "open", True, "on_time", "pending"),
        ("INC-0002", "remote_work", "closed", False, "not_required", "not_required"),
        ("INC-0003", "external_attack", "open", True, "overdue", "pending"),
    ]
    assert [(x.prelim_due, x.final_due) for x in i.incidents if x.reportable] == [
        (date(2026, 11, 8), date(2027, 1, 4)),  # day 60 = Sat 2 Jan, rolled past the new-year holidays
        (date(2026, 11, 28), date(2027, 1, 22)),
    ]


def test_access_review_status(runtime: Runtime, store: dict[str, Actor]) -> None:
    po = store["po"]
    r = build(runtime, po).access_review
    assert (r.interval_months, r.period.label, r.previous.label, r.done, r.overdue) == (
        3,
        "2026-Q4",
        "2026-Q3",
        False,
        False,
    )
    assert r.last_closed is not None and r.open_review is not None
    last = r.last_closed
    assert (last.ref, last.closed_at, last.lines, last.decided, last.changes, last.flagged) == (
        "AR-2026-Q3",
        jst(2026, 10, 5, 10),
        3,
        3,
        2,
        2,
    )
    now = r.open_review
    assert (now.ref, now.lines, now.decided, now.changes, now.flagged) == ("AR-2026-Q4", 2, 1, 0, 1)
    # monthly reviews: November (the previous period) has none → overdue
    with runtime.transaction(po) as ctx:
        settings_service.update(ctx, SettingsIn(review_interval_months=1))
    r = build(runtime, po).access_review
    assert (r.period.label, r.previous.label, r.previous.start, r.done, r.overdue) == (
        "2026-12",
        "2026-11",
        date(2026, 11, 1),
        False,
        True,
    )


def test_no_review_ever_is_overdue(runtime: Runtime, actors: dict[str, Actor]) -> None:
    r = build(runtime, actors["po"]).access_review
    assert r.last_closed is None and r.open_review is None and r.overdue and not r.done


def test_the_checklist_is_seed_002s_as_the_analytics_slice_answers_it(
    runtime: Runtime, store: dict[str, Actor]
) -> None:
    c = build(runtime, store["po"]).checklist
    assert c.available and c.generated_at == NOW
    assert [i.id for i in c.items] == [
        "purposes_published",
        "data_map",
        "least_privilege",
        "encryption",
        "backups",
        "audit_logs",
        "outsourcee_oversight",
        "requests_and_consent",
        "incident_response",
        "retention",
    ]
    by_id = {i.id: i for i in c.items}
    # today four requests are open (R3 R4 R6 R7), three of them past their due date (R3 is due 4 Dec): 未対応
    assert by_id["requests_and_consent"].status == "ng"
    assert (
        "未完了の請求 4 件（うち回答期限を過ぎた未回答 3 件）。" in by_id["requests_and_consent"].evidence_ja
    )
    assert by_id["incident_response"].status == "manual"  # drills are not recorded anywhere
    assert sum(c.counts.values()) == 10


def test_the_evaluation_runs_first_and_the_report_says_how_far(
    runtime: Runtime, store: dict[str, Actor]
) -> None:
    newest = runtime.audit.tail(1)[0].seq
    rep = build(runtime, store["po"])
    ev = rep.evaluation
    assert ev.ran_now and ev.evaluated_at == NOW and ev.last_seq == newest and ev.covers_period
    with runtime.transaction(store["po"]) as ctx:
        state = ctx.session.get(MonitoringState, 1)
        assert state is not None and state.last_seq == newest
    # November's figures are what the story planted: the evaluation only added December's days
    assert rep.activity.total.entries == 120


def test_a_month_not_evaluated_to_its_end_says_so(runtime: Runtime, store: dict[str, Actor]) -> None:
    """The current month: the figures run to now, and the note says the month has not ended."""
    rep = build(runtime, store["po"], "2026-12")
    assert rep.month == "2026-12" and not rep.complete and not rep.evaluation.covers_period
    assert rep.alerts.raised == 1 and rep.requests.overdue_as_of == NOW  # the 1 Dec dismissal
    text = "\n".join(n for s in layout.sections(rep, "ja") for n in s.notes)
    assert "この月はまだ終わっていません" in text


@pytest.mark.parametrize(
    ("month", "code"),
    [
        ("2026-13", "bad_month"),
        ("11-2026", "bad_month"),
        ("2026-1-1", "bad_month"),
        ("yesterday", "bad_month"),
        ("1899-12", "bad_month"),
        ("2027-01", "future_month"),
        ("2030-06", "future_month"),
    ],
)
def test_bad_and_future_months_are_refused(
    runtime: Runtime, actors: dict[str, Actor], month: str, code: str
) -> None:
    with pytest.raises(ValidationFailed) as info, runtime.transaction(actors["po"]) as ctx:
        service.build(ctx, month)
    assert info.value.code == code and month not in info.value.message_ja
    assert not [e for e in runtime.audit.tail(5) if e.action == "monitoring.report"]


def test_months_written_other_ways_are_read() -> None:
    today = date(2026, 12, 2)
    for text in ("2026-11", "2026/11", "2026年11月", "２０２６－１１", " 2026-11 "):
        assert service.period_of(text, today).month == "2026-11", text
    assert service.period_of(None, date(2027, 1, 5)).month == "2026-12"  # the previous month over a new year
    assert service.period_of("2019-05", today).first == date(2019, 5, 1)
    assert service.era_month(date(2019, 5, 1)) == "令和元年5月"
    assert service.era_month(date(2019, 4, 1)) == "平成31年4月"
    assert [f"{m:%Y-%m}" for m in service.recent_months(today, 3)] == ["2026-11", "2026-10", "2026-09"]


@pytest.mark.parametrize("who", ["sato", "support", "analyst"])
def test_other_roles_are_refused_and_audited(runtime: Runtime, actors: dict[str, Actor], who: str) -> None:
    with pytest.raises(PolicyDenied) as info, runtime.transaction(actors[who]) as ctx:
        service.build(ctx, "2026-11")
    assert info.value.rule_id == "R-23-2"
    denied = [e for e in runtime.audit.tail(10) if e.action == "monitoring.report"]
    assert [(e.decision, e.actor) for e in denied] == [("deny", actors[who].label)]
    with runtime.transaction(actors["po"]) as ctx:  # nothing was evaluated for them
        assert ctx.session.get(MonitoringState, 1) is None


def test_the_administrator_may_and_each_report_is_audited(runtime: Runtime, store: dict[str, Actor]) -> None:
    rep = build(runtime, store["admin"], "2026-11", "pdf")
    assert rep.generated_by_role == "admin" and rep.activity.total.entries == 120
    assert rep.checklist.available  # the administrator holds analytics.governance
    entry = next(e for e in reversed(runtime.audit.tail(20)) if e.action == "monitoring.report")
    assert entry.decision == "info" and entry.actor == store["admin"].label
    assert entry.details["month"] == "2026-11" and entry.details["format"] == "pdf"
    assert (entry.details["alerts"], entry.details["requests"], entry.details["incidents"]) == (5, 6, 3)
    assert entry.subject_ids == ()
    with pytest.raises(ValidationFailed) as info, runtime.transaction(store["admin"]) as ctx:
        service.build(ctx, "2026-11", fmt="docx")
    assert info.value.code == "bad_format"


def _no_values(text: str) -> None:
    for value in (CUSTOMER["name"], CUSTOMER["phone"], CUSTOMER["email"], "09031415926", *INCIDENT_TITLES):
        assert value not in text, value
    assert "reviewed-account" not in text  # accounts of a review are never named
    assert "staff:" not in text  # nor is any member of staff


def test_the_html_document_stands_alone(runtime: Runtime, store: dict[str, Actor]) -> None:
    rep = build(runtime, store["po"], "2026-11", "html")
    html = layout.render_html(rep, "ja")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="ja">' in html
    assert "<title>個人情報保護 月次ガバナンス報告（令和8年11月）</title>" in html
    assert "2026年11月（令和8年11月）" in html  # 西暦 and 和暦
    assert no_external_url(html) and "<script" not in html and "<link" not in html and "<style>" in html
    for section in ("overview", "activity", "alerts", "requests", "incidents", "access-review", "checklist"):
        assert f'id="section-{section}"' in html, section
    # a figure from each section, as a reader sees it
    assert (
        '<th scope="row">営業担当者</th><td class="num">2</td><td class="num">2</td><td class="num">70</td>'
        in html
    )
    assert '<td class="num">2.5日</td>' in html  # the median days to handle an alert
    assert "40.0%" in html and "INC-0003" in html and "AR-2026-Q3" in html
    assert "未提出（期限超過）（期限 2026年11月28日）" in html
    assert "利用目的の一覧を作成・公表しているか。" in html
    _no_values(html)
    _no_values(json.dumps(rep.model_dump(mode="json"), ensure_ascii=False))
    csp = layout.document_csp(html)
    assert "default-src 'none'" in csp and "'sha256-" in csp and "unsafe-inline" not in csp


def test_the_document_in_english(runtime: Runtime, store: dict[str, Actor]) -> None:
    html = layout.render_html(build(runtime, store["po"], "2026-11"), "en")
    assert '<html lang="en">' in html and "Monthly privacy governance report (November 2026)" in html
    assert "Sales rep" in html and "Reads and exports by role" in html and "not filed, overdue" in html


def test_the_pdf(runtime: Runtime, store: dict[str, Actor]) -> None:
    rep = build(runtime, store["po"], "2026-11", "pdf")
    pdf = layout.render_pdf(rep, "ja", settings=runtime.settings)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    squeezed = "".join(text.split())
    assert "個人情報保護月次ガバナンス報告（令和8年11月）" in squeezed
    assert "2026年11月（令和8年11月）" in squeezed
    for heading in (
        "閲覧・持出し",
        "監視アラートと対応結果",
        "開示等の請求への対応",
        "漏えい等事案",
        "アクセス権の定期見直し",
        "実践チェックリスト",
    ):
        assert heading in squeezed, heading
    assert "INC-0003" in squeezed and "AR-2026-Q3" in squeezed and "40.0%" in squeezed
    fonts = [f.get_object() for f in reader.pages[0]["/Resources"]["/Font"].values()]
    assert any("IPAex" in str(f["/BaseFont"]) for f in fonts)
    _no_values(squeezed)
    assert (
        reader.metadata is not None
        and reader.metadata.title == "個人情報保護 月次ガバナンス報告（令和8年11月）"
    )


def test_an_empty_store_reports_zeros(runtime: Runtime, actors: dict[str, Actor]) -> None:
    rep = build(runtime, actors["po"], "2026-11")
    assert rep.activity.total.entries == 0 and rep.activity.total.accounts == 6
    assert rep.alerts.raised == 0 and rep.alerts.median_days_to_handle is None and rep.alerts.by_signal == []
    assert (
        rep.requests.received == 0 and rep.requests.on_time_rate is None and rep.requests.median_days is None
    )
    assert rep.incidents.known == 0 and rep.incidents.incidents == []
    html = layout.render_html(rep, "ja")
    assert 'id="incidents-list"' not in html and "—" in html
    assert layout.render_pdf(rep, "ja", settings=runtime.settings).startswith(b"%PDF")


def test_the_report_is_made_in_japan_time(runtime: Runtime, actors: dict[str, Actor]) -> None:
    """A request received at 23:30 JST on 31 October (14:30 UTC) is October's; one at 00:30 JST on 1 November
    (15:30 UTC on 31 October) is November's."""
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.kernel.db import new_id
    from mamori.rights.models import RightsRequest

    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        for n, at in enumerate(
            (datetime(2026, 10, 31, 14, 30, tzinfo=UTC), datetime(2026, 10, 31, 15, 30, tzinfo=UTC))
        ):
            ctx.session.add(
                RightsRequest(
                    id=new_id(), receipt_no=f"R-2026-9{n:05d}", kind="disclosure", regime="appi",
                    regime_source="default", channel="web", status="verified", received_at=at,
                    due_on=date(2026, 12, 20), created_by="test",
                )
            )  # fmt: skip
    assert build(runtime, actors["po"], "2026-10").requests.received == 1
    assert build(runtime, actors["po"], "2026-11").requests.received == 1


def test_an_evaluation_running_at_the_same_moment_leaves_the_report_as_it_stands(
    runtime: Runtime, store: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The evaluation refuses when another ran meanwhile (``evaluation_busy``): what it wrote is rolled back to the
    savepoint, the report is made from the tables as they stand and says it did not evaluate."""
    from mamori.kernel.errors import Conflict
    from mamori.monitoring.models import MonitoringDaily
    from mamori.monitoring.service import evaluate as evaluate_service

    def busy(ctx, **_kw):
        ctx.session.add(
            MonitoringDaily(actor="staff:x", day=date(2026, 11, 3), role="sales", entries=500, detail="{}")
        )
        ctx.session.flush()
        raise Conflict("同時に実行されました。", "Ran at the same time.", code="evaluation_busy")

    monkeypatch.setattr(evaluate_service, "evaluate", busy)
    rep = build(runtime, store["po"])
    assert not rep.evaluation.ran_now and rep.evaluation.evaluated_at is None
    assert rep.activity.total.entries == 120  # the half-written day is gone
    assert any(e.action == "monitoring.report" for e in runtime.audit.tail(5))
