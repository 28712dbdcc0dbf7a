"""`mamori deid pseudonymise|anonymise|risk|keys` (mounted as `mamori deid`).

Thin: parse, open a Context (``--as`` user, ``-p/--purpose``), call ``mamori.deid.service``, render. The service
authorises, registers the dataset and audits the run; 削除情報等 (pseudonym keys) are reached only through it.
Messages are Japanese by default, English with MAMORI_LANG=en; errors are one line with a non-zero exit code.
No record values are printed: only column names, counts and figures.

Import-light: polars, numpy, the engine and the service are imported inside the commands that use them, so that
``mamori --help`` and the other slices' commands do not load them; the option choices come from ``options``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from mamori.deid.tabular.errors import DatasetError
from mamori.deid.tabular.hierarchy import Hierarchy, builtin_hierarchy, read_csv_hierarchy
from mamori.deid.tabular.options import (
    DEFAULT_KEY_NAME,
    L_KINDS,
    METRICS,
    T_DISTANCES,
    LKind,
    Metric,
    TDistance,
)
from mamori.kernel import labels
from mamori.kernel.cli_support import cli_command, state
from mamori.kernel.files import check_output, write_output

if TYPE_CHECKING:
    import polars as pl

app = typer.Typer(help="仮名加工情報・匿名加工情報の作成と再識別リスク評価 (tabular)", no_args_is_help=True)
keys_app = typer.Typer(
    help="削除情報等（仮名化の鍵）の作成・破棄 — 個人情報保護管理者のみ (R-41-2)", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
_err = Console(stderr=True)


def _lang() -> str:
    return os.environ.get("MAMORI_LANG", "ja")


def read_table(path: Path, sep: str = ",") -> pl.DataFrame:
    import polars as pl

    if not path.exists():
        raise DatasetError(
            f"入力ファイル {path.name} がありません。", f"input file {path.name} does not exist"
        )
    try:
        if path.suffix.lower() == ".parquet":
            return pl.read_parquet(path)
        return pl.read_csv(path, separator=sep, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise DatasetError(
            f"入力ファイル {path.name} を読めません。", f"cannot read input file {path.name}"
        ) from exc


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values or []:
        col, eq, target = v.partition("=")
        if not eq or not col or not target:
            raise DatasetError(f"{option} は 列=値 の形で指定してください。", f"{option} takes COLUMN=VALUE")
        out[col.strip()] = target.strip()
    return out


def build_hierarchies(
    df: pl.DataFrame, qis: list[str], files: dict[str, str], builtins: dict[str, str], sep: str
) -> dict[str, Hierarchy]:
    import polars as pl

    hs: dict[str, Hierarchy] = {}
    for col, f in files.items():
        hs[col] = read_csv_hierarchy(Path(f), name=col, sep=sep)
    for col, kind in builtins.items():
        if col not in df.columns:
            raise DatasetError(f"列 {col} がありません。", f"column {col} does not exist")
        hs[col] = builtin_hierarchy(kind, df[col].cast(pl.String).fill_null("").unique().to_list(), col)
    missing = [q for q in qis if q not in hs]
    if missing:
        raise DatasetError(
            f"準識別子 {', '.join(missing)} の階層がありません（--hierarchy か --builtin で指定）。",
            f"no hierarchy for QI {', '.join(missing)} (give --hierarchy or --builtin)",
        )
    return hs


QiOpt = Annotated[list[str] | None, typer.Option("--qi", help="準識別子 (繰り返し可・カンマ区切り可)")]
HierOpt = Annotated[
    list[str] | None, typer.Option("--hierarchy", help="COLUMN=FILE.csv (ARX 形式, ; 区切り)")
]
BuiltinOpt = Annotated[
    list[str] | None, typer.Option("--builtin", help="COLUMN=age|prefecture|address|date|postal|flat")
]
SepOpt = Annotated[str, typer.Option("--sep", help="入力 CSV の区切り文字")]
ReportOpt = Annotated[Path | None, typer.Option("--report", help="report.json (隣に report.html)")]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="既存の出力ファイルを置き換える / replace existing output files")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="要約を JSON で標準出力へ")]
PurposeOpt = Annotated[
    str | None, typer.Option("--purpose", "-p", help="利用目的コード（必須、例: analytics）")
]


def _check_outputs(force: bool, output: Path | None, report: Path | None, *more: Path) -> None:
    """Refuse, before any work, an output or report file that exists (without --force) or is a directory (the
    files are written through kernel.files: never through a symbolic link)."""
    paths = [p for p in (output, report, report.with_suffix(".html") if report else None, *more) if p]
    for p in paths:
        check_output(p, force=force)


def _summary(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        lang = _lang()
        for k, v in data.items():
            shown = ("はい" if v else "いいえ") if isinstance(v, bool) and lang != "en" else v
            typer.echo(f"{labels.label(f'deid_summary.{k}', lang, default=k)}: {shown}")


@app.command("anonymise")
@cli_command
def anonymise_cmd(
    ctx: typer.Context,
    input_path: Annotated[Path, typer.Argument(help="入力 CSV / Parquet")],
    output: Annotated[Path, typer.Option("-o", "--output", help="出力 .csv / .parquet")],
    qi: QiOpt = None,
    sensitive: Annotated[str | None, typer.Option("--sensitive")] = None,
    k: Annotated[int, typer.Option("--k")] = 5,
    l: Annotated[int | None, typer.Option("--l")] = None,  # noqa: E741
    l_kind: Annotated[str, typer.Option("--l-kind", help="|".join(L_KINDS))] = "distinct",
    t: Annotated[float | None, typer.Option("--t")] = None,
    t_distance: Annotated[str, typer.Option("--t-distance", help="|".join(T_DISTANCES))] = "equal",
    suppression: Annotated[float, typer.Option("--suppression", help="抑制上限 (0–1、1 は制限なし)")] = 0.0,
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="|".join(METRICS)
            + " (loss: 値ごとの損失の算術平均 / arx-loss: ARX の Loss、階層の定義域で幾何平均)",
        ),
    ] = "loss",
    hierarchy: HierOpt = None,
    builtin: BuiltinOpt = None,
    keep: Annotated[list[str] | None, typer.Option("--keep", help="そのまま出力する非識別列")] = None,
    keep_suppressed: Annotated[bool, typer.Option("--keep-suppressed", help="抑制行を * で残す")] = False,
    sep: SepOpt = ",",
    hierarchy_sep: Annotated[str, typer.Option("--hierarchy-sep")] = ";",
    report: ReportOpt = None,
    no_risk: Annotated[
        bool, typer.Option("--no-risk", help="加工前後の再識別リスクを計算しない（出力だけ必要なとき）")
    ] = False,
    as_json: JsonOpt = False,
    purpose: PurposeOpt = None,
    force: ForceOpt = False,
) -> None:
    """匿名加工情報を作成する (R-43-1 … R-43-5)。"""
    _check_outputs(force, output, report)
    if l_kind not in L_KINDS or t_distance not in T_DISTANCES:
        raise DatasetError(
            f"--l-kind は {'|'.join(L_KINDS)}、--t-distance は {'|'.join(T_DISTANCES)} です。",
            f"--l-kind is {'|'.join(L_KINDS)} and --t-distance is {'|'.join(T_DISTANCES)}",
        )
    if metric not in METRICS:
        raise DatasetError(f"--metric は {'|'.join(METRICS)} です。", f"--metric is {'|'.join(METRICS)}")
    from mamori.deid import service
    from mamori.deid.tabular.engine import PrivacyModel
    from mamori.deid.tabular.report import anonymisation_report, write_report

    df = read_table(input_path, sep)
    qis = _split(qi)
    files, builtins = _pairs(hierarchy, "--hierarchy"), _pairs(builtin, "--builtin")
    hs = build_hierarchies(df, qis, files, builtins, hierarchy_sep)
    s_h = hs.get(sensitive) if sensitive else None
    lk: LKind = "entropy" if l_kind == "entropy" else "distinct"
    td: TDistance = "hierarchical" if t_distance == "hierarchical" else "equal"
    if td == "hierarchical" and t is not None and s_h is None:
        raise DatasetError(
            "階層距離の t 近似性には機微属性の階層 (--hierarchy) が必要です。",
            "hierarchical t-closeness needs a hierarchy for the sensitive attribute (--hierarchy)",
        )
    model = PrivacyModel(k=k, l=l, l_kind=lk, t=t, t_distance=td, suppression=suppression)
    met: Metric = "precision" if metric == "precision" else "arx-loss" if metric == "arx-loss" else "loss"
    status = (
        "最適な一般化を探索しています…" if _lang() != "en" else "searching for the optimal generalisation…"
    )
    with state(ctx).transaction(purpose) as c, _err.status(status):
        outcome = service.anonymise(
            c,
            df,
            qis,
            hs,
            model,
            source_name=input_path.name,
            output=output,
            sensitive=sensitive,
            sensitive_hierarchy=s_h,
            metric=met,
            keep=_split(keep),
            keep_suppressed=keep_suppressed,
            sep=sep,
            force=force,
        )
    result = outcome.result
    rep = anonymisation_report(
        result,
        risk=not no_risk,
        model={
            "k": k,
            "l": l,
            "l_kind": lk,
            "t": t,
            "t_distance": td,
            "suppression_limit": suppression,
            "metric": met,
        },
    )
    if report is not None:
        write_report(rep, report, force=force)
    summary: dict[str, Any] = {
        "output": str(output),
        "dataset_id": outcome.dataset_id,
        "rows": result.data.height,
        "suppressed": result.suppressed,
        "transformation": result.node,
        "loss": round(result.metrics["objective_value"], 6)
        if isinstance(result.metrics["objective_value"], float)
        else result.metrics["objective_value"],
    }
    if not no_risk:
        summary["prosecutor_max_before"] = result.risk_before.prosecutor_max
        summary["prosecutor_max_after"] = result.risk_after.prosecutor_max
    summary |= {
        "nodes_checked": result.search.nodes_checked,
        "lattice_size": result.search.lattice_size,
        "seconds": round(result.seconds["total"], 4),
        "provision_statement": result.provision_statement_ja
        if _lang() != "en"
        else result.provision_statement_en,
    }
    _summary(summary, as_json)


@app.command("pseudonymise")
@cli_command
def pseudonymise_cmd(
    ctx: typer.Context,
    input_path: Annotated[Path, typer.Argument(help="入力 CSV / Parquet")],
    output: Annotated[Path, typer.Option("-o", "--output", help="出力 .csv / .parquet")],
    id_column: Annotated[list[str] | None, typer.Option("--id", help="仮名 ID に置き換える列")] = None,
    drop: Annotated[list[str] | None, typer.Option("--drop", help="追加で削除する列")] = None,
    keep: Annotated[list[str] | None, typer.Option("--keep", help="残す列 (識別符号・決済は不可)")] = None,
    key_name: Annotated[str, typer.Option("--key-name")] = DEFAULT_KEY_NAME,
    sep: SepOpt = ",",
    manifest: Annotated[Path | None, typer.Option("--manifest", help="既定: OUT.manifest.json")] = None,
    report: ReportOpt = None,
    as_json: JsonOpt = False,
    purpose: PurposeOpt = None,
    force: ForceOpt = False,
) -> None:
    """仮名加工情報を作成する (R-41-1 … R-41-6)。鍵は鍵ストアの削除情報等 (R-41-2)。"""
    _check_outputs(force, output, report, manifest or output.with_name(output.name + ".manifest.json"))
    from mamori.deid import service
    from mamori.deid.tabular.report import render_html

    df = read_table(input_path, sep)
    with state(ctx).transaction(purpose) as c:
        outcome = service.pseudonymise(
            c,
            df,
            source_name=input_path.name,
            output=output,
            key_name=key_name,
            id_columns=_split(id_column),
            drop=_split(drop),
            keep=_split(keep),
            sep=sep,
            manifest_path=manifest,
            force=force,
        )
    result, manifest_path = outcome.result, outcome.manifest_path
    if report is not None:
        write_output(
            report, json.dumps({"manifest": result.manifest}, ensure_ascii=False, indent=2), force=force
        )
        write_output(
            report.with_suffix(".html"),
            render_html({"kind": "仮名加工情報", "manifest": result.manifest}),
            force=force,
        )
    _summary(
        {
            "output": str(output),
            "manifest": str(manifest_path),
            "dataset_id": outcome.dataset_id,
            "rows": result.data.height,
            "columns": result.data.columns,
            "removed": result.manifest["removed"],
        },
        as_json,
    )


@app.command("risk")
@cli_command
def risk_cmd(
    ctx: typer.Context,
    input_path: Annotated[Path, typer.Argument(help="入力 CSV / Parquet")],
    qi: QiOpt = None,
    population: Annotated[
        Path | None, typer.Option("--population", help="QI 列と count 列の母集団表")
    ] = None,
    threshold: Annotated[float, typer.Option("--threshold")] = 0.2,
    top: Annotated[int, typer.Option("--top", help="リスクの高い行番号の数")] = 20,
    sep: SepOpt = ",",
    report: ReportOpt = None,
    as_json: JsonOpt = False,
    purpose: PurposeOpt = None,
    force: ForceOpt = False,
) -> None:
    """再識別リスクを評価する（行番号・件数のみ表示）。"""
    _check_outputs(force, None, report)
    from mamori.deid import service
    from mamori.deid.tabular.report import risk_report, write_report

    df = read_table(input_path, sep)
    pop = read_table(population, sep) if population is not None else None
    with state(ctx).transaction(purpose) as c:
        r = service.risk(
            c, df, _split(qi), source_name=input_path.name, population=pop, threshold=threshold, top=top
        )
    if report is not None:
        write_report(risk_report(r), report, force=force)
    data = r.to_dict()
    if not as_json:
        data = {k: v for k, v in data.items() if k not in ("unique_combinations", "histogram_edges")}
    _summary(data, as_json)


@app.command("provide")
@cli_command
def provide_cmd(
    ctx: typer.Context,
    input_path: Annotated[Path, typer.Argument(help="deid で作成したファイル")],
    to: Annotated[str, typer.Option("--to", help="提供先の名称（組織名）")],
    ground: Annotated[
        str,
        typer.Option(
            "--ground", help="entrustment|succession|joint_use|law（仮名加工情報）/ third_party など"
        ),
    ],
    joint_use_published: Annotated[
        bool, typer.Option("--joint-use-published", help="共同利用の項目を公表済み (R-41-4)")
    ] = False,
    purpose: PurposeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """作成したデータセットの提供を記録する。仮名加工情報は委託・承継・共同利用・法令のみ (R-41-4)、
    匿名加工情報は受領者への明示文を添える (R-43-4)。"""
    from mamori.deid import service

    with state(ctx).transaction(purpose) as c:
        out = service.provide(
            c, input_path, recipient=to, ground=ground, joint_use_items_published=joint_use_published
        )
    data: dict[str, Any] = {"kind": out.kind, "dataset_id": out.dataset_id, "ground": out.ground}
    if out.statement_ja:
        data["provision_statement"] = out.statement_ja if _lang() != "en" else out.statement_en
    _summary(data, as_json)


KeyNameArg = Annotated[str, typer.Argument(help=f"鍵名（既定 {DEFAULT_KEY_NAME}）")]


@keys_app.command("create")
@cli_command
def keys_create_cmd(
    ctx: typer.Context, name: KeyNameArg = DEFAULT_KEY_NAME, as_json: JsonOpt = False
) -> None:
    """仮名化の鍵を鍵ストアに作成する（KEK で保護、個人情報保護管理者のみ, R-41-2）。"""
    from mamori.deid import service

    with state(ctx).transaction() as c:
        created = service.create_key(c, name)
    _summary({"key_name": name, "created": created}, as_json)


@keys_app.command("destroy")
@cli_command
def keys_destroy_cmd(ctx: typer.Context, name: KeyNameArg, as_json: JsonOpt = False) -> None:
    """仮名化の鍵を破棄する（不要になった削除情報等の消去, R-41-6）。以後その仮名は誰も元に戻せない。"""
    from mamori.deid import service

    with state(ctx).transaction() as c:
        existed = service.destroy_key(c, name)
    _summary({"key_name": name, "destroyed": existed}, as_json)


@keys_app.command("status")
@cli_command
def keys_status_cmd(
    ctx: typer.Context, name: KeyNameArg = DEFAULT_KEY_NAME, as_json: JsonOpt = False
) -> None:
    """鍵があるかどうか（値は表示しない）。"""
    from mamori.deid import service

    with state(ctx).transaction() as c:
        exists = service.key_exists(c, name)
    _summary({"key_name": name, "exists": exists}, as_json)
