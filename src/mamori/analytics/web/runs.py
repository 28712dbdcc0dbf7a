"""Web pages of analysis runs and segments (issue 24, items 1–3) — thin: parse, call the services, render.

- ``GET  /analytics/runs/new`` — the form: the kind (RFM, 年代・ライフステージ, 行動, CLV, 離反), the purpose (those in
  force; the ones whose notice states analysis / profiling first and marked), the reference date, the RFM bins, the
  behaviour window, the CLV / churn horizon.
- ``POST /analytics/runs`` — runs it on the personal path under the chosen purpose (audited by the service) and shows
  the result: the run's summary (segments with their rules and thresholds, model parameters and metrics, the
  fairness report beside the churn model) with charts, and the first 100 pseudonymous lines. htmx posts it with a
  busy indicator (CLV and churn take 10–40 s) and takes the page's ``<main>`` from the answer.
- ``GET  /analytics/runs`` and ``GET /analytics/runs/{id}`` — past runs and one run's summary (no line is stored).
- ``POST /analytics/runs/{id}/segments`` — 「この区分をセグメントとして保存」: runs the same analysis again with the
  same parameters (deterministic for the same reference date) and saves the chosen groups as a new version — when
  the data changed since (the groups' counts differ), it saves nothing and shows the new result to save from.
- ``GET  /analytics/segments`` and ``GET /analytics/segments/{name}`` — saved segments (newest versions) and every
  version of one, with whether it may feed a contact list (``@name``; never one cut from 仮名加工情報, R-41-5).

The 仮名加工情報 path takes a file on the analyst's machine and stays with the CLI (``--dataset``); its runs and
segments are listed here all the same. Pseudonyms and aggregates only: no customer id, name or contact point is on
these pages or in their URLs. Refusals say why with the rule id (R-23-2 for a role without analytics, R-17-1 for a
purpose whose notice does not state profiling); bad input re-renders the form with the fields in words (never the
value). Every POST needs the session's CSRF token.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from mamori.analytics.compute.lifestage import AGE_BANDS
from mamori.analytics.kpi_schemas import ChartData, ChartSeries
from mamori.analytics.permissions import ANALYTICS_GOVERNANCE
from mamori.analytics.schemas import KIND_LABELS, RunRead, SegmentRead
from mamori.analytics.service import runs, segments
from mamori.analytics.web.kpi import CHART_JS_FILE, CHART_JS_URL, chart_js_dir, chart_number, parse_day
from mamori.kernel.clock import JST
from mamori.kernel.errors import MamoriError, ValidationFailed
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import lang_of, render
from mamori.kernel.labels import label, value
from mamori.kernel.policy.actions import scope_for
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeRead

router = APIRouter(include_in_schema=False)

_ID = re.compile(r"^[0-9a-f]{32}$")
_PURPOSE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
ROWS_SHOWN = 100
RUNS_SHOWN = 100
FORM = "analytics/run_new.html"

#: The kinds in the form's order, with their short names (the summary's ``kind_ja`` is the long one).
KINDS: tuple[tuple[str, str, str], ...] = (
    ("rfm", "RFM 分析（最新購入日・購入回数・購入金額）", "RFM (recency, frequency, monetary)"),
    ("lifestage", "年代・ライフステージ", "Age band and life stage"),
    ("behaviour", "行動セグメント（購入・問い合わせ・通話）", "Behaviour (purchases, inquiries, calls)"),
    ("clv", "顧客生涯価値（CLV）", "Customer lifetime value (CLV)"),
    ("churn", "離反予測", "Churn prediction"),
)
#: name -> (label ja, label en, lowest, highest, default): the numbers of the form.
NUMBERS: dict[str, tuple[str, str, int, int, int | None]] = {
    "bins": ("RFM の段階数", "RFM bins", 2, 10, 5),
    "window_days": ("行動を見る期間（日）", "Behaviour window (days)", 30, 1825, 365),
    "horizon_days": ("予測期間（日）", "Horizon (days)", 30, 1825, None),  # CLV 365, churn 180 when empty
}
HORIZON_DEFAULT = {"clv": 365, "churn": 180}
FIELD_WORDS = {
    "kind": ("分析の種類", "Kind of analysis"),
    "purpose": ("利用目的", "Purpose"),
    "as_of": ("基準日", "Reference date"),
    "name": ("セグメント名", "Segment name"),
    "take": ("保存する区分", "Groups to save"),
    "note": ("メモ", "Note"),
    **{k: (v[0], v[1]) for k, v in NUMBERS.items()},
}
#: The per-pseudonym lines' columns in words (a column not listed shows its code).
COLUMN_WORDS = {
    "subject": ("仮名", "Pseudonym"),
    "recency_days": ("最終購入からの日数", "Days since last purchase"),
    "frequency": ("購入回数", "Purchases"),
    "monetary": ("購入金額（円）", "Spend (JPY)"),
    "r": ("R", "R"),
    "f": ("F", "F"),
    "m": ("M", "M"),
    "score": ("RFM スコア", "RFM score"),
    "segment": ("区分", "Group"),
    "band": ("区分", "Group"),
    "age_band": ("年代", "Age band"),
    "life_stage": ("ライフステージ", "Life stage"),
    "purchases": ("購入", "Purchases"),
    "inquiries": ("問い合わせ", "Inquiries"),
    "calls": ("通話", "Calls"),
    "notes": ("メモ", "Notes"),
    "contacts": ("問い合わせ＋通話", "Inquiries + calls"),
    "active": ("本人の動き", "Own activity"),
    "p_alive": ("継続している確率", "Probability still active"),
    "expected_purchases": ("予測購入回数", "Expected purchases"),
    "expected_spend": ("予測平均購入額（円）", "Expected spend per purchase (JPY)"),
    "clv": ("顧客生涯価値（円）", "Lifetime value (JPY)"),
    "churn_probability": ("離反確率", "Churn probability"),
    **{f"driver_{i}": (f"要因{i}", f"Driver {i}") for i in (1, 2, 3)},
    **{f"driver_{i}_effect": (f"要因{i}の影響", f"Driver {i} effect") for i in (1, 2, 3)},
}
LEFT_OUT_WORDS = {
    "purpose_not_notified": ("利用目的を通知していない", "not notified of the purpose"),
    "use_stopped": ("利用停止", "use stopped"),
    "erased": ("消去済み", "erased"),
    "no_consent": ("同意がない", "no consent"),
}


# -- formatting (NaN and None are "—": a model that could not say something says nothing) ------------------------


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and not math.isfinite(v))


def num(v: Any, digits: int = 0) -> str:
    """1,234 / 0.58 / — (none or not a number)."""
    if _missing(v):
        return "—"
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    return f"{v:,.{digits}f}"


def pct(v: Any, digits: int = 1) -> str:
    """A rate 0–1 as a percentage: 43.8%."""
    return "—" if _missing(v) or not isinstance(v, int | float) else f"{v * 100:.{digits}f}%"


def yen(v: Any, lang: str) -> str:
    if _missing(v) or not isinstance(v, int | float):
        return "—"
    return f"JPY {v:,.0f}" if lang == "en" else f"{v:,.0f}円"


def _finite(v: Any) -> float | None:
    return None if _missing(v) or not isinstance(v, int | float) else float(v)


# -- what a result page shows ------------------------------------------------------------------------------------


def groups_of(run: RunRead) -> list[dict[str, Any]]:
    """The groups a segment can be saved from (life stages, RFM / behaviour segments, CLV / churn bands)."""
    found = run.summary.get("segments") or run.summary.get("bands") or []
    return [g for g in found if isinstance(g, dict) and g.get("code")]


def _t(lang: str, ja: str, en: str) -> str:
    return en if lang == "en" else ja


def _bar(chart_id: str, ja: str, en: str, rows: list[dict[str, Any]], lang: str) -> ChartData:
    return ChartData(
        id=chart_id,
        kind="bar",
        title_ja=ja,
        title_en=en,
        labels=[str(g.get("name_en" if lang == "en" else "name_ja") or g.get("code")) for g in rows],
        datasets=[
            ChartSeries(label_ja="人数", label_en="People", data=[_finite(g.get("count")) for g in rows])
        ],
    )


def charts_of(run: RunRead, lang: str) -> list[ChartData]:
    """The charts of a run's summary (each drawn with its table by the ``_chart.html`` macro)."""
    s = run.summary
    if run.kind in ("rfm", "behaviour"):
        return [_bar("run-segments", "区分ごとの人数", "People per group", groups_of(run), lang)]
    if run.kind == "lifestage":
        return [
            _bar("run-bands", "年代ごとの人数", "People per age band", list(s.get("bands") or []), lang),
            _bar("run-stages", "ライフステージごとの人数", "People per life stage", groups_of(run), lang),
        ]
    if run.kind == "clv":
        return [_bar("run-bands", "価値の区分ごとの人数", "People per value band", groups_of(run), lang)]
    if run.kind != "churn":
        return []
    calibration = [row for row in s.get("calibration") or [] if isinstance(row, list) and len(row) == 3]
    importance = list(s.get("importance") or [])
    return [
        _bar("run-bands", "離反リスクの区分ごとの人数", "People per churn-risk band", groups_of(run), lang),
        ChartData(
            id="run-calibration",
            kind="line",
            title_ja="予測の較正（予測した離反率と実際の離反率）",
            title_en="Calibration (predicted and observed churn rate)",
            labels=[pct(row[0], 0) for row in calibration],
            datasets=[
                ChartSeries(
                    label_ja="実際の離反率（%）",
                    label_en="Observed churn rate (%)",
                    data=[
                        None if _finite(row[1]) is None else round(float(row[1]) * 100, 1)
                        for row in calibration
                    ],
                ),
                ChartSeries(
                    label_ja="予測どおりなら（%）",
                    label_en="If the prediction were exact (%)",
                    data=[
                        None if _finite(row[0]) is None else round(float(row[0]) * 100, 1)
                        for row in calibration
                    ],
                ),
            ],
        ),
        ChartData(
            id="run-importance",
            kind="bar",
            title_ja="予測を左右する特徴（並べ替えによる重要度：AUC の低下）",
            title_en="What drives the prediction (permutation importance: drop in AUC)",
            labels=[
                str(i.get("label_en" if lang == "en" else "label_ja") or i.get("feature")) for i in importance
            ],
            datasets=[
                ChartSeries(
                    label_ja="AUC の低下",
                    label_en="Drop in AUC",
                    data=[
                        None if _finite(i.get("mean")) is None else round(float(i["mean"]), 4)
                        for i in importance
                    ],
                )
            ],
        ),
    ]


def _cut(x: Any) -> str:
    """A cut point: 12 / 4.8 / 26,496."""
    if _missing(x) or not isinstance(x, int | float):
        return "—"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def score_ranges(cuts: list[Any], *, lower_is_better: bool, bins: int) -> list[str]:
    """The range of each score (bins … 1) from the cut points, as the RFM module scores them: recency
    ``r = bins − #(cuts ≤ days)`` (fewer days, higher score); frequency and monetary ``1 + #(cuts < value)``."""
    c = [_cut(x) for x in cuts]
    out = []
    for score in range(bins, 0, -1):
        if lower_is_better:  # score s: cut[bins-s-1] ≤ days < cut[bins-s]
            lo = bins - score - 1
            hi = bins - score
            left = f"{c[lo]} ≤ " if lo >= 0 else ""
            right = f" < {c[hi]}" if hi < len(c) else ""
        else:  # score s: cut[s-2] < value ≤ cut[s-1]
            left = f"{c[score - 2]} < " if score >= 2 else ""
            right = f" ≤ {c[score - 1]}" if score - 1 < len(c) else ""
        out.append(f"{left}x{right}")
    return out


def rfm_thresholds(run: RunRead) -> list[tuple[int, str, str, str]] | None:
    """RFM's thresholds as one row per score: (score, recency days, purchases, spend)."""
    t = run.summary.get("thresholds")
    bins = run.summary.get("bins")
    if not isinstance(t, dict) or not isinstance(bins, int):
        return None
    try:
        r = score_ranges(list(t["recency_days"]), lower_is_better=True, bins=bins)
        f = score_ranges(list(t["frequency"]), lower_is_better=False, bins=bins)
        m = score_ranges(list(t["monetary"]), lower_is_better=False, bins=bins)
    except (KeyError, IndexError, TypeError):
        return None
    return [(bins - i, r[i], f[i], m[i]) for i in range(bins)]


def _names(run: RunRead, lang: str) -> dict[str, dict[str, str]]:
    """Code -> words for the lines' group, band and driver columns."""
    key = "name_en" if lang == "en" else "name_ja"
    groups = {str(g["code"]): str(g.get(key) or g["code"]) for g in groups_of(run)}
    bands = {b.code: (b.name_en if lang == "en" else b.name_ja) for b in AGE_BANDS}
    features = {
        str(i.get("feature")): str(i.get("label_en" if lang == "en" else "label_ja") or i.get("feature"))
        for i in run.summary.get("importance") or []
    }
    return {"segment": groups, "band": groups, "life_stage": groups, "age_band": bands, "driver": features}


def lines_of(run: RunRead, columns: list[str], rows: list[list[Any]], lang: str) -> dict[str, Any]:
    """The first lines of a result (pseudonyms and figures), with the columns and codes in words."""
    names = _names(run, lang)
    heads = [_t(lang, *COLUMN_WORDS[c]) if c in COLUMN_WORDS else c for c in columns]
    shown = []
    for row in rows:
        cells = []
        for column, cell in zip(columns, row, strict=False):
            words = names.get("driver" if re.fullmatch(r"driver_\d", column) else column)
            if words is not None and isinstance(cell, str):
                cells.append(words.get(cell, cell))
            elif column in ("p_alive", "churn_probability"):
                cells.append(pct(cell))
            elif isinstance(cell, float):
                cells.append(num(cell, 2 if abs(cell) < 100 else 0))
            else:
                cells.append("—" if cell is None else str(cell))
        shown.append(cells)
    return {"columns": heads, "rows": shown}


def age_band_word(code: str, lang: str) -> str:
    return next((b.name_en if lang == "en" else b.name_ja for b in AGE_BANDS if b.code == code), code)


def group_word(attribute: str, code: Any, lang: str) -> str:
    """A fairness group in words (女性, 30代 …)."""
    if code is None:
        return _t(lang, "不明", "Unknown")
    if attribute == "gender":
        return value("gender", str(code), lang)
    if attribute == "age_band":
        return age_band_word(str(code), lang)
    return str(code)


# -- shared page context --------------------------------------------------------------------------------------------


def _charts_scripts() -> dict[str, Any]:
    return {
        "chart_js_src": f"{CHART_JS_URL}/{CHART_JS_FILE}" if chart_js_dir() is not None else None,
        "chart_number": chart_number,
    }


def _context(request: Request, who: Principal, current: str, **extra: Any) -> dict[str, Any]:
    return pages.page_context(
        request,
        who,
        current=current,
        governance=scope_for(who.actor.role, ANALYTICS_GOVERNANCE) is not None,
        kind_labels=KIND_LABELS,
        left_out_words=LEFT_OUT_WORDS,
        num=num,
        pct=pct,
        yen=yen,
        group_word=group_word,
        **_charts_scripts(),
        **extra,
    )


def _purposes(request: Request, who: Principal) -> list[PurposeRead]:
    """Purposes in force, those whose notice states analysis / profiling first."""
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=True) as ctx:
        found = purposes_service.list_purposes(ctx, include_retired=False)
    return sorted(found, key=lambda p: (not p.profiling, p.code))


def _purpose_title(request: Request, who: Principal, code: str) -> str | None:
    found = next((p for p in _purposes(request, who) if p.code == code), None)
    if found is None:
        return code
    return found.title_en if lang_of(request) == "en" else found.title_ja


def _error(field: str, lang: str, ja: str, en: str) -> dict[str, str]:
    words = FIELD_WORDS.get(field, (field, field))
    return {"field": field, "label": _t(lang, *words), "message": _t(lang, ja, en)}


def _refusal_words(request: Request, who: Principal, exc: MamoriError) -> dict[str, Any]:
    """A service's refusal in words with its rule id (as ``pages.refusal`` says it), shown on the form."""
    lang = lang_of(request)
    message = exc.message(lang)
    if exc.code == "role_not_permitted":
        message = label("web.not_permitted", lang).format(role=value("role", who.actor.role.value, lang))
    return {"message": message, "rule_id": exc.rule_id, "status": exc.http_status}


# -- the form and a run ----------------------------------------------------------------------------------------------


def _form_page(
    request: Request,
    who: Principal,
    *,
    chosen: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    refusal: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    purposes = _purposes(request, who)
    default = next((p.code for p in purposes if p.profiling), "")
    data = _context(
        request,
        who,
        "new",
        purposes=purposes,
        kinds=KINDS,
        chosen=chosen or {"kind": "rfm", "purpose": default, "bins": "5", "window_days": "365"},
        errors=errors or [],
        error_fields={e["field"] for e in errors or []},
        refusal=refusal,
    )
    return render(request, FORM, data, status_code=status)


@router.get("/analytics/runs/new", response_class=HTMLResponse)
def new_run(request: Request) -> Response:
    """The form. A role that may not read runs (sales, support) gets the refusal (the service audits it)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    try:
        with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=True) as ctx:
            runs.list_runs(ctx, limit=1)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/")
    return _form_page(request, who)


def _digits(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_run_form(
    form: dict[str, str], lang: str, today: date
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The runner's arguments from the form, or the fields that are wrong (in words, never the value)."""
    errors: list[dict[str, str]] = []
    kind = form.get("kind", "")
    if kind not in KIND_LABELS:
        errors.append(_error("kind", lang, "分析の種類を選んでください。", "Choose the kind of analysis."))
    if not _PURPOSE.match(form.get("purpose", "")):
        errors.append(_error("purpose", lang, "利用目的を選んでください。", "Choose a purpose."))
    kwargs: dict[str, Any] = {}
    as_of_text = form.get("as_of", "").strip()
    if as_of_text:
        day = parse_day(as_of_text) if len(as_of_text) <= 20 else None
        if day is None:
            errors.append(
                _error(
                    "as_of", lang, "日付を 2026-01-31 の形で入力してください。", "Enter a date as 2026-01-31."
                )
            )
        elif not date(2000, 1, 1) <= day <= today:
            errors.append(
                _error(
                    "as_of",
                    lang,
                    "基準日は 2000年1月1日から今日までの日付にしてください。",
                    "The reference date must be between 1 Jan 2000 and today.",
                )
            )
        kwargs["as_of"] = day
    else:
        kwargs["as_of"] = None
    wanted = {
        "rfm": ("bins",),
        "behaviour": ("window_days",),
        "clv": ("horizon_days",),
        "churn": ("horizon_days",),
    }
    for name in wanted.get(kind, ()):
        ja, en, lo, hi, default = NUMBERS[name]
        text = _digits(form.get(name, ""))
        if not text and name == "horizon_days":
            kwargs[name] = HORIZON_DEFAULT[kind]
            continue
        if not text and default is not None:
            kwargs[name] = default
            continue
        if not text.isdigit() or not lo <= int(text) <= hi:
            errors.append(
                _error(
                    name,
                    lang,
                    f"{lo}〜{hi} の整数で入力してください。",
                    f"Enter a whole number from {lo} to {hi}.",
                )
            )
            continue
        kwargs[name] = int(text)
    return kwargs, errors


def _chosen(form: dict[str, str]) -> dict[str, str]:
    """What to put back in the form: the choices and the numbers, cut short (what is shown is escaped)."""
    return {k: v[:20] for k, v in form.items() if k != "csrf"}


@router.post("/analytics/runs", response_class=HTMLResponse)
def run(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    as_of: Annotated[str, Form()] = "",
    bins: Annotated[str, Form()] = "",
    window_days: Annotated[str, Form()] = "",
    horizon_days: Annotated[str, Form()] = "",
) -> Response:
    """Run the analysis and show its result (the page, whose ``<main>`` htmx takes)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    lang = lang_of(request)
    form = {
        "kind": kind,
        "purpose": purpose,
        "as_of": as_of,
        "bins": bins,
        "window_days": window_days,
        "horizon_days": horizon_days,
    }
    rt = runtime_of(request)
    kwargs, errors = parse_run_form(form, lang, rt.clock.now().astimezone(JST).date())
    if errors:
        return _form_page(request, who, chosen=_chosen(form), errors=errors, status=422)
    try:
        with rt.transaction(who.actor, purpose, lang=lang) as ctx:
            outcome = runs.RUNNERS[kind](ctx, runs.Source(), **kwargs)
    except ValidationFailed as exc:  # e.g. no one to analyse under this purpose
        errors = [{"field": "", "label": _t(lang, "分析", "Analysis"), "message": exc.message(lang)}]
        return _form_page(request, who, chosen=_chosen(form), errors=errors, status=422)
    except MamoriError as exc:
        refusal = _refusal_words(request, who, exc)
        return _form_page(request, who, chosen=_chosen(form), refusal=refusal, status=refusal["status"])
    columns, rows = runs.table_rows(outcome.table, ROWS_SHOWN)
    lines = lines_of(outcome.run, columns, rows, lang)
    return _run_page(
        request, who, outcome.run, lines=lines, rows_total=outcome.table.height, headers=_push(outcome.run)
    )


def _push(run: RunRead) -> dict[str, str]:
    """htmx puts the run's own address in the location bar: a reload shows its summary."""
    return {"HX-Push-Url": f"/analytics/runs/{run.id}"}


def _run_page(
    request: Request,
    who: Principal,
    run: RunRead,
    *,
    lines: dict[str, Any] | None = None,
    rows_total: int | None = None,
    save_errors: list[dict[str, str]] | None = None,
    save_chosen: dict[str, Any] | None = None,
    refusal: dict[str, Any] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    lang = lang_of(request)
    data = _context(
        request,
        who,
        "run",
        run=run,
        charts=charts_of(run, lang),
        thresholds=rfm_thresholds(run) if run.kind == "rfm" else None,
        groups=groups_of(run),
        lines=lines,
        rows_total=rows_total,
        save_errors=save_errors or [],
        save_chosen=save_chosen or {"take": []},
        refusal=refusal,
        current_purpose_title=_purpose_title(request, who, run.purpose),
    )
    return render(request, "analytics/run.html", data, status_code=status, headers=headers)


@router.get("/analytics/runs", response_class=HTMLResponse)
def list_runs(request: Request, kind: str = "") -> Response:
    """Past runs, newest first (kind, path, purpose, subjects, who, when)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    lang = lang_of(request)
    if kind and kind not in KIND_LABELS:
        errors = [
            _error("kind", lang, "分析の種類を一覧から選んでください。", "Choose a kind from the list.")
        ]
        return pages.error_page(
            request, who, 422, label("web.invalid", lang), errors=errors, back="/analytics/runs"
        )
    try:
        with runtime_of(request).transaction(who.actor, None, lang=lang, readonly=True) as ctx:
            found = runs.list_runs(ctx, kind=kind or None, limit=RUNS_SHOWN)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/")
    return render(
        request, "analytics/runs.html", _context(request, who, "runs", runs=found, kinds=KINDS, kind=kind)
    )


@router.get("/analytics/runs/{run_id}", response_class=HTMLResponse)
def show_run(request: Request, run_id: str) -> Response:
    """One run's summary (the lines are not stored: run it again to see them)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(run_id):
        return pages.not_found(request, who, back="/analytics/runs")
    try:
        with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=True) as ctx:
            found = runs.get_run(ctx, run_id)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/analytics/runs")
    return _run_page(request, who, found)


# -- saving a segment ------------------------------------------------------------------------------------------------


def _rerun_kwargs(run: RunRead) -> dict[str, Any]:
    """The stored run's parameters as the runner takes them."""
    p = run.params
    kwargs: dict[str, Any] = {"as_of": date.fromisoformat(str(p["as_of"])) if p.get("as_of") else None}
    for name in ("bins", "window_days", "horizon_days"):
        if name in p:
            kwargs[name] = int(p[name])
    if "annual_discount" in p:
        kwargs["annual_discount"] = float(p["annual_discount"])
    return kwargs


def check_save(run: RunRead, name: str, take: list[str], note: str, lang: str) -> list[dict[str, str]]:
    """What is wrong with a save before running again (the name, the groups, the note's length)."""
    errors = []
    try:
        segments.check_name(name)
    except ValidationFailed as exc:
        errors.append(
            {"field": "name", "label": _t(lang, *FIELD_WORDS["name"]), "message": exc.message(lang)}
        )
    codes = [str(g["code"]) for g in groups_of(run)]
    if not take:
        errors.append(
            _error("take", lang, "保存する区分を一つ以上選んでください。", "Choose at least one group.")
        )
    elif any(t not in codes for t in take):
        errors.append(
            _error(
                "take",
                lang,
                "この分析にない区分が含まれています。一覧から選んでください。",
                "A group is not one of this analysis's; choose from the list.",
            )
        )
    if len(note) > 400:
        errors.append(
            _error("note", lang, "メモは 400 文字以内です。", "The note is at most 400 characters.")
        )
    return errors


@router.post("/analytics/runs/{run_id}/segments", response_class=HTMLResponse)
def save_segment(
    request: Request,
    run_id: str,
    csrf: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    take: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str, Form()] = "",
) -> Response:
    """Run the same analysis again (same kind, purpose and parameters) and save the chosen groups — only when it
    gives the groups shown (:func:`same_groups`); otherwise the new result is shown and nothing is saved."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(run_id):
        return pages.not_found(request, who, back="/analytics/runs")
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    lang = lang_of(request)
    rt = runtime_of(request)
    try:
        with rt.transaction(who.actor, None, lang=lang, readonly=True) as ctx:
            found = runs.get_run(ctx, run_id)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/analytics/runs")
    codes = list(dict.fromkeys(t for t in take or [] if t))[:20]
    chosen = {"name": name[:64], "take": codes, "note": note[:400]}
    if found.path != "personal":
        cli_only: dict[str, Any] = {
            "message": _t(
                lang,
                "仮名加工情報の分析は、そのファイルを使って CLI で保存します（連絡には使えません）。",
                "A run on pseudonymised data is saved with the CLI, from its file (it can never be used to contact "
                "anyone).",
            ),
            "rule_id": "R-41-5",
        }
        return _run_page(request, who, found, save_chosen=chosen, refusal=cli_only, status=422)
    errors = check_save(found, name, codes, note, lang)
    if errors:
        return _run_page(request, who, found, save_errors=errors, save_chosen=chosen, status=422)
    try:
        with rt.transaction(who.actor, found.purpose, lang=lang) as ctx:
            outcome = runs.RUNNERS[found.kind](ctx, runs.Source(), **_rerun_kwargs(found))
            same = same_groups(found, outcome.run)
            saved = segments.save(ctx, outcome, name, codes, note=note.strip() or None) if same else None
    except ValidationFailed as exc:
        field = (
            "note" if exc.code == "personal_data_in_text" else "take" if exc.code == "bad_take" else "name"
        )
        errors = [{"field": field, "label": _t(lang, *FIELD_WORDS[field]), "message": exc.message(lang)}]
        return _run_page(request, who, found, save_errors=errors, save_chosen=chosen, status=422)
    except MamoriError as exc:
        refusal = _refusal_words(request, who, exc)
        return _run_page(request, who, found, save_chosen=chosen, refusal=refusal, status=refusal["status"])
    if (
        saved is None
    ):  # the data changed since the run shown: nothing saved, the new result shown to save from
        changed = {
            "message": _t(
                lang,
                "表示していた分析の後にデータが変わり、区分の人数が一致しないため保存していません。"
                "新しい結果を表示しています。確かめてから保存してください。",
                "The data changed after the analysis shown, and the groups' counts differ, so nothing was saved. "
                "The new result is shown: check it, then save.",
            ),
            "rule_id": None,
        }
        push = {"HX-Push-Url": f"/analytics/runs/{outcome.run.id}"}
        return _run_page(
            request, who, outcome.run, save_chosen=chosen, refusal=changed, status=409, headers=push
        )
    return _segment_page(request, who, saved.name, saved=saved)


def same_groups(shown: RunRead, again: RunRead) -> bool:
    """Whether a run made again for a save gave the groups of the run shown (the same people counted in each): a
    segment holds the people the user saw, or nothing is saved. Per-person results are never stored, so the
    groups' counts and the people analysed are what can be compared."""

    def counts(run: RunRead) -> list[tuple[str, Any]]:
        return [(str(g.get("code")), g.get("count")) for g in groups_of(run)]

    return shown.subjects == again.subjects and counts(shown) == counts(again)


# -- segments --------------------------------------------------------------------------------------------------------


@router.get("/analytics/segments", response_class=HTMLResponse)
def list_segments(request: Request) -> Response:
    """Saved segments, the newest version of each."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    try:
        with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=True) as ctx:
            found = segments.list_segments(ctx, limit=segments.MAX_LIST)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/")
    return render(request, "analytics/segments.html", _context(request, who, "segments", segments=found))


def _segment_page(
    request: Request, who: Principal, name: str, *, saved: SegmentRead | None = None
) -> Response:
    try:
        with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=True) as ctx:
            found = segments.versions(ctx, name)
    except MamoriError as exc:
        if exc.code == "bad_segment_name":
            return pages.not_found(request, who, back="/analytics/segments")
        return pages.refusal(request, who, exc, back="/analytics/segments")
    headers = {"HX-Push-Url": f"/analytics/segments/{quote(found[0].name, safe='')}"} if saved else None
    data = _context(
        request,
        who,
        "segments",
        versions=found,
        newest=found[0],
        saved=saved,
        group_names=_segment_group_names(lang_of(request)),
    )
    return render(request, "analytics/segment.html", data, headers=headers)


def _segment_group_names(lang: str) -> dict[str, dict[str, str]]:
    """Kind -> code of a group a segment took -> its words (RFM, life-stage, behaviour and band names)."""
    from mamori.analytics.compute import lifestage, rfm

    en = lang == "en"
    return {
        "rfm": {r.code: r.name_en if en else r.name_ja for r in rfm.SEGMENT_RULES},
        "lifestage": {st.code: st.name_en if en else st.name_ja for st in lifestage.LIFE_STAGES},
        "behaviour": {b.code: b.name_en if en else b.name_ja for b in lifestage.BEHAVIOUR_RULES},
        "clv": {code: e if en else ja for code, ja, e in runs.CLV_BANDS},
        "churn": {code: e if en else ja for code, ja, e in runs.CHURN_BANDS},
    }


@router.get("/analytics/segments/{name}", response_class=HTMLResponse)
def show_segment(request: Request, name: str) -> Response:
    """Every version of one segment, newest first."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if len(name) > 64:
        return pages.not_found(request, who, back="/analytics/segments")
    return _segment_page(request, who, name)
