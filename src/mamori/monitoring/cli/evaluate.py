"""``mamori monitoring evaluate`` and ``mamori monitoring settings`` (issue 25).

- ``evaluate``: read the audit log's new entries (or re-derive from a date with ``--rebuild-since``), raise or
  update alerts; prints counts (``--json``).
- ``settings``: the signals with their thresholds, severity and switch, working hours, the access-review interval
  and unused-account limit; ``settings signal CODE --threshold … --severity … --on/--off`` and
  ``settings set --hours 8-20 --review-months 3 --unused-days 90 --read-floor 50`` change them (privacy officer).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel.cli_support import cli_command, console, lazy, print_json, state

if TYPE_CHECKING:
    from mamori.monitoring import schemas
    from mamori.monitoring.service import evaluate as evaluate_service
    from mamori.monitoring.service import settings as settings_service
else:
    schemas = lazy("mamori.monitoring.schemas")
    evaluate_service = lazy("mamori.monitoring.service.evaluate")
    settings_service = lazy("mamori.monitoring.service.settings")

JSON_OPT = typer.Option(False, "--json", help="JSON で出力 / output JSON")
SEVERITY_WORDS = {"low": ("低", "low"), "medium": ("中", "medium"), "high": ("高", "high")}


def _hours(value: str) -> tuple[int, int]:
    try:
        start, end = (int(v) for v in value.split("-", 1))
    except ValueError:
        raise typer.BadParameter("--hours: 「8-20」の形で指定してください / give the hours as 8-20") from None
    return start, end


def _settings_table(read: schemas.MonitoringSettingsRead, lang: str) -> Table:
    def t(ja: str, en: str) -> str:
        return en if lang == "en" else ja

    table = Table(title=t("監視のシグナルと閾値", "Signals and thresholds"))
    table.add_column(t("コード", "code"), no_wrap=True)
    table.add_column(t("シグナル", "signal"))
    table.add_column(t("閾値", "threshold"), justify="right")
    table.add_column(t("単位", "unit"))
    table.add_column(t("重要度", "severity"))
    table.add_column(t("有効", "on"))
    for s in read.signals:
        word = SEVERITY_WORDS.get(s.severity, (s.severity, s.severity))
        table.add_row(
            s.code,
            s.name,
            f"{s.threshold:g}",
            s.unit,
            t(*word),
            t("はい", "yes") if s.enabled else t("いいえ", "no"),
        )
    return table


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    @cli_command
    def evaluate(
        ctx: typer.Context,
        rebuild_since: str | None = typer.Option(
            None,
            "--rebuild-since",
            help="この日（日本時間, YYYY-MM-DD）以降を評価し直す / re-derive from this JST day",
        ),
        json_out: bool = JSON_OPT,
    ) -> None:
        """監査ログを評価してアラートを出す / evaluate the audit log and raise alerts."""
        st = state(ctx)
        since: date | None = None
        if rebuild_since is not None:
            try:
                since = date.fromisoformat(rebuild_since)
            except ValueError:
                raise typer.BadParameter(
                    "--rebuild-since: 日付は YYYY-MM-DD で指定してください / give the date as YYYY-MM-DD"
                ) from None
        with console.status(st.t("監査ログを評価しています…", "Evaluating the audit log…")):
            with st.transaction() as c:
                result = evaluate_service.evaluate(c, rebuild_since=since)
        if json_out:
            print_json(result.model_dump(mode="json"))
            return
        console.print(
            st.t(
                f"監査ログ {result.entries:,}件（#{result.from_seq + 1}〜#{result.to_seq}）を評価しました: "
                f"{result.days}人日、新しいアラート {result.raised}件、更新 {result.updated}件、"
                f"対応不要のまま {result.kept_dismissed}件、メール {result.mailed}件（{result.seconds:.2f}秒）",
                f"Evaluated {result.entries:,} audit entries (#{result.from_seq + 1}-#{result.to_seq}): "
                f"{result.days} person-days, {result.raised} new alerts, {result.updated} updated, "
                f"{result.kept_dismissed} left dismissed, {result.mailed} e-mailed ({result.seconds:.2f} s)",
            ),
            highlight=False,
        )

    settings_app = typer.Typer(
        help="監視の閾値と設定 / thresholds and settings", no_args_is_help=False, invoke_without_command=True
    )
    app.add_typer(settings_app, name="settings")

    @settings_app.callback()
    @cli_command
    def show(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
        """閾値と設定を表示 / show the thresholds and settings."""
        if ctx.invoked_subcommand is not None:
            return
        st = state(ctx)
        with st.transaction() as c:
            read = settings_service.get(c)
        _print(st.lang, read, json_out)

    @settings_app.command("signal")
    @cli_command
    def signal(
        ctx: typer.Context,
        code: str = typer.Argument(..., help="シグナルのコード（read_volume など） / the signal's code"),
        threshold: float | None = typer.Option(None, "--threshold", help="閾値 / threshold"),
        severity: str | None = typer.Option(None, "--severity", help="low | medium | high"),
        enabled: bool | None = typer.Option(None, "--on/--off", help="有効・無効 / on or off"),
        json_out: bool = JSON_OPT,
    ) -> None:
        """シグナルの閾値・重要度・有効を変える / change a signal's threshold, severity or switch."""
        st = state(ctx)
        data = schemas.SignalSettingIn.model_validate(
            {
                k: v
                for k, v in {"threshold": threshold, "severity": severity, "enabled": enabled}.items()
                if v is not None
            }
        )
        with st.transaction() as c:
            read = settings_service.set_signal(c, code, data)
        _print(st.lang, read, json_out)

    @settings_app.command("set")
    @cli_command
    def set_(
        ctx: typer.Context,
        hours: str | None = typer.Option(None, "--hours", help="業務時間（日本時間）例 8-20 / working hours"),
        review_months: int | None = typer.Option(None, "--review-months", help="見直しの間隔（月） / months"),
        unused_days: int | None = typer.Option(None, "--unused-days", help="未使用とみなす日数 / days"),
        read_floor: int | None = typer.Option(None, "--read-floor", help="閲覧急増の最低人数 / people"),
        json_out: bool = JSON_OPT,
    ) -> None:
        """業務時間・見直しの間隔・未使用の日数などを変える / change hours, review interval, unused days."""
        st = state(ctx)
        start, end = _hours(hours) if hours is not None else (None, None)
        data = schemas.SettingsIn.model_validate(
            {
                k: v
                for k, v in {
                    "hours_start": start,
                    "hours_end": end,
                    "review_interval_months": review_months,
                    "unused_days": unused_days,
                    "read_floor": read_floor,
                }.items()
                if v is not None
            }
        )
        with st.transaction() as c:
            read = settings_service.update(c, data)
        _print(st.lang, read, json_out)


def _print(lang: str, read: schemas.MonitoringSettingsRead, json_out: bool) -> None:
    if json_out:
        print_json(read.model_dump(mode="json"))
        return
    console.print(_settings_table(read, lang))

    def t(ja: str, en: str) -> str:
        return en if lang == "en" else ja

    console.print(
        t(
            f"業務時間: 平日 {read.hours.start}時〜{read.hours.end}時（土日・祝日・年末年始は時間外）  "
            f"閲覧急増の最低人数: {read.read_floor}人  アクセス権の見直し: {read.review.interval_months}か月ごと、"
            f"{read.review.unused_days}日使われていないアカウントを指摘",
            f"Working hours: weekdays {read.hours.start}:00-{read.hours.end}:00 JST (weekends and holidays off)  "
            f"read floor: {read.read_floor}  access review every {read.review.interval_months} months, "
            f"unused after {read.review.unused_days} days",
        ),
        highlight=False,
    )
