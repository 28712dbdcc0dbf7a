"""``mamori kpi [--from DATE --to DATE] [--json]`` and, under ``mamori analytics``: ``costs add | list``,
``checklist [--json]`` and ``datamap [--json]`` (issue 24, items 4 and 5).

Rich tables in the chosen language (Japanese unless ``--lang en``), ``--json`` for the data as the API answers it.
Counts, rates, dates and organisation names only. Errors are one line with their code (and rule id when a rule
refused), exit code non-zero.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state
from mamori.kernel.labels import fmt_date

if TYPE_CHECKING:
    from mamori.analytics import kpi_schemas
    from mamori.analytics.service import checklist as checklist_service
    from mamori.analytics.service import costs as costs_service
    from mamori.analytics.service import datamap as datamap_service
    from mamori.analytics.service import kpi as kpi_service
else:
    kpi_schemas = lazy("mamori.analytics.kpi_schemas")
    checklist_service = lazy("mamori.analytics.service.checklist")
    costs_service = lazy("mamori.analytics.service.costs")
    datamap_service = lazy("mamori.analytics.service.datamap")
    kpi_service = lazy("mamori.analytics.service.kpi")

costs_app = typer.Typer(
    help="顧客獲得のコスト（CAC の計算に使う） / acquisition costs (for the CAC)", no_args_is_help=True
)
JsonOpt = typer.Option(False, "--json")

STATUS_WORDS = {
    "ok": ("OK", "OK"),
    "attention": ("要確認", "attention"),
    "ng": ("NG", "NG"),
    "manual": ("人が確認", "manual"),
}
STATUS_STYLE = {"ok": "green", "attention": "yellow", "ng": "bold red", "manual": "cyan"}


def _date(value: str | None, option: str) -> date | None:
    """A ``YYYY-MM-DD`` option (JST date); a bad one is one line naming the option, never the value."""
    if value is None:
        return None
    from mamori.kernel.errors import ValidationFailed

    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(
            f"{option} は YYYY-MM-DD の形の日付で指定してください。",
            f"{option} is a date YYYY-MM-DD.",
            code="bad_date",
        ) from None


def _yen(amount: float, lang: str) -> str:
    whole = round(amount)
    return f"JPY {whole:,}" if lang == "en" else f"{whole:,}円"


def _value(st: CliState, k: kpi_schemas.Kpi) -> str:
    if k.value is None:
        return "—"
    lang = st.lang
    if k.unit == "percent":
        return f"{k.value:.1f}%"
    if k.unit == "yen":
        return _yen(k.value, lang)
    if k.unit == "days":
        return st.t(f"{k.value:g}日", f"{k.value:g} days")
    if k.unit == "count":
        return st.t(f"{k.value:,.0f}件", f"{k.value:,.0f}")
    return f"{k.value:.2f}"


def _figure(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _counted(st: CliState, e: kpi_schemas.KpiEvidence) -> str:
    parts = []
    if e.numerator is not None:
        parts.append(f"{st.t(e.numerator_ja, e.numerator_en)} {_figure(e.numerator)}")
    if e.denominator is not None:
        parts.append(f"{st.t(e.denominator_ja, e.denominator_en)} {_figure(e.denominator)}")
    return " / ".join(parts) or "—"


def _kpi_table(st: CliState, title: str, rows: list[kpi_schemas.Kpi]) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column(st.t("指標", "indicator"), overflow="fold")
    table.add_column(st.t("値", "value"), justify="right", no_wrap=True)
    table.add_column(st.t("数えたもの（分子 / 分母）", "counted (numerator / denominator)"), overflow="fold")
    table.add_column(st.t("備考", "note"), overflow="fold")
    for k in rows:
        table.add_row(
            st.t(k.label_ja, k.label_en),
            _value(st, k),
            _counted(st, k.evidence),
            st.t(k.note_ja or "", k.note_en or ""),
        )
    return table


def print_report(st: CliState, r: kpi_schemas.KpiReport) -> None:
    console.print(
        st.t(
            f"KPI（{fmt_date(r.start)}〜{fmt_date(r.end)}、日本時間）",
            f"KPIs ({fmt_date(r.start, 'en')} – {fmt_date(r.end, 'en')}, JST)",
        ),
        markup=False,
    )
    business = [k for k in r.kpis if k.group == "business"]
    privacy = [k for k in r.kpis if k.group == "privacy"]
    console.print(_kpi_table(st, st.t("事業の指標", "Business"), business))
    console.print(_kpi_table(st, st.t("プライバシーの指標", "Privacy"), privacy))
    console.print(
        st.t(
            f"グラフ {len(r.charts)} 件（--json または Web の画面で表示）。定義は --json の definition_ja にあります。",
            f"{len(r.charts)} charts (in --json or the web app). Each definition is in --json (definition_en).",
        ),
        markup=False,
    )


@cli_command
def kpi(
    ctx: typer.Context,
    start: str | None = typer.Option(
        None, "--from", help="期間の開始日 YYYY-MM-DD（既定: 終了日の1年前の翌日）"
    ),
    end: str | None = typer.Option(None, "--to", help="期間の終了日 YYYY-MM-DD（既定: 今日）"),
    json_out: bool = JsonOpt,
) -> None:
    """KPI（CAC・LTV・リピート率・離反率・データ品質と、プライバシーの指標） / the KPI dashboard."""
    st = state(ctx)
    first, last = _date(start, "--from"), _date(end, "--to")
    with st.transaction() as c:
        result = kpi_service.kpis(c, start=first, end=last)
    if json_out:
        print_json(result)
        return
    print_report(st, result)


# -- costs ------------------------------------------------------------------------------------------------------


@costs_app.command("add")
@cli_command
def cost_add(
    ctx: typer.Context,
    channel: str = typer.Option(
        ..., "--channel", help="取得経路（web_form など記録のある経路）、またはキャンペーンなら campaign"
    ),
    campaign: str | None = typer.Option(
        None,
        "--campaign",
        help="取得キャンペーンのコード（--channel campaign のとき。customers add|import --campaign で記録したもの）",
    ),
    start: str = typer.Option(..., "--from", help="期間の開始日 YYYY-MM-DD"),
    end: str = typer.Option(..., "--to", help="期間の終了日 YYYY-MM-DD"),
    amount: int = typer.Option(..., "--amount", help="金額（円、0以上） / amount in yen"),
    note: str | None = typer.Option(None, "--note", help="費用の内容（個人情報を含めない）"),
    json_out: bool = JsonOpt,
) -> None:
    """取得コストを記録する（訂正は同じ経路・期間で新しい行を記録） / record an acquisition cost."""
    st = state(ctx)
    data = kpi_schemas.CostIn.model_validate(
        {
            "channel": channel,
            "campaign_id": campaign,
            "period_start": _date(start, "--from"),
            "period_end": _date(end, "--to"),
            "amount_yen": amount,
            "note": note,
        }
    )
    with st.transaction() as c:
        row = costs_service.add_cost(c, data)
    if json_out:
        print_json(row)
        return
    console.print(
        st.t(
            f"取得コストを記録しました: {row.channel}、{fmt_date(row.period_start)}〜{fmt_date(row.period_end)}、"
            f"{_yen(row.amount_yen, 'ja')}（ID {row.id}）",
            f"recorded the acquisition cost: {row.channel}, {fmt_date(row.period_start, 'en')} – "
            f"{fmt_date(row.period_end, 'en')}, {_yen(row.amount_yen, 'en')} (id {row.id})",
        ),
        markup=False,
    )


@costs_app.command("list")
@cli_command
def cost_list(ctx: typer.Context, json_out: bool = JsonOpt) -> None:
    """記録した取得コストの一覧（新しい順） / the acquisition costs, newest first."""
    st = state(ctx)
    with st.transaction() as c:
        rows = costs_service.list_costs(c)
    if json_out:
        print_json(rows)
        return
    lang = "en" if st.lang == "en" else "ja"
    table = Table(title=st.t("取得コスト", "Acquisition costs"))
    table.add_column(st.t("状態", "state"), no_wrap=True)
    table.add_column(st.t("経路", "channel"), no_wrap=True)
    table.add_column(st.t("期間", "period"))
    table.add_column(st.t("金額", "amount"), justify="right", no_wrap=True)
    table.add_column(st.t("記録日", "recorded"))
    table.add_column(st.t("メモ", "note"), overflow="fold")
    for r in rows:
        table.add_row(
            st.t("訂正済み", "superseded") if r.superseded else st.t("有効", "counts"),
            f"{r.channel}:{r.campaign_id[:8]}" if r.campaign_id else r.channel,
            f"{fmt_date(r.period_start, lang)}〜{fmt_date(r.period_end, lang)}",
            _yen(r.amount_yen, lang),
            fmt_date(r.created_at, lang),
            r.note or "",
        )
    console.print(table)
    if not rows:
        console.print(st.t("記録はありません。", "nothing recorded."))


# -- the checklist and the data map -------------------------------------------------------------------------------


@cli_command
def checklist(ctx: typer.Context, json_out: bool = JsonOpt) -> None:
    """seed 002 の実務チェックリストをシステムの状態から評価 / the practical checklist, from the system's state."""
    st = state(ctx)
    with st.transaction() as c:
        result = checklist_service.checklist(c)
    if json_out:
        print_json(result)
        return
    table = Table(
        title=st.t("実務チェックリスト（seed 002）", "Practical checklist (seed 002)"), show_lines=True
    )
    table.add_column(st.t("確認項目", "question"), overflow="fold")
    table.add_column(st.t("状態", "status"), no_wrap=True)
    table.add_column(st.t("根拠", "evidence"), overflow="fold")
    table.add_column(st.t("条項", "rules"), no_wrap=True)
    for item in result.items:
        word = st.t(*STATUS_WORDS[item.status])
        table.add_row(
            st.t(item.question_ja, item.question_en),
            f"[{STATUS_STYLE[item.status]}]{word}[/]",
            "\n".join(st.t(f.ja, f.en) for f in item.evidence),
            "\n".join(item.rule_ids),
        )
    console.print(table)
    counts = result.counts
    console.print(
        st.t(
            f"OK {counts.get('ok', 0)} / 要確認 {counts.get('attention', 0)} / NG {counts.get('ng', 0)} / "
            f"人が確認 {counts.get('manual', 0)}",
            f"OK {counts.get('ok', 0)} / attention {counts.get('attention', 0)} / NG {counts.get('ng', 0)} / "
            f"manual {counts.get('manual', 0)}",
        ),
        markup=False,
    )


@cli_command
def datamap(ctx: typer.Context, json_out: bool = JsonOpt) -> None:
    """データマップ: 保管場所、提供先・委託先・共同利用者、外国への移転 / the data map."""
    st = state(ctx)
    with st.transaction() as c:
        result = datamap_service.data_map(c)
    if json_out:
        print_json(result)
        return
    names = {n.id: n.name for n in result.nodes}
    stores = Table(title=st.t("保管場所", "Where data is stored"))
    stores.add_column(st.t("保管場所", "store"), overflow="fold")
    stores.add_column(st.t("データ区分", "categories"), overflow="fold")
    stores.add_column(st.t("テーブル", "tables"), overflow="fold")
    stores.add_column(st.t("国", "country"), no_wrap=True)
    for s in result.stores:
        stores.add_row(
            st.t(s.label_ja, s.label_en),
            ", ".join(s.categories) or "—",
            ", ".join(s.tables) or "—",
            s.country or "—",
        )
    console.print(stores)
    flows = Table(title=st.t("データの流れ", "Data flows"))
    flows.add_column(st.t("元", "from"), overflow="fold")
    flows.add_column(st.t("先", "to"), overflow="fold")
    flows.add_column(st.t("データ区分・項目", "categories / items"), overflow="fold")
    flows.add_column(st.t("根拠", "basis"), overflow="fold")
    flows.add_column(st.t("越境", "abroad"), no_wrap=True)
    for f in result.flows:
        what = ", ".join(f.categories) + (f" ({', '.join(f.items)})" if f.items else "")
        basis = st.t(f.basis_ja, f.basis_en)
        if f.cross_border and (f.safeguard_ja or f.safeguard_en):
            basis += "\n" + st.t(f.safeguard_ja or "", f.safeguard_en or "")
        flows.add_row(
            names.get(f.from_, f.from_), names.get(f.to, f.to), what or "—", basis, f.cross_border or "—"
        )
    console.print(flows)
    for note in result.notes:
        console.print("・" + st.t(note.ja, note.en), markup=False)


def register(app: typer.Typer) -> None:
    """Adds ``costs``, ``checklist`` and ``datamap`` to the ``mamori analytics`` group."""
    app.add_typer(costs_app, name="costs")
    app.command("checklist")(checklist)
    app.command("datamap")(datamap)
