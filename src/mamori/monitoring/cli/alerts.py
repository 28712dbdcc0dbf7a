"""``mamori monitoring alerts | alert | look | dismiss | incident`` (issue 25 "Deliver" 2): the alert queue and
handling an alert, as the signed-in privacy officer (``--as`` in the demo, ``mamori login`` in production).

- ``alerts [--status new|looking|dismissed|incident|open] [--signal CODE] [--severity high|medium|low]``: the
  queue, newest first, with the count in each status;
- ``alert ID``: what was seen against the threshold and the baseline, the history, the audit entries behind it
  (sequence number, action, decision, the number of people, field names — never whom);
- ``look ID`` / ``dismiss ID --reason CODE [--note TEXT]`` / ``incident ID [--title TEXT]``: 確認中にする /
  対応不要 (business_need, false_positive, confirmed_with_person, other — a note for other) / 事案として登録.

``ID`` is the alert's id or its number (``ALT-0007`` or ``7``). Times are Japan time. ``--json`` everywhere; an
error is one line with its code (and rule id).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state

if TYPE_CHECKING:
    from mamori.monitoring import alert_schemas as schemas
    from mamori.monitoring.service import alerts as service
else:
    schemas = lazy("mamori.monitoring.alert_schemas")
    service = lazy("mamori.monitoring.service.alerts")

JST = ZoneInfo("Asia/Tokyo")
JSON_OPT = typer.Option(False, "--json", help="JSON で出力 / output JSON")
KEY_ARG = typer.Argument(..., help="アラートID または番号（ALT-0007） / alert id or number")


def _word(st: CliState, table: dict[str, tuple[str, str]], key: str | None) -> str:
    if key is None:
        return "—"
    pair = table.get(key)
    return st.t(*pair) if pair else key


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _who(a: schemas.AlertRead) -> str:
    return f"{a.actor_username}（{a.actor}）" if a.actor_username else a.actor


def _severity(st: CliState, severity: str) -> str:
    word = _word(st, schemas.SEVERITY_LABELS, severity)
    return f"[bold red]{word}[/]" if severity == "high" else word


def _queue_table(st: CliState, alerts: list[schemas.AlertRead]) -> Table:
    table = Table()
    table.add_column(st.t("番号", "ref"), no_wrap=True)
    for header in (
        st.t("重要度", "sev."),
        st.t("シグナル", "signal"),
        st.t("担当者", "staff"),
        st.t("日付", "day"),
        st.t("観測／閾値", "seen / threshold"),
        st.t("記録", "entries"),
        st.t("状態", "status"),
    ):
        table.add_column(header, overflow="fold")
    for a in alerts:
        table.add_row(
            a.ref,
            _severity(st, a.severity),
            escape(a.signal_name),
            escape(a.actor_username or a.actor),
            a.day.strftime("%m-%d"),
            f"{_num(a.observed)} / {_num(a.threshold)}",
            str(a.entries_total),
            _word(st, schemas.STATUS_LABELS, a.status),
        )
    return table


def _counts_line(st: CliState, counts: dict[str, int]) -> str:
    parts = [f"{_word(st, schemas.STATUS_LABELS, s)} {counts.get(s, 0)}" for s in schemas.STATUS_LABELS]
    return "  ".join(parts)


def _print_alert(st: CliState, d: schemas.AlertDetail) -> None:
    a = d.alert
    baseline = "—"
    if a.baseline is not None:
        baseline = f"{_num(a.baseline)}（{_word(st, schemas.BASELINE_LABELS, a.baseline_kind)}）"
    rows: list[tuple[str, str]] = [
        (st.t("番号", "ref"), f"{a.ref}  ({a.id})"),
        (st.t("シグナル", "signal"), f"{a.signal_name}（{a.signal}）"),
        (st.t("重要度", "severity"), _word(st, schemas.SEVERITY_LABELS, a.severity)),
        (st.t("担当者", "staff"), f"{_who(a)}  {labels.value('role', a.actor_role, st.lang)}"),
        (st.t("日付", "day"), labels.fmt_date(a.day, st.lang)),
        (
            st.t("期間", "period"),
            f"{labels.fmt_datetime(a.first_at, st.lang)} – {labels.fmt_datetime(a.last_at, st.lang)}",
        ),
        (st.t("観測値", "seen"), _num(a.observed)),
        (st.t("閾値", "threshold"), _num(a.threshold)),
        (st.t("通常（基準）", "baseline"), baseline),
        (
            st.t("監査ログの記録", "audit entries"),
            st.t(
                f"{a.entries_total}件（うち番号を示すもの {a.entries_named}件）",
                f"{a.entries_total} ({a.entries_named} named)",
            ),
        ),
        (st.t("状態", "status"), _word(st, schemas.STATUS_LABELS, a.status)),
    ]
    if a.detail:
        rows.append((st.t("内訳", "detail"), ", ".join(f"{k}={v}" for k, v in sorted(a.detail.items()))))
    if a.dismiss_reason:
        rows.append((st.t("対応不要の理由", "reason"), _word(st, schemas.DISMISS_REASONS, a.dismiss_reason)))
    if a.dismiss_note:
        rows.append((st.t("メモ", "note"), a.dismiss_note))
    if a.incident_id:
        rows.append((st.t("事案", "incident"), a.incident_id))
    if a.handled_by:
        rows.append(
            (st.t("対応", "handled"), f"{a.handled_by}  {labels.fmt_datetime(a.handled_at, st.lang)}")
        )
    table = Table(show_header=False)
    table.add_column()
    table.add_column()
    for name, value in rows:
        table.add_row(name, escape(value))
    console.print(table)
    if d.events:
        console.print(st.t("履歴", "history"), highlight=False)
        for e in d.events:
            word = _word(st, schemas.EVENT_LABELS, e.action)
            extra = f"  {e.detail}" if e.detail else ""
            console.print(
                f"  {labels.fmt_datetime(e.at, st.lang)}  {word}  {e.by}{extra}",
                highlight=False,
                markup=False,
            )


def _short(at: datetime) -> str:
    """11-20 19:05:03 (Japan time): the entries of one alert fall within a day or so."""
    return at.astimezone(JST).strftime("%m-%d %H:%M:%S")


def _entries_table(st: CliState, got: schemas.AlertEntries) -> Table:
    table = Table(title=st.t("監査ログの記録（日時は日本時間）", "audit entries (Japan time)"))
    table.add_column(st.t("番号", "seq"), no_wrap=True)
    table.add_column(st.t("日時", "at"), no_wrap=True)
    table.add_column(st.t("操作", "action"), overflow="fold")
    table.add_column(st.t("判定", "decision"), overflow="fold")
    table.add_column(st.t("人数", "people"), no_wrap=True)
    table.add_column(st.t("項目", "fields"), overflow="fold")
    table.add_column(st.t("目的", "purpose"), overflow="fold")
    for e in got.entries:
        decision = e.decision + (f": {e.reason}" if e.reason else "")
        table.add_row(
            str(e.seq),
            _short(e.at),
            escape(e.action),
            escape(decision),
            str(e.subjects),
            escape(",".join(e.fields) or "—"),
            escape(e.purpose or "—"),
        )
    return table


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``mamori monitoring``."""

    @app.command("alerts")
    @cli_command
    def alerts(
        ctx: typer.Context,
        status: str | None = typer.Option(
            None, "--status", help="new | looking | dismissed | incident | open（新規と確認中）"
        ),
        signal: str | None = typer.Option(None, "--signal", help="シグナルのコード / signal code"),
        severity: str | None = typer.Option(None, "--severity", help="high | medium | low"),
        limit: int = typer.Option(100, "--limit", help="件数（最大500） / how many (500 at most)"),
        before: int | None = typer.Option(
            None, "--before", help="この番号より古いもの / older than this number"
        ),
        json_out: bool = JSON_OPT,
    ) -> None:
        """監視アラートの一覧（新しい順） / the alert queue, newest first."""
        st = state(ctx)
        with st.transaction() as c:
            got = service.list_alerts(
                c, status=status, signal=signal, severity=severity, limit=limit, before=before
            )
        if json_out:
            print_json(got)
            return
        console.print(_counts_line(st, got.counts), highlight=False)
        if not got.alerts:
            console.print(st.t("該当するアラートはありません", "no alerts"))
            return
        console.print(_queue_table(st, got.alerts))
        if got.next_before is not None:
            console.print(
                st.t(f"続き: --before {got.next_before}", f"more: --before {got.next_before}"),
                highlight=False,
            )

    @app.command("alert")
    @cli_command
    def alert(ctx: typer.Context, key: str = KEY_ARG, json_out: bool = JSON_OPT) -> None:
        """アラートの詳細と監査ログの記録 / one alert with the audit entries behind it."""
        st = state(ctx)
        with st.transaction() as c:
            detail = service.get(c, key)
            got = service.entries(c, key)
        if json_out:
            print_json({"alert": detail.alert, "events": detail.events, "entries": got.entries})
            return
        _print_alert(st, detail)
        if got.entries:
            console.print(_entries_table(st, got))

    def _done(st: CliState, a: schemas.AlertRead, json_out: bool) -> None:
        if json_out:
            print_json(a)
            return
        console.print(f"{a.ref}: {_word(st, schemas.STATUS_LABELS, a.status)}", highlight=False)

    @app.command("look")
    @cli_command
    def look(ctx: typer.Context, key: str = KEY_ARG, json_out: bool = JSON_OPT) -> None:
        """確認中にする / mark an alert as being looked at."""
        st = state(ctx)
        with st.transaction() as c:
            a = service.look(c, key)
        _done(st, a, json_out)

    @app.command("dismiss")
    @cli_command
    def dismiss(
        ctx: typer.Context,
        key: str = KEY_ARG,
        reason: str = typer.Option(
            ...,
            "--reason",
            help="business_need（業務上必要） | false_positive（誤検知） | confirmed_with_person（本人に確認済み）"
            " | other（その他、メモ必須）",
        ),
        note: str | None = typer.Option(
            None, "--note", help="メモ（1,000字まで、顧客の個人データは書かない） / note"
        ),
        json_out: bool = JSON_OPT,
    ) -> None:
        """対応不要にする（理由を選ぶ） / dismiss an alert with a reason."""
        st = state(ctx)
        with st.transaction() as c:
            a = service.dismiss(c, key, reason, note)
        _done(st, a, json_out)

    @app.command("incident")
    @cli_command
    def incident(
        ctx: typer.Context,
        key: str = KEY_ARG,
        title: str | None = typer.Option(None, "--title", help="事案の件名（人の名前は書かない） / title"),
        json_out: bool = JSON_OPT,
    ) -> None:
        """事案として登録（影響範囲は監査ログから） / open an incident from an alert."""
        st = state(ctx)
        with st.transaction() as c:
            got = service.open_incident(c, key, title)
        if json_out:
            print_json(got)
            return
        console.print(
            st.t(
                f"{got.alert.ref}: 事案 {got.incident_ref}（{got.incident_id}）を登録しました。"
                f"影響範囲 {got.scope_persons}人",
                f"{got.alert.ref}: incident {got.incident_ref} ({got.incident_id}) opened; "
                f"{got.scope_persons} people in scope",
            ),
            highlight=False,
        )
