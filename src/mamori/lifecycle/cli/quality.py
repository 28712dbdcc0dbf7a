"""``mamori quality report [--json] [--customer ID] [--days N] [--worst N]`` (issue 21, R-22-1): the data-quality
score of the customers in your scope — overall, the four parts, the distribution, the worst records by id. Scores,
codes and ids only: never a value."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel.cli_support import CliState, cli_command, console, err_console, lazy, print_json, state
from mamori.kernel.labels import fmt_date

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.lifecycle import schemas
    from mamori.lifecycle.service import quality
else:
    schemas = lazy("mamori.lifecycle.schemas")
    quality = lazy("mamori.lifecycle.service.quality")

quality_app = typer.Typer(
    help="データ品質（正確性の確保、R-22-1） / data quality (accuracy, R-22-1)", no_args_is_help=True
)
PROGRESS_FROM = 2000  # customers: a progress bar from this many on

PART_WORDS = {
    "completeness": ("完全性", "completeness"),
    "validity": ("妥当性", "validity"),
    "duplicates": ("重複なし", "no duplicates"),
    "staleness": ("鮮度（確認日）", "freshness (confirmed)"),
}


def _bar(value: float, width: int = 20) -> str:
    filled = round(value * width)
    return "█" * filled + "░" * (width - filled)


def _print_report(st: CliState, r: schemas.QualityReport) -> None:
    lang = "en" if st.lang == "en" else "ja"
    console.print(
        st.t(
            f"データ品質スコア: {r.score:.2f}（顧客 {r.customers}人、確認の期間 {r.period_days}日、{fmt_date(r.at)}）",
            f"Data quality score: {r.score:.2f} ({r.customers} customers, confirmation period {r.period_days} days, "
            f"{fmt_date(r.at, 'en')})",
        ),
        markup=False,
    )
    parts = Table(title=st.t("4つの観点", "The four parts"))
    parts.add_column(st.t("観点", "part"))
    parts.add_column(st.t("スコア", "score"), justify="right")
    parts.add_column("")
    for key, (ja, en) in PART_WORDS.items():
        value = getattr(r.parts, key)
        parts.add_row(st.t(ja, en), f"{value:.2f}", _bar(value))
    console.print(parts)
    dist = Table(title=st.t("分布", "Distribution"))
    dist.add_column(st.t("スコア", "score"))
    dist.add_column(st.t("人数", "customers"), justify="right")
    dist.add_column("")
    top = max((b.customers for b in r.distribution), default=0) or 1
    for b in r.distribution:
        dist.add_row(f"{b.low:.1f}–{b.high:.1f}", str(b.customers), _bar(b.customers / top))
    console.print(dist)
    console.print(
        st.t(
            f"確認が必要 {r.due}人 / 項目の不足 {r.incomplete}人 / 不正な値 {r.invalid}人 / 重複 {r.duplicated}人",
            f"due for confirmation {r.due} / incomplete {r.incomplete} / invalid values {r.invalid} / "
            f"duplicated {r.duplicated}",
        ),
        markup=False,
    )
    if r.worst:
        worst = Table(title=st.t("スコアの低い顧客", "Lowest scores"))
        worst.add_column("ID", no_wrap=True, min_width=32)
        worst.add_column(st.t("スコア", "score"), justify="right", no_wrap=True)
        worst.add_column(st.t("最終確認日", "last confirmed"), no_wrap=True)
        worst.add_column(st.t("問題", "issues"), overflow="fold")
        for w in r.worst:
            codes = [f"missing_{m}" for m in w.missing] + w.invalid + [f"duplicate_{k}" for k in w.shared]
            if w.due:
                codes.append("due_for_confirmation")
            worst.add_row(
                w.customer_id, f"{w.score:.2f}", fmt_date(w.confirmed_at, lang), ", ".join(codes) or "—"
            )
        console.print(worst)


@quality_app.command("report")
@cli_command
def report(
    ctx: typer.Context,
    customer: str | None = typer.Option(None, "--customer", "-c", help="この顧客だけ（ID）"),
    days: int = typer.Option(365, "--days", help="確認の期間（日） / confirmation period in days"),
    worst: int = typer.Option(20, "--worst", help="スコアの低い顧客を何件表示するか"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """データ品質スコア（完全性・妥当性・重複・鮮度）と分布、スコアの低い顧客 / the data-quality report."""
    st = state(ctx)
    query = schemas.QualityQuery.model_validate(
        {"period_days": days, "worst": worst, "customer_id": customer}
    )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err_console, disable=json_out, transient=True) as bar:
        task = bar.add_task(st.t("データ品質を確認中", "checking data quality"), visible=False)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, visible=total >= PROGRESS_FROM)

        with st.transaction() as c:
            result = quality.report(
                c,
                period_days=query.period_days,
                worst=query.worst,
                customer_id=query.customer_id,
                progress=advance,
            )
    if json_out:
        print_json(result)
        return
    _print_report(st, result)


def register(app: typer.Typer) -> None:
    """Adds ``mamori quality`` to the top-level app."""
    app.add_typer(quality_app, name="quality")
