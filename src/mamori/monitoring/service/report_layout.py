"""The layout and rendering of the monthly governance report (issue 25, "Deliver" 4) that
:func:`mamori.monitoring.service.report.build` gathers; nothing here reads the database or audits.

:func:`sections` is the layout all renderers share (the CLI's text, the web page, the document and the PDF): the
report as sections of tables, in Japanese or English. :func:`render_html` writes the stand-alone document (served
with :func:`document_csp`), :func:`render_pdf` the PDF (reportlab, ``rights.service.render.pdf_font_path``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from mamori.incidents.schemas import CAUSE_LABELS, KIND_LABELS
from mamori.incidents.service.classify import TRIGGER_LABELS
from mamori.kernel import labels
from mamori.monitoring.models import DISMISSED, INCIDENT, LOOKING, NEW
from mamori.monitoring.report_schemas import (
    FILING_STATES,
    GovernanceReport,
    ReviewPeriod,
    ReviewSummary,
    RoleActivity,
)
from mamori.monitoring.service.report import month_label
from mamori.rights.service.render import pdf_font_path

if TYPE_CHECKING:
    from mamori.kernel.settings import Settings

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PDF_FONT_NAME = "IPAexMincho"


# -- the layout every renderer shares --------------------------------------------------------------------------------


def month_words(report: GovernanceReport, lang: str) -> str:
    return month_label(report.start, lang)


def title(report: GovernanceReport, lang: str = "ja") -> str:
    """「個人情報保護 月次ガバナンス報告（令和8年11月）」."""
    if lang == "en":
        return f"Monthly privacy governance report ({month_words(report, 'en')})"
    return f"個人情報保護 月次ガバナンス報告（{report.era}）"


@dataclass(frozen=True)
class Table:
    """A table as shown: its header and rows as text; ``numeric``: the columns aligned right; ``widths``: the PDF's
    column widths as shares of the line."""

    id: str
    caption: str
    header: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()
    widths: tuple[float, ...] = ()


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    tables: list[Table]
    notes: list[str] = field(default_factory=list)


FILING_WORDS = {
    "on_time": ("期限内に提出", "filed on time"),
    "late": ("期限後に提出", "filed late"),
    "overdue": ("未提出（期限超過）", "not filed, overdue"),
    "pending": ("期限前（未提出）", "not yet due"),
    "not_required": ("不要（報告対象外）", "not required"),
}
CHECK_WORDS = {
    "ok": ("対応済み", "Done"),
    "attention": ("要確認", "Needs attention"),
    "ng": ("未対応", "Not done"),
    "manual": ("人による確認", "Check by a person"),
}
INCIDENT_STATUS_WORDS = {"open": ("対応中", "open"), "closed": ("終了", "closed")}
TRIGGER_MARKS = {"sensitive": "①", "financial": "②", "wrongful": "③", "over_1000": "④"}


class _Words:
    """Japanese or English, as the reader asked."""

    def __init__(self, lang: str) -> None:
        self.lang = "en" if lang == "en" else "ja"
        self.en = self.lang == "en"

    def __call__(self, ja: str, en: str) -> str:
        return en if self.en else ja

    def pair(self, words: tuple[str, str]) -> str:
        return words[1] if self.en else words[0]

    def days(self, value: float | None) -> str:
        if value is None:
            return "—"
        return self(f"{value:,.1f}日", f"{value:,.1f} days")

    def date(self, day: date | datetime | None) -> str:
        return labels.fmt_date(day, self.lang)

    def sources(self, names: list[str]) -> str:
        return self("集計元: ", "Read from: ") + self("、", ", ").join(names)

    def item_header(self, value: tuple[str, str] = ("件数", "Count")) -> list[str]:
        return [self("項目", "Item"), self.pair(value)]


def _n(value: int) -> str:
    return f"{value:,}"


def _overview(report: GovernanceReport, w: _Words) -> Section:
    ev = report.evaluation
    evaluated = (
        w("まだ評価されていません", "not evaluated yet")
        if ev.evaluated_at is None
        else w(
            f"{labels.fmt_datetime(ev.evaluated_at)}に評価（監査ログの通番 {ev.last_seq:,} まで）",
            f"evaluated {labels.fmt_datetime(ev.evaluated_at, 'en')} (audit log up to seq {ev.last_seq:,})",
        )
    )
    rows = [
        [w("対象月", "Month"), month_words(report, w.lang)],
        [
            w("対象期間", "Period"),
            w(
                f"{w.date(report.start)}〜{w.date(report.end)}（日本時間）",
                f"{w.date(report.start)} – {w.date(report.end)} (JST)",
            ),
        ],
        [w("作成日時", "Made at"), labels.fmt_datetime(report.generated_at, w.lang)],
        [w("作成者の役割", "Made by (role)"), labels.value("role", report.generated_by_role, w.lang)],
        [w("監査ログの監視", "Audit log monitoring"), evaluated],
    ]
    notes = []
    if not report.complete:
        notes.append(
            w(
                "この月はまだ終わっていません。数値は作成日時までの途中経過です。",
                "The month has not ended: the figures are as of the time the report was made.",
            )
        )
    if not ev.covers_period:
        notes.append(
            w(
                "監査ログの監視（評価）が対象月の終わりまで済んでいないため、閲覧・持出しとアラートの数値は一部です。",
                "The audit log has not been evaluated up to the end of the month: the reads, exports and alerts "
                "are partial.",
            )
        )
    notes.append(
        w(
            "集計値のみを載せています。顧客の情報は含まず、担当者は役割と人数でのみ示します。",
            "Aggregates only: no customer's information; staff appear only as roles and counts.",
        )
    )
    head = w("報告の概要", "About this report")
    table = Table("overview-facts", head, w.item_header(("内容", "Value")), rows, widths=(0.3, 0.7))
    return Section("overview", head, [table], notes)


def _activity_section(report: GovernanceReport, w: _Words) -> Section:
    header = [
        w("役割", "Role"),
        w("有効なアカウント", "Active accounts"),
        w("利用した担当者", "Staff active"),
        w("操作（監査ログ）", "Audit entries"),
        w("閲覧した顧客（延べ人数）", "People read"),
        w("拒否", "Denials"),
        w("持出し（延べ人数）", "People exported"),
        w("業務時間外の閲覧（延べ人数）", "People read off hours"),
        w("要配慮個人情報の閲覧（件）", "要配慮 reads (entries)"),
    ]

    def row(r: RoleActivity) -> list[str]:
        accounts = _n(r.accounts)
        if r.service_accounts:
            accounts += w(f"（API {r.service_accounts:,}）", f" (+{r.service_accounts:,} API)")
        numbers = (r.active_staff, r.entries, r.reads, r.denials, r.exports, r.off_hours, r.sensitive)
        return [w(r.role_ja, r.role_en), accounts, *(_n(v) for v in numbers)]

    a = report.activity
    table = Table(
        "activity-roles",
        w("役割別の閲覧・持出し", "Reads and exports by role"),
        header,
        [row(r) for r in a.roles] + [row(a.total)],
        frozenset(range(1, 9)),
        (0.16,) + (0.105,) * 8,
    )
    notes = [
        w(
            "延べ人数は日ごとに数えた人数の合計です（2日に閲覧した顧客は2人）。持出しは出力・引渡し・提供ファイルに"
            "含めた人数です。有効なアカウントは作成時点の数です。",
            "People are counted per day: a customer read on two days counts twice. Exports are people in exports, "
            "handovers and provision files. Accounts are those active when the report was made.",
        ),
        w.sources(a.sources),
    ]
    return Section("activity", w("1. 閲覧・持出し（役割別）", "1. Reads and exports by role"), [table], notes)


def _alert_section(report: GovernanceReport, w: _Words) -> Section:
    a = report.alerts
    s = a.by_status
    summary = [
        [w("発生したアラート", "Alerts raised"), _n(a.raised)],
        [w("うち重要度「高」", "of them high severity"), _n(a.high)],
        [w("新規（未対応）", "New (not yet handled)"), _n(s.get(NEW, 0))],
        [w("確認中", "Being looked at"), _n(s.get(LOOKING, 0))],
        [w("対応不要として終了", "Dismissed"), _n(s.get(DISMISSED, 0))],
        [w("漏えい等事案として登録", "Incident opened"), _n(s.get(INCIDENT, 0))],
        [w("対応までの日数（中央値）", "Median days to handle"), w.days(a.median_days_to_handle)],
    ]
    header = [
        w("シグナル", "Signal"),
        w("件数", "Raised"),
        w("重要度「高」", "High"),
        w("新規", "New"),
        w("確認中", "Looking"),
        w("対応不要", "Dismissed"),
        w("事案登録", "Incident"),
    ]
    rows = [
        [
            w(c.name_ja, c.name_en),
            *(_n(v) for v in (c.raised, c.high, c.new, c.looking, c.dismissed, c.incident)),
        ]
        for c in a.by_signal
    ]
    notes = [
        w(
            "対象月の日付（日本時間）のアラートを、作成時点の状態で数えています。"
            "対応 = 対応不要として終了、または事案として登録。",
            "Alerts whose day (JST) is in the month, by their status when the report was made; handled = "
            "dismissed or an incident opened.",
        )
    ]
    if a.dismiss_reasons:
        listed = w("、", ", ").join(f"{k} {v:,}" for k, v in a.dismiss_reasons.items())
        notes.append(w(f"対応不要の理由: {listed}", f"Reasons for dismissal: {listed}"))
    notes.append(w.sources(a.sources))
    tables = [
        Table(
            "alerts-summary",
            w("アラートの件数と対応", "Alerts"),
            w.item_header(),
            summary,
            frozenset({1}),
            (0.6, 0.4),
        ),
        Table(
            "alerts-signals",
            w("シグナル別", "Alerts by signal"),
            header,
            rows,
            frozenset(range(1, 7)),
            (0.34,) + (0.11,) * 6,
        ),
    ]
    return Section("alerts", w("2. 監視アラートと対応結果", "2. Alerts and their outcome"), tables, notes)


def _request_section(report: GovernanceReport, w: _Words) -> Section:
    r = report.requests
    as_of = (
        w(f"{w.date(report.end)}の終わり", f"the end of {w.date(report.end)}")
        if report.complete
        else labels.fmt_datetime(r.overdue_as_of, w.lang)
    )
    rows = [
        [w("受け付けた請求", "Requests received"), _n(r.received)],
        [w("期限内に回答", "Answered within the deadline"), _n(r.on_time)],
        [w("期限後に回答、または未回答で期限超過", "Answered late, or open past the deadline"), _n(r.late)],
        [
            w("未回答で期限前（回答率の対象外）", "Open, not yet due (left out of the rate)"),
            _n(r.pending_not_due),
        ],
        [
            w("期限内回答率", "Answered within the deadline (rate)"),
            "—" if r.on_time_rate is None else f"{r.on_time_rate:.1f}%",
        ],
        [w("回答までの日数（中央値）", "Median days to answer"), w.days(r.median_days)],
        [
            w(
                f"期限を過ぎた未回答（{as_of}の時点、受付月を問わず）",
                f"Open past the deadline at {as_of} (received in any month)",
            ),
            _n(r.overdue_open),
        ],
    ]
    notes = [
        w(
            "対象月に受け付けた本人からの請求を、KPI ダッシュボードと同じ定義で数えています（期限内 = 期限、"
            "延長した場合は延長後の期限までに回答）。",
            "Requests received in the month, counted as on the KPI dashboard: on time = answered on or before the "
            "due date (the extended one when extended).",
        ),
        w.sources(r.sources),
    ]
    table = Table(
        "requests-summary", w("本人からの請求", "Requests"), w.item_header(), rows, frozenset({1}), (0.7, 0.3)
    )
    return Section("requests", w("3. 開示等の請求への対応", "3. Requests from the person"), [table], notes)


def _filing_counts(counts: dict[str, int], w: _Words) -> str:
    return w("・", ", ").join(f"{w.pair(FILING_WORDS[s])} {counts.get(s, 0):,}" for s in FILING_STATES[:-1])


def _filing_cell(state: str, due: date, w: _Words) -> str:
    words = w.pair(FILING_WORDS[state])
    if state == "not_required":
        return words
    return words + w(f"（期限 {w.date(due)}）", f" (due {w.date(due)})")


def _incident_section(report: GovernanceReport, w: _Words) -> Section:
    i = report.incidents
    triggers = w("・", ", ").join(f"{w.pair(TRIGGER_LABELS[t])} {n:,}" for t, n in i.by_trigger.items() if n)
    summary = [
        [w("対象月に把握した事案", "Incidents known in the month"), _n(i.known)],
        [w("うち報告対象（R-26-1）", "of them reportable (R-26-1)"), _n(i.reportable)],
        [w("対応中 / 終了", "Open / closed"), f"{i.open:,} / {i.closed:,}"],
        [w("速報（R-26-2）", "Preliminary reports (R-26-2)"), _filing_counts(i.prelim, w)],
        [w("確報（R-26-3）", "Final reports (R-26-3)"), _filing_counts(i.final, w)],
        [w("該当する事態", "Report triggers"), triggers or "—"],
        [w("台帳で対応中の事案（全期間）", "Open incidents in the register (any month)"), _n(i.open_now)],
    ]
    tables = [
        Table(
            "incidents-summary",
            w("漏えい等事案の件数", "Incidents"),
            w.item_header(),
            summary,
            widths=(0.4, 0.6),
        )
    ]
    rows = []
    for line in i.incidents:
        kind = w.pair(KIND_LABELS.get(line.kind, (line.kind, line.kind)))
        if line.suspected:
            kind += w("（おそれ）", " (suspected)")
        marks = "".join(TRIGGER_MARKS.get(t, t) for t in line.triggers)
        reportable = w(f"対象（{marks}）", f"yes {marks}") if line.reportable else w("対象外", "no")
        rows.append(
            [
                line.ref,
                kind,
                w.pair(CAUSE_LABELS.get(line.cause, (line.cause, line.cause))),
                w.pair(INCIDENT_STATUS_WORDS.get(line.status, (line.status, line.status))),
                reportable,
                _filing_cell(line.prelim, line.prelim_due, w),
                _filing_cell(line.final, line.final_due, w),
            ]
        )
    if rows:
        header = [
            w("事案番号", "Incident"),
            w("種類", "Kind"),
            w("原因", "Cause"),
            w("状態", "Status"),
            w("報告対象", "Reportable"),
            w("速報", "Preliminary report"),
            w("確報", "Final report"),
        ]
        widths = (0.1, 0.12, 0.18, 0.08, 0.1, 0.21, 0.21)
        tables.append(
            Table(
                "incidents-list",
                w("対象月に把握した事案", "Incidents known in the month"),
                header,
                rows,
                widths=widths,
            )
        )
    notes = [
        w(
            "事案は番号・種類・原因で示します（件名は載せません）。①〜④は報告対象となる事態（R-26-1）の番号です。",
            "Incidents appear by number, kind and cause (not their titles). ①–④ are the R-26-1 triggers.",
        ),
        w.sources(i.sources),
    ]
    return Section("incidents", w("4. 漏えい等事案", "4. Incidents (leaks etc.)"), tables, notes)


def _review_lines(s: ReviewSummary, w: _Words) -> str:
    return w(
        f"{s.lines:,}行（判断済み {s.decided:,}・変更 {s.changes:,}・要確認の印 {s.flagged:,}）",
        f"{s.lines:,} ({s.decided:,} decided, {s.changes:,} changed, {s.flagged:,} flagged)",
    )


def _review_section(report: GovernanceReport, w: _Words) -> Section:
    r = report.access_review
    last, under_way = r.last_closed, r.open_review

    def span(p: ReviewPeriod) -> str:
        return (
            f"{p.label}（{w.date(p.start)}〜{w.date(p.end)}）"
            if not w.en
            else f"{p.label} ({w.date(p.start)} – {w.date(p.end)})"
        )

    if r.overdue:
        state = w(
            f"期限超過: 前の期間 {r.previous.label} の見直しが完了していません",
            f"Overdue: the previous period {r.previous.label} was not reviewed",
        )
    else:
        state = w(
            f"前の期間 {r.previous.label} は見直し済み",
            f"The previous period {r.previous.label} was reviewed",
        )
    rows = [
        [
            w("見直しの間隔", "Interval"),
            w(f"{r.interval_months}か月ごと", f"every {r.interval_months} months"),
        ],
        [w("いまの期間", "Period now due"), span(r.period)],
        [
            w("いまの期間の見直し", "This period's review"),
            w("完了", "done") if r.done else w("未完了", "not done yet"),
        ],
        [w("状態", "Status"), state],
    ]
    if last is None:
        rows.append([w("最後に完了した見直し", "Last closed review"), w("なし", "none")])
    else:
        rows += [
            [
                w("最後に完了した見直し", "Last closed review"),
                w(
                    f"{last.ref}（対象期間 {w.date(last.period_start)}〜{w.date(last.period_end)}）",
                    f"{last.ref} ({w.date(last.period_start)} – {w.date(last.period_end)})",
                ),
            ],
            [w("完了日", "Closed on"), w.date(last.closed_at)],
            [w("確認した行", "Lines"), _review_lines(last, w)],
        ]
    rows.append(
        [
            w("実施中の見直し", "Review under way"),
            f"{under_way.ref}: {_review_lines(under_way, w)}" if under_way else w("なし", "none"),
        ]
    )
    notes = [
        w(
            f"{w.date(r.as_of)}時点。期間は暦年に合わせた{r.interval_months}か月ごとで、前の期間に完了した見直しが"
            "ないと期限超過です（アクセス権の定期見直しの画面と同じ判定）。アカウント名はこの報告には載せません。",
            f"As of {w.date(r.as_of)}. Periods of {r.interval_months} months are aligned to the calendar year; "
            "without a closed review of the previous period the review is overdue (as the access reviews page "
            "judges it). Accounts are not named here.",
        ),
        w.sources(r.sources),
    ]
    table = Table(
        "access-review-status",
        w("アクセス権の見直しの状況", "Access reviews"),
        w.item_header(("内容", "Value")),
        rows,
        widths=(0.35, 0.65),
    )
    return Section("access-review", w("5. アクセス権の定期見直し", "5. Access reviews"), [table], notes)


def _checklist_section(report: GovernanceReport, w: _Words) -> Section:
    c = report.checklist
    head = w("6. 実践チェックリスト", "6. Practical checklist")
    if not c.available:
        return Section("checklist", head, [], [w(c.note_ja or "", c.note_en or "")])
    header = [w("項目", "Question"), w("状態", "Answer"), w("根拠", "Evidence"), w("関係する規則", "Rules")]
    rows = [
        [
            w(i.question_ja, i.question_en),
            w.pair(CHECK_WORDS.get(i.status, (i.status, i.status))),
            "\n".join(f"・{e}" for e in (i.evidence_en if w.en else i.evidence_ja)),
            ", ".join(i.rule_ids),
        ]
        for i in c.items
    ]
    counts = w("・", ", ").join(f"{w.pair(CHECK_WORDS[s])} {c.counts.get(s, 0)}" for s in CHECK_WORDS)
    at = labels.fmt_datetime(c.generated_at, w.lang)
    notes = [
        w(
            f"{at}時点のシステムの状態から答えています（対象月の終わり時点ではありません）: {counts}。",
            f"Answered from the system's state at {at} (not as of the month's end): {counts}.",
        )
    ]
    table = Table(
        "checklist-items",
        w("実践チェックリスト", "Practical checklist"),
        header,
        rows,
        widths=(0.24, 0.1, 0.5, 0.16),
    )
    return Section("checklist", head, [table], notes)


def sections(report: GovernanceReport, lang: str = "ja") -> list[Section]:
    """The report laid out as sections of tables, in ``lang`` — what the text, the page, the document and the PDF
    show."""
    w = _Words(lang)
    return [
        _overview(report, w),
        _activity_section(report, w),
        _alert_section(report, w),
        _request_section(report, w),
        _incident_section(report, w),
        _review_section(report, w),
        _checklist_section(report, w),
    ]


# -- rendering -------------------------------------------------------------------------------------------------------


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: GovernanceReport, lang: str = "ja") -> str:
    """A stand-alone HTML document (inline CSS, no external resource, nothing to fetch): the title, then a table per
    section."""
    return (
        _environment()
        .get_template("monitoring/report_document.html")
        .render(
            lang="en" if lang == "en" else "ja",
            title=title(report, lang),
            subtitle=month_words(report, lang),
            sections=sections(report, lang),
        )
    )


_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def document_csp(html: str) -> str:
    """The Content-Security-Policy to serve the document with: nothing may load, and only its own inline style
    (by its SHA-256) applies — no ``unsafe-inline``."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1).encode("utf-8")).digest()).decode() + "'"
        for m in _STYLE.finditer(html)
    )
    return (
        f"default-src 'none'; style-src {hashes or chr(39) + 'none' + chr(39)}; img-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _font(settings: Settings | None) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = pdf_font_path(settings)
    name = PDF_FONT_NAME if path.name == "ipaexm.ttf" else f"MamoriJP-{path.stem}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    return name


def render_pdf(report: GovernanceReport, lang: str = "ja", *, settings: Settings | None = None) -> bytes:
    """The same content as a PDF (A4, the Japanese font embedded as the rights letters and the PPC report embed it,
    ``rights.service.render.pdf_font_path``), a ruled table per section."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    font = _font(settings)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=14, wordWrap="CJK")
    h1 = ParagraphStyle("h1", parent=body, fontSize=15, leading=22, alignment=TA_CENTER, spaceAfter=4)
    sub = ParagraphStyle("sub", parent=body, alignment=TA_CENTER, spaceAfter=8)
    h2 = ParagraphStyle("h2", parent=body, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=11)
    number = ParagraphStyle("number", parent=cell, alignment=TA_RIGHT)
    note = ParagraphStyle("note", parent=body, fontSize=7.5, leading=11, textColor=colors.HexColor("#444444"))
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    width = 180 * mm
    story: list[Any] = [para(title(report, lang), h1), para(month_words(report, lang), sub)]
    for section in sections(report, lang):
        story.append(para(section.title, h2))
        for table in section.tables:
            columns = len(table.header)
            shares = table.widths if len(table.widths) == columns else (1 / columns,) * columns
            data = [[para(h, cell) for h in table.header]] + [
                [para(v, number if j in table.numeric else cell) for j, v in enumerate(row)]
                for row in table.rows
            ]
            t = PdfTable(data, colWidths=[width * s for s in shares], repeatRows=1)
            t.setStyle(grid)
            story += [t, Spacer(1, 2 * mm)]
        story += [para(n, note) for n in section.notes]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        title=title(report, lang),
        invariant=True,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    doc.build(story)
    return buf.getvalue()
