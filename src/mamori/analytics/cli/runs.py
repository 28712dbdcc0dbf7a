"""``mamori analytics rfm | lifestage | behaviour | clv | churn | extract | runs | run | segments …`` (issue 24).

Every analysis takes the purpose it runs under (``-p``): on the personal path the purpose must state profiling
(R-17-1) and each person is decided by the policy engine; with ``--dataset FILE`` it reads a registered 仮名加工情報
made for that purpose (R-41-3). Results are pseudonyms and aggregates; ``--save NAME --take CODES`` keeps the
people of some groups as a versioned segment (usable as ``--segment @NAME`` in ``mamori contact list`` when the law
allows, R-41-5 / R-18-1).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from mamori.kernel.cli_support import CliState, cli_command, console, err_console, lazy, print_json, state

if TYPE_CHECKING:
    from mamori.analytics.schemas import RunRead, SegmentRead
    from mamori.analytics.service import frames, runs, segments
else:
    frames = lazy("mamori.analytics.service.frames")
    runs = lazy("mamori.analytics.service.runs")
    segments = lazy("mamori.analytics.service.segments")

PurposeOpt = typer.Option(..., "--purpose", "-p", help="利用目的コード（分析を含む目的、例: analytics）")
DatasetOpt = typer.Option(
    None, "--dataset", help="仮名加工情報のファイル（analytics extract / deid pseudonymise で作成・登録済み）"
)
JoinOpt = typer.Option(
    None, "--join", help="結合する仮名加工情報（同じ目的・同じ鍵のもの。識別情報は結合不可 R-41-5）"
)
AsOfOpt = typer.Option(None, "--as-of", help="基準日 YYYY-MM-DD（既定: 今日）")
RowsOpt = typer.Option(20, "--rows", help="表示する行数（仮名のみ） / lines shown (pseudonyms only)")
OutOpt = typer.Option(None, "--out", help="結果を CSV に書き出す（仮名と値のみ）")
SaveOpt = typer.Option(None, "--save", help="セグメントとして保存する名前（同名なら新しい版）")
TakeOpt = typer.Option(None, "--take", help="保存する区分コード（カンマ区切り、例: champions,loyal）")
NoteOpt = typer.Option(None, "--note", help="セグメントの説明（個人情報を含めない）")
ForceOpt = typer.Option(False, "--force", help="出力ファイルを上書きする")
JsonOpt = typer.Option(False, "--json")
SubjectColOpt = typer.Option("customer_id", "--subject-col", help="仮名の列名")
DateColOpt = typer.Option("occurred_at", "--date-col", help="日付の列名")
AmountColOpt = typer.Option("amount", "--amount-col", help="金額の列名")
KindColOpt = typer.Option("kind", "--kind-col", help="活動の種類の列名（なければ none）")
GenderColOpt = typer.Option("gender", "--gender-col", help="性別の列名（なければ none）")
AgeColOpt = typer.Option("age_band", "--age-band-col", help="年代の列名（なければ none）")


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    from mamori.kernel.errors import ValidationFailed

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "--as-of は YYYY-MM-DD の形で指定します。", "--as-of is a date YYYY-MM-DD.", code="bad_date"
        ) from None


def _source(
    dataset: Path | None,
    join: list[Path] | None,
    subject_col: str,
    date_col: str,
    amount_col: str,
    kind_col: str,
    gender_col: str,
    age_col: str,
) -> runs.Source:
    if dataset is None:
        if join:
            from mamori.kernel.errors import ValidationFailed

            raise ValidationFailed(
                "--join は --dataset と一緒に使います。", "--join goes with --dataset.", code="bad_option"
            )
        return runs.Source()

    def opt(name: str) -> str | None:
        return None if name.lower() in ("", "none", "-") else name

    columns = frames.DatasetColumns(
        subject=subject_col,
        occurred_at=date_col,
        amount=amount_col,
        kind=opt(kind_col),
        gender=opt(gender_col),
        age_band=opt(age_col),
    )
    return runs.Source(dataset=dataset, columns=columns, join=tuple(join or ()))


def _print_run(st: CliState, run: RunRead) -> None:
    en = st.lang == "en"
    console.print(
        st.t(
            f"{run.kind_ja}（{run.path_ja}・目的 {run.purpose}）: 対象 {run.subjects} 人、入力 {run.rows_in} 行 — "
            f"実行 ID {run.id}",
            f"{run.kind_ja} ({run.path_ja}, purpose {run.purpose}): {run.subjects} subjects, {run.rows_in} rows in"
            f" — run {run.id}",
        ),
        markup=False,
    )
    if run.left_out:
        console.print(
            st.t("対象外: ", "Left out: ") + ", ".join(f"{k} {v}" for k, v in run.left_out.items()),
            markup=False,
        )
    s = run.summary
    groups = s.get("segments") or s.get("bands") or []
    if groups:
        table = Table(title=st.t("区分", "Groups"))
        table.add_column(st.t("コード", "code"))
        table.add_column(st.t("名前", "name"))
        table.add_column(st.t("条件", "rule"), overflow="fold")
        table.add_column(st.t("人数", "people"), justify="right")
        for g in groups:
            table.add_row(
                str(g.get("code")),
                str(g.get("name_en" if en else "name_ja")),
                str(g.get("rule_en" if en else "rule_ja") or ""),
                str(g.get("count", "")),
            )
        console.print(table)
    if "thresholds" in s:
        t = s["thresholds"]
        console.print(
            st.t("しきい値", "Thresholds")
            + f": R(days) {t['recency_days']}  F {t['frequency']}  M(yen) {t['monetary']}",
            markup=False,
        )
    if run.kind == "clv":
        model = s.get("model", {})
        console.print(
            st.t("BG/NBD パラメータ", "BG/NBD parameters")
            + f": {model.get('bgnbd')}  "
            + st.t("Gamma-Gamma", "Gamma-Gamma")
            + f": {model.get('gamma_gamma')}",
            markup=False,
        )
        if s.get("mean_clv") is not None:
            console.print(
                st.t(
                    f"平均 CLV（{s['horizon_days']}日・割引率 {s['annual_discount']:.0%}）: {s['mean_clv']:,.0f} 円",
                    f"Mean CLV ({s['horizon_days']} days, discount {s['annual_discount']:.0%}): "
                    f"{s['mean_clv']:,.0f} yen",
                ),
                markup=False,
            )
    if run.kind == "churn":
        m = s["metrics"]
        console.print(
            st.t(
                f"検証（時系列分割 {s['train_cutoff']} → {s['test_cutoff']}）: AUC {m['auc']:.3f}、Brier "
                f"{m['brier']:.3f}（基準率のみ {m['brier_base_rate']:.3f}）、離反率 {m['base_rate']:.1%}",
                f"Validation (time split {s['train_cutoff']} → {s['test_cutoff']}): AUC {m['auc']:.3f}, Brier "
                f"{m['brier']:.3f} (base rate only {m['brier_base_rate']:.3f}), churn rate {m['base_rate']:.1%}",
            ),
            markup=False,
        )
        imp = Table(title=st.t("予測を左右する特徴量（並べ替え重要度）", "What drives the prediction"))
        imp.add_column(st.t("特徴量", "feature"))
        imp.add_column(st.t("AUC の低下", "AUC drop"), justify="right")
        for i in s["importance"]:
            imp.add_row(i["label_en" if en else "label_ja"], f"{i['mean']:.3f} ± {i['std']:.3f}")
        console.print(imp)
        fair = s.get("fairness")
        if fair:
            ft = Table(title=st.t("公平性（性別・年代は特徴量に使っていません）", "Fairness (not features)"))
            for col in (
                "attribute",
                "group",
                "count",
                "selection_rate",
                "true_positive_rate",
                "false_positive_rate",
            ):
                ft.add_column(col)
            for row in fair.get("rows", []):
                ft.add_row(
                    *[
                        f"{row.get(c):.3f}" if isinstance(row.get(c), float) else str(row.get(c))
                        for c in (
                            "attribute",
                            "group",
                            "count",
                            "selection_rate",
                            "true_positive_rate",
                            "false_positive_rate",
                        )
                    ]
                )
            console.print(ft)
        elif s.get("fairness_skipped"):
            console.print(st.t("公平性: ", "Fairness: ") + str(s["fairness_skipped"]), markup=False)


def _print_rows(st: CliState, columns: list[str], rows: list[list[Any]], total: int) -> None:
    if not rows:
        return
    table = Table(
        title=st.t(f"結果（仮名、{len(rows)}/{total} 行）", f"Result (pseudonyms, {len(rows)}/{total})")
    )
    for c in columns:
        table.add_column(c, no_wrap=c == "subject")
    for r in rows:
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else ("" if v is None else str(v)) for v in r])
    console.print(table)


def _run(
    ctx: typer.Context,
    kind: str,
    purpose: str,
    source: runs.Source,
    kwargs: dict[str, Any],
    *,
    rows: int,
    out: Path | None,
    save: str | None,
    take: str | None,
    note: str | None,
    force: bool,
    as_json: bool,
) -> None:
    st = state(ctx)
    from mamori.kernel.errors import ValidationFailed

    if out is not None and out.exists() and not force:  # refused before any work
        raise ValidationFailed(
            f"{out.name} は既にあります（上書きは --force）。",
            f"{out.name} already exists (--force overwrites it).",
            code="file_exists",
        )
    if take and not save:
        raise ValidationFailed(
            "--take は --save と一緒に使います。", "--take goes with --save.", code="bad_option"
        )
    saved: SegmentRead | None = None
    from rich.status import Status

    with Status(st.t("分析中…", "analysing…"), console=err_console) if not as_json else nullcontext():
        with st.transaction(purpose) as c:
            outcome = runs.RUNNERS[kind](c, source, **kwargs)
            if save:
                codes = [t.strip() for t in (take or "").split(",") if t.strip()]
                saved = segments.save(c, outcome, save, codes, note=note)
    columns, lines = runs.table_rows(outcome.table, rows)
    if out is not None:
        from mamori.kernel.files import write_output

        write_output(out, _csv(outcome.table), force=force)
    if as_json:
        print_json(
            {
                "run": outcome.run.model_dump(mode="json"),
                "columns": columns,
                "rows": lines,
                "rows_total": outcome.table.height,
                "segment": saved.model_dump(mode="json") if saved else None,
                "out": str(out) if out else None,
            }
        )
        return
    _print_run(st, outcome.run)
    _print_rows(st, columns, lines, outcome.table.height)
    if saved is not None:
        console.print(
            st.t(
                f"セグメント「{saved.name}」第{saved.version}版を保存しました（{saved.members} 人）。"
                + (
                    "連絡リストに使えます: --segment @" + saved.name
                    if saved.contactable
                    else "仮名加工情報から作成したため、連絡には使えません（R-41-5）。"
                ),
                f"Saved segment '{saved.name}' v{saved.version} ({saved.members} people). "
                + (
                    "Usable in contact lists: --segment @" + saved.name
                    if saved.contactable
                    else "Cut from pseudonymised data: never usable to contact anyone (R-41-5)."
                ),
            ),
            markup=False,
        )
    if out is not None:
        console.print(st.t(f"書き出しました: {out}", f"Written: {out}"), markup=False)


def _csv(table: Any) -> str:
    import io

    buf = io.StringIO()
    table.write_csv(buf)
    return "\ufeff" + buf.getvalue()


# The options every analysis command takes, in the order --help lists them: before the command's own options …
_LEADING = (
    ("purpose", str, PurposeOpt),
    ("dataset", Path | None, DatasetOpt),
    ("join", list[Path] | None, JoinOpt),
    ("as_of", str | None, AsOfOpt),
)
# … and after them.
_TRAILING = (
    ("rows", int, RowsOpt),
    ("out", Path | None, OutOpt),
    ("save", str | None, SaveOpt),
    ("take", str | None, TakeOpt),
    ("note", str | None, NoteOpt),
    ("force", bool, ForceOpt),
    ("subject_col", str, SubjectColOpt),
    ("date_col", str, DateColOpt),
    ("amount_col", str, AmountColOpt),
    ("kind_col", str, KindColOpt),
    ("gender_col", str, GenderColOpt),
    ("age_col", str, AgeColOpt),
    ("as_json", bool, JsonOpt),
)


def _analysis(app: typer.Typer, kind: str) -> Callable[[Callable[..., dict[str, Any]]], None]:
    """Register ``mamori analytics KIND``: the decorated function declares the command's own options and returns
    the runner's keyword arguments from them; the options every analysis shares (:data:`_LEADING`,
    :data:`_TRAILING`) are added to its signature here and handled by :func:`_run`."""

    def register_command(options: Callable[..., dict[str, Any]]) -> None:
        own = list(inspect.signature(options).parameters.values())
        shared = {name for name, _, _ in (*_LEADING, *_TRAILING)}

        def command(ctx: typer.Context, **kw: Any) -> None:
            common = {name: kw.pop(name) for name in shared}
            source = _source(
                common["dataset"],
                common["join"],
                common["subject_col"],
                common["date_col"],
                common["amount_col"],
                common["kind_col"],
                common["gender_col"],
                common["age_col"],
            )
            _run(
                ctx,
                kind,
                common["purpose"],
                source,
                {"as_of": _date(common["as_of"]), **options(**kw)},
                rows=common["rows"],
                out=common["out"],
                save=common["save"],
                take=common["take"],
                note=common["note"],
                force=common["force"],
                as_json=common["as_json"],
            )

        def param(name: str, annotation: Any, default: Any) -> inspect.Parameter:
            return inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )

        command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
                *(param(*p) for p in _LEADING),
                *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own),
                *(param(*p) for p in _TRAILING),
            ]
        )
        command.__name__ = options.__name__
        command.__doc__ = options.__doc__
        app.command(kind)(cli_command(command))

    return register_command


def register(app: typer.Typer) -> None:
    @_analysis(app, "rfm")
    def rfm_cmd(bins: int = typer.Option(5, "--bins", help="スコアの段階数（2〜10）")) -> dict[str, Any]:
        """RFM 分析：スコアと名前付きの区分（優良顧客・休眠顧客…）、使ったしきい値 / RFM scores and segments."""
        return {"bins": bins}

    @_analysis(app, "lifestage")
    def lifestage_cmd() -> dict[str, Any]:
        """年代とライフステージ / age bands and life stages."""
        return {}

    @_analysis(app, "behaviour")
    def behaviour_cmd(window: int = typer.Option(365, "--window", help="集計期間（日）")) -> dict[str, Any]:
        """行動セグメント（購入・問い合わせ・電話の回数から） / behaviour segments from activity kinds."""
        return {"window_days": window}

    @_analysis(app, "clv")
    def clv_cmd(
        horizon: int = typer.Option(365, "--horizon", help="予測期間（日）"),
        discount: float = typer.Option(0.08, "--discount", help="年間割引率（例: 0.08）"),
    ) -> dict[str, Any]:
        """顧客生涯価値（BG/NBD + Gamma-Gamma、pymc-marketing） / customer lifetime value."""
        return {"horizon_days": horizon, "annual_discount": discount}

    @_analysis(app, "churn")
    def churn_cmd(
        horizon: int = typer.Option(180, "--horizon", help="離反の判定期間（日）"),
    ) -> dict[str, Any]:
        """離反予測（時系列で検証、AUC・較正・要因・公平性） / churn probability with validation and fairness."""
        return {"horizon_days": horizon}

    @app.command("extract")
    @cli_command
    def extract_cmd(
        ctx: typer.Context,
        purpose: str = PurposeOpt,
        out: Path = typer.Option(..., "--out", help="仮名加工情報の出力ファイル（CSV）"),
        as_of: str | None = AsOfOpt,
        force: bool = ForceOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """分析用の仮名加工情報を作成・登録する（R-41-1/2/3） / make pseudonymised data for internal analysis."""
        st = state(ctx)
        with st.transaction(purpose) as c:
            made = frames.extract(c, out, as_of=_date(as_of), force=force)
        if as_json:
            print_json({**made.__dict__, "path": str(made.path), "manifest_path": str(made.manifest_path)})
            return
        console.print(
            st.t(
                f"仮名加工情報を作成しました: {out}（{made.rows} 行、{made.subjects} 人、登録 ID {made.dataset_id}）。"
                f"分析: mamori analytics rfm -p {purpose} --dataset {out}",
                f"Pseudonymised data written: {out} ({made.rows} rows, {made.subjects} people, register id "
                f"{made.dataset_id}). Analyse: mamori analytics rfm -p {purpose} --dataset {out}",
            ),
            markup=False,
        )

    @app.command("runs")
    @cli_command
    def runs_cmd(
        ctx: typer.Context,
        kind: str | None = typer.Option(None, "--kind", help="rfm / lifestage / behaviour / clv / churn"),
        limit: int = typer.Option(50, "--limit"),
        as_json: bool = JsonOpt,
    ) -> None:
        """分析の実行記録（集計のみ） / past analysis runs (aggregates only)."""
        st = state(ctx)
        with st.transaction() as c:
            found = runs.list_runs(c, kind=kind, limit=limit)
        if as_json:
            print_json([r.model_dump(mode="json") for r in found])
            return
        table = Table(title=st.t("分析の実行記録", "Analysis runs"))
        for col in (
            "ID",
            st.t("日時", "when"),
            st.t("種類", "kind"),
            st.t("経路", "path"),
            st.t("目的", "purpose"),
            st.t("対象", "subjects"),
            st.t("実行者", "by"),
        ):
            table.add_column(col, no_wrap=col == "ID")
        for r in found:
            table.add_row(
                r.id,
                r.created_at.isoformat(timespec="minutes"),
                r.kind_ja,
                r.path_ja,
                r.purpose,
                str(r.subjects),
                r.created_by,
            )
        console.print(table)

    @app.command("run")
    @cli_command
    def run_cmd(
        ctx: typer.Context, run_id: str = typer.Argument(..., help="実行 ID"), as_json: bool = JsonOpt
    ) -> None:
        """一回の分析の要約（しきい値・パラメータ・指標） / one run's summary."""
        st = state(ctx)
        with st.transaction() as c:
            found = runs.get_run(c, run_id)
        if as_json:
            print_json(found.model_dump(mode="json"))
            return
        _print_run(st, found)

    segments_app = typer.Typer(
        help="保存したセグメント（版管理） / saved segments (versioned)", no_args_is_help=True
    )
    app.add_typer(segments_app, name="segments")

    @segments_app.command("list")
    @cli_command
    def segments_list(ctx: typer.Context, as_json: bool = JsonOpt) -> None:
        """セグメントの一覧（最新版） / saved segments, newest version of each."""
        st = state(ctx)
        with st.transaction() as c:
            found = segments.list_segments(c)
        if as_json:
            print_json([s.model_dump(mode="json") for s in found])
            return
        _segments_table(st, found)

    @segments_app.command("show")
    @cli_command
    def segments_show(ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JsonOpt) -> None:
        """セグメントの全版（定義・人数・作成元の分析） / every version of a segment."""
        st = state(ctx)
        with st.transaction() as c:
            found = segments.versions(c, name)
        if as_json:
            print_json([s.model_dump(mode="json") for s in found])
            return
        _segments_table(st, found)


def _segments_table(st: CliState, found: list[SegmentRead]) -> None:
    table = Table(title=st.t("セグメント", "Segments"))
    for col in (
        st.t("名前", "name"),
        st.t("版", "v"),
        st.t("分析", "analysis"),
        st.t("経路", "path"),
        st.t("目的", "purpose"),
        st.t("人数", "people"),
        st.t("連絡に使用", "contact"),
        st.t("定義", "definition"),
    ):
        table.add_column(col, overflow="fold")
    for s in found:
        table.add_row(
            s.name,
            str(s.version),
            s.kind,
            s.path,
            s.purpose,
            str(s.members)
            + (
                st.t(f"（現在 {s.members_now}）", f" (now {s.members_now})")
                if s.members_now is not None and s.members_now != s.members
                else ""
            ),
            st.t("可", "yes") if s.contactable else st.t("不可（R-41-5）", "no (R-41-5)"),
            json.dumps(s.definition.get("take"), ensure_ascii=False),
        )
    console.print(table)
