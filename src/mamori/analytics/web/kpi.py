"""Web pages of the KPI dashboard, the seed 002 checklist and the data map (issue 24, items 4 and 5) — thin: parse,
call the services, render.

- ``GET /analytics[?start=YYYY-MM-DD&end=YYYY-MM-DD]`` — the KPI dashboard: a card per indicator (value and unit,
  its definition and evidence, the note when it cannot be computed) in two groups, 事業 KPI and プライバシー KPI,
  then the charts (each with its table). ``analytics.kpi``: analyst, privacy officer, administrator.
- ``GET /analytics/checklist`` — seed 002's practical checklist answered from the system's own state, each item
  with its status, evidence and rule ids. ``analytics.governance``: privacy officer, administrator.
- ``GET /analytics/datamap`` — where data comes from, where each category is stored and who it goes to (outsourcees,
  third parties, joint users; transfers abroad marked), as an SVG drawn here on the server and as tables.
  ``analytics.governance``.

Aggregates, dates, codes and organisation names only: nothing personal is on these pages or in their URLs. A role
without the action gets the refusal page with its rule id (R-23-2); a bad period a 422 page that says which date.
Charts: see :func:`chart_js_dir` and ADR 0024.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mamori.analytics.kpi_schemas import DataMap, Flow, Kpi, MapNode
from mamori.analytics.permissions import (
    ANALYTICS_COSTS,
    ANALYTICS_GOVERNANCE,
    ANALYTICS_KPI,
    ANALYTICS_RUN,
    ANALYTICS_SEGMENTS,
)
from mamori.analytics.service import checklist as checklist_service
from mamori.analytics.service import datamap as datamap_service
from mamori.analytics.service import kpi as kpi_service
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import lang_of, render
from mamori.kernel.labels import label, value, values
from mamori.kernel.policy.actions import scope_for

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

# -- Chart.js, installed from npm by `make install` (ADR 0024) ---------------------------------------------------

#: ``web-vendor/`` of the source tree (an editable install; a wheel has none and shows tables only).
WEB_VENDOR = Path(__file__).resolve().parents[4] / "web-vendor"
CHART_JS_URL = "/static/vendor/chart.js"
CHART_JS_FILE = "chart.umd.min.js"  # the UMD build: a plain <script> defines window.Chart, no bundler needed


@functools.cache
def chart_js_dir() -> Path | None:
    """Chart.js's ``dist/`` directory, or None — logged once — when ``make install`` has not installed it."""
    dist = WEB_VENDOR / "node_modules" / "chart.js" / "dist"
    if (dist / CHART_JS_FILE).is_file():
        return dist
    log.warning(
        "Chart.js is not installed (%s is missing; `make install` installs it with npm): "
        "the analytics pages show their tables without charts",
        dist / CHART_JS_FILE,
    )
    return None


def chart_number(v: float | None, lang: str) -> str:
    """A chart's value in its table: 1,234 / 12.5 / — (no data)."""
    if v is None:
        return "—"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


# -- the period ----------------------------------------------------------------------------------------------------

_DAY = re.compile(r"^(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?$")
PERIOD_FIELDS = {"start": ("開始日", "Start date"), "end": ("終了日", "End date")}


def parse_day(text: str) -> date | None:
    """2026-01-31, 2026/1/31, 2026年1月31日, full-width digits too; None when it is not a date."""
    m = _DAY.match(unicodedata.normalize("NFKC", text).strip())
    if m is None:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


# -- KPI cards -----------------------------------------------------------------------------------------------------

GROUPS = (
    ("business", "事業 KPI", "Business KPIs"),
    ("privacy", "プライバシー KPI", "Privacy KPIs"),
)
#: The pages behind the KPIs: (words, roles whose menu has the page).
LIST_PAGES: dict[str, tuple[str, str, frozenset[str]]] = {
    "/rights": ("本人からの請求", "Requests from the person", frozenset({"privacy_officer"})),
    "/consent": ("同意・連絡停止", "Consent and do-not-contact", frozenset({"privacy_officer"})),
    "/outsourcees": ("委託先", "Outsourcees", frozenset({"privacy_officer"})),
    "/incidents": ("漏えい等事案", "Incidents", frozenset({"privacy_officer", "admin"})),
    "/quality": ("データ品質", "Data quality", frozenset({"privacy_officer"})),
    "/contact/campaigns": ("メール配信", "E-mail campaigns", frozenset({"privacy_officer", "analyst"})),
}
#: KPI code → the list behind its number (UI.md: every number links to the list behind it).
LIST_BEHIND: dict[str, str] = {
    "requests_on_time": "/rights",
    "request_median_days": "/rights",
    "consent_rate": "/consent",
    "do_not_contact_rate": "/consent",
    "processor_audits_on_time": "/outsourcees",
    "incidents": "/incidents",
    "incidents_by_trigger": "/incidents",
    "data_quality": "/quality",
    "email_open_rate": "/contact/campaigns",
    "email_click_rate": "/contact/campaigns",
}


def kpi_value(k: Kpi, lang: str) -> str:
    """The value with its unit: 45.2% / 12,345円 / 3.5日 / 12件 / 0.87 — or 計算できません."""
    v = k.value
    en = lang == "en"
    if v is None:
        return "Not computable" if en else "計算できません"
    if k.unit == "percent":
        return f"{v:.1f}%"
    if k.unit == "yen":
        return f"JPY {v:,.0f}" if en else f"{v:,.0f}円"
    if k.unit == "days":
        return f"{v:,.1f} days" if en else f"{v:,.1f}日"
    if k.unit == "count":
        return f"{v:,.0f}" if en else f"{v:,.0f}件"
    return f"{v:.2f}"


def evidence_number(v: float | int | str | bool | None) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool) or isinstance(v, str):
        return str(v)
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


@dataclass
class KpiCard:
    """One card: an indicator on its own, or one given per channel / purpose / trigger (``parts``)."""

    code: str
    title_ja: str
    title_en: str
    main: Kpi | None = None
    parts: list[tuple[str, str, Kpi]] = field(default_factory=list)  # (name ja, name en, kpi)

    @property
    def definition(self) -> Kpi:
        return self.main or self.parts[0][2]


def _after_colon(text: str) -> str:
    return text.split(": ", 1)[1] if ": " in text else text


def _before_colon(text: str) -> str:
    return text.split(": ", 1)[0]


def kpi_cards(kpis: Iterable[Kpi], group: str) -> list[KpiCard]:
    """The group's indicators as cards, one per code in the service's order: a per-key indicator (``key`` set)
    becomes a row of its code's card; the whole (``key`` None), when there is one, is the card's main value."""
    cards: dict[str, KpiCard] = {}
    for k in kpis:
        if k.group != group:
            continue
        card = cards.get(k.code)
        if card is None:
            card = cards[k.code] = KpiCard(k.code, _before_colon(k.label_ja), _before_colon(k.label_en))
        if k.key is None:
            card.main = k
            card.title_ja, card.title_en = k.label_ja, k.label_en
        else:
            card.parts.append((_after_colon(k.label_ja), _after_colon(k.label_en), k))
    return list(cards.values())


# -- the data map: three columns, drawn as SVG on the server -------------------------------------------------------

COLUMN_OF = {
    "person": 0,
    "provider": 0,
    "self": 1,
    "store": 1,
    "third_party": 2,
    "outsourcee": 2,
    "sub_outsourcee": 2,
    "joint_user": 2,
}
COLUMNS = (
    ("取得元", "Where data comes from"),
    ("保管場所（項目の種類）", "Where it is stored (categories)"),
    ("提供先・委託先", "Who it goes to"),
)
NODE_KINDS = {
    "self": ("当社", "Us"),
    "person": ("本人", "The person"),
    "provider": ("提供元", "Provider"),
    "store": ("保管場所", "Storage"),
    "third_party": ("第三者", "Third party"),
    "outsourcee": ("委託先", "Outsourcee"),
    "sub_outsourcee": ("再委託先", "Sub-outsourcee"),
    "joint_user": ("共同利用者", "Joint user"),
    "succession": ("事業の承継先", "Successor"),
}
#: Line colour per basis (with the basis in words in the tables; colour is never the only cue).
BASIS_COLOUR = {
    "collection": "#0072b2",
    "receipt": "#0072b2",
    "storage": "#555555",
    "entrustment": "#009e73",
    "sub_entrustment": "#009e73",
    "consent": "#cc4c02",
    "exception": "#cc4c02",
    "opt_out": "#cc4c02",
    "joint_use": "#8a5a00",
    "succession": "#8a5a00",
}
SVG_WIDTH = 960
BOX_WIDTH = 250
BOX_HEIGHT = 44
ROW = 60
TOP = 48
COLUMN_X = (10, (SVG_WIDTH - BOX_WIDTH) // 2, SVG_WIDTH - BOX_WIDTH - 10)
NAME_CHARS = 18


@dataclass(frozen=True)
class Box:
    id: str
    kind: str
    name: str
    short: str  # the name cut to fit the box (the full name is in its <title> and the tables)
    sub: str  # categories of a store / the country of a party abroad
    x: int
    y: int
    abroad: bool


@dataclass(frozen=True)
class Line:
    flow: Flow
    path: str
    colour: str
    dashed: bool
    marker: str  # the id of the arrowhead of the line's colour
    label_x: int
    label_y: int


@dataclass(frozen=True)
class MapDrawing:
    width: int
    height: int
    boxes: list[Box]
    lines: list[Line]
    markers: list[tuple[str, str]]  # (id, colour) of each arrowhead used


def _short(text: str, n: int = NAME_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def draw_map(m: DataMap, lang: str) -> MapDrawing:
    """Place every node in its column (sources, stores, recipients) and every flow as a curve between two boxes; a
    flow to a party abroad is dashed and its box says the country."""
    stores = {f"store:{s.id}": s for s in m.stores}
    abroad = {f.to: f.cross_border for f in m.flows if f.cross_border}
    columns: list[list[MapNode]] = [[], [], []]
    for node in m.nodes:
        columns[COLUMN_OF.get(node.kind, 2)].append(node)
    boxes: dict[str, Box] = {}
    for col, nodes in enumerate(columns):
        for row, node in enumerate(nodes):
            sub = ""
            store = stores.get(node.id)
            if store is not None:
                sep = ", " if lang == "en" else "・"
                sub = sep.join(value("data_category", c, lang) for c in store.categories)
            country = abroad.get(node.id) or (node.country if node.country and node.country != "JP" else None)
            if country:
                where = value("country", country, lang)
                sub = f"{'abroad' if lang == 'en' else '外国'}: {where}" + (f" / {sub}" if sub else "")
            kind_ja, kind_en = NODE_KINDS.get(node.kind, (node.kind, node.kind))
            name = node.name  # in the request's language (the service names its own nodes in it)
            boxes[node.id] = Box(
                id=node.id,
                kind=kind_en if lang == "en" else kind_ja,
                name=name,
                short=_short(name),
                sub=_short(sub, 24),
                x=COLUMN_X[col],
                y=TOP + row * ROW,
                abroad=bool(country),
            )
    lines = []
    markers: dict[str, str] = {}
    for f in m.flows:
        a, b = boxes.get(f.from_), boxes.get(f.to)
        if a is None or b is None:
            continue
        y1, y2 = a.y + BOX_HEIGHT // 2, b.y + BOX_HEIGHT // 2
        if a.x == b.x:  # within one column (an outsourcee to its sub-outsourcee): a loop on the right
            x = a.x + BOX_WIDTH
            path = f"M{x},{y1} C{x + 40},{y1} {x + 40},{y2} {x},{y2}"
            lx, ly = x + 30, (y1 + y2) // 2
        else:
            left, right = (a, b) if a.x < b.x else (b, a)
            x1, x2 = left.x + BOX_WIDTH, right.x
            ya, yb = (y1, y2) if left is a else (y2, y1)
            mid = (x1 + x2) // 2
            path = f"M{x1},{ya} C{mid},{ya} {mid},{yb} {x2},{yb}"
            if left is not a:  # drawn right to left: the arrow must still point at the recipient
                path = f"M{x2},{yb} C{mid},{yb} {mid},{ya} {x1},{ya}"
            lx, ly = mid, (ya + yb) // 2
        colour = BASIS_COLOUR.get(f.basis, "#333333")
        marker = markers.setdefault(colour, f"datamap-arrow-{len(markers) + 1}")
        lines.append(
            Line(
                flow=f,
                path=path,
                colour=colour,
                dashed=bool(f.cross_border),
                marker=marker,
                label_x=lx,
                label_y=ly,
            )
        )
    rows = max((len(c) for c in columns), default=0)
    return MapDrawing(
        SVG_WIDTH,
        TOP + max(rows, 1) * ROW + 10,
        list(boxes.values()),
        lines,
        [(marker, colour) for colour, marker in markers.items()],
    )


# -- pages ---------------------------------------------------------------------------------------------------------

CHECK_STATUS = {
    "ok": ("対応済み", "Done", "status-ok"),
    "attention": ("要確認", "Needs attention", "soon"),
    "ng": ("未対応", "Not done", "overdue"),
    "manual": ("人による確認", "Check by a person", "masked"),
}


def _allowed(who: Principal, action: Any) -> bool:
    return scope_for(who.actor.role, action) is not None


def _subnav(who: Principal) -> dict[str, bool]:
    """Which analytics pages the user's role may open (the others are not linked)."""
    return {
        "kpi": _allowed(who, ANALYTICS_KPI),
        "runs": _allowed(who, ANALYTICS_RUN),
        "segments": _allowed(who, ANALYTICS_SEGMENTS),
        "governance": _allowed(who, ANALYTICS_GOVERNANCE),
        "costs": _allowed(who, ANALYTICS_COSTS),
    }


def _charts_context() -> dict[str, Any]:
    return {
        "chart_js_src": f"{CHART_JS_URL}/{CHART_JS_FILE}" if chart_js_dir() is not None else None,
        "chart_number": chart_number,
    }


def _bad_period(request: Request, who: Principal, lang: str, fields: Sequence[str]) -> HTMLResponse:
    errors = [
        {
            "field": f,
            "label": PERIOD_FIELDS[f][1 if lang == "en" else 0],
            "message": (
                "enter a date as 2026-01-31" if lang == "en" else "日付を 2026-01-31 の形で入力してください"
            ),
        }
        for f in fields
    ]
    return pages.error_page(request, who, 422, label("web.invalid", lang), errors=errors, back="/analytics")


@router.get("/analytics", response_class=HTMLResponse)
def dashboard(request: Request, start: str = "", end: str = "") -> Response:
    """The KPI dashboard of a period (default: the year ending today, JST)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    lang = lang_of(request)
    days = {
        name: parse_day(text) if text.strip() else None for name, text in (("start", start), ("end", end))
    }
    bad = [name for name, text in (("start", start), ("end", end)) if text.strip() and days[name] is None]
    if bad:
        return _bad_period(request, who, lang, bad)
    try:
        with runtime_of(request).transaction(who.actor, None, lang=lang, readonly=True) as ctx:
            report = kpi_service.kpis(ctx, start=days["start"], end=days["end"])
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/analytics" if start or end else "/")
    role = who.actor.role.value
    data = pages.page_context(
        request,
        who,
        report=report,
        groups=[(code, ja, en, kpi_cards(report.kpis, code)) for code, ja, en in GROUPS],
        kpi_value=kpi_value,
        evidence_number=evidence_number,
        list_behind={
            code: (url, *LIST_PAGES[url][:2])
            for code, url in LIST_BEHIND.items()
            if role in LIST_PAGES[url][2]
        },
        subnav=_subnav(who),
        **_charts_context(),
    )
    return render(request, "analytics/kpi.html", data)


@router.get("/analytics/checklist", response_class=HTMLResponse)
def checklist(request: Request) -> Response:
    """Seed 002's practical checklist, answered from the system's own state with the evidence for each answer."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    lang = lang_of(request)
    try:
        with runtime_of(request).transaction(who.actor, None, lang=lang, readonly=True) as ctx:
            report = checklist_service.checklist(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/analytics")
    data = pages.page_context(request, who, report=report, status_words=CHECK_STATUS, subnav=_subnav(who))
    return render(request, "analytics/checklist.html", data)


@router.get("/analytics/datamap", response_class=HTMLResponse)
def datamap(request: Request) -> Response:
    """The data map: sources → stores → recipients, as an SVG and as tables."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    lang = lang_of(request)
    try:
        with runtime_of(request).transaction(who.actor, None, lang=lang, readonly=True) as ctx:
            m = datamap_service.data_map(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/analytics")
    data = pages.page_context(
        request,
        who,
        m=m,
        drawing=draw_map(m, lang),
        nodes={n.id: n for n in m.nodes},
        node_kinds=NODE_KINDS,
        columns=COLUMNS,
        column_x=COLUMN_X,
        box_width=BOX_WIDTH,
        box_height=BOX_HEIGHT,
        basis_colour=BASIS_COLOUR,
        values=values,
        subnav=_subnav(who),
    )
    return render(request, "analytics/datamap.html", data)
