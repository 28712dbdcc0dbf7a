"""`mamori mail` — the e-mail queue: status, a delivery pass (for cron), a failed message back, a test message
(admin and privacy officer: the kernel action MAIL_MANAGE; docs/mail.md). Nothing here prints an address, a
subject or a body: ids, topics, counts, times and error codes only."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, err_console, lazy, print_json, state

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.kernel import mail
    from mamori.kernel.mail import backend as mail_backend
    from mamori.kernel.mail import tools as mail_tools
else:
    mail = lazy("mamori.kernel.mail")
    mail_backend = lazy("mamori.kernel.mail.backend")
    mail_tools = lazy("mamori.kernel.mail.tools")

app = typer.Typer(
    help="メール送信キュー（管理者・個人情報保護管理者） / the e-mail queue (admin, privacy officer)",
    no_args_is_help=True,
)
JSON_OPT = typer.Option(False, "--json", help="JSON で出力 / JSON output")

STATUS_JA = {"pending": "送信待ち", "sent": "送信済み", "failed": "失敗"}


def _status_word(st: CliState, value: str) -> str:
    return value if st.lang == "en" else STATUS_JA.get(value, value)


def _when(value: object, lang: str) -> str:
    return labels.fmt_datetime(value, lang) if isinstance(value, datetime) else "—"


@app.command("status")
@cli_command
def status(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """キューの状況: 状態・種類ごとの件数、最も古い送信待ち、失敗（エラーコードと日時） / the queue's status."""
    st = state(ctx)
    with st.transaction() as c:
        found = mail.status(c)
        backend = mail_backend.describe(st.runtime.settings)
    if json_out:
        print_json({"backend": backend, **found.as_dict()})
        return
    counts = "、".join(f"{_status_word(st, k)} {v}" for k, v in found.counts.items())
    console.print(st.t(f"送信方法: {backend['backend']}", f"backend: {backend['backend']}"), markup=False)
    console.print(counts if st.lang != "en" else ", ".join(f"{k} {v}" for k, v in found.counts.items()))
    if found.by_topic:
        from rich.table import Table  # noqa: PLC0415  # not at start-up

        table = Table(st.t("種類", "topic"), *(_status_word(st, s) for s in ("pending", "sent", "failed")))
        for topic, by in found.by_topic.items():
            table.add_row(topic, *(str(by.get(s, 0)) for s in ("pending", "sent", "failed")))
        console.print(table)
    oldest = found.oldest_pending
    if oldest:
        console.print(
            st.t(
                f"最も古い送信待ち: {oldest['id']}（{oldest['topic']}、{_when(oldest['created_at'], 'ja')} から、"
                f"試行 {oldest['attempts']} 回、最後のエラー {oldest['last_error'] or '—'}）",
                f"oldest pending: {oldest['id']} ({oldest['topic']}, since {_when(oldest['created_at'], 'en')}, "
                f"{oldest['attempts']} attempts, last error {oldest['last_error'] or '—'})",
            ),
            markup=False,
        )
    if found.failures:
        from rich.table import Table  # noqa: PLC0415  # not at start-up

        table = Table(
            "id",
            st.t("種類", "topic"),
            st.t("試行", "attempts"),
            st.t("エラー", "error"),
            st.t("失敗日時", "failed at"),
            st.t("再送可", "retryable"),
        )
        for f in found.failures:
            table.add_row(
                str(f["id"]),
                str(f["topic"]),
                str(f["attempts"]),
                str(f["last_error"] or "—"),
                _when(f["failed_at"], st.lang),
                st.t("はい", "yes") if f["retryable"] else st.t("いいえ", "no"),
            )
        console.print(table)


@app.command("deliver")
@cli_command
def deliver(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """送信期限の来たメールを 1 回送信し、期限の来た定期処理を実行（cron 用） / one delivery pass and the due
    periodic jobs (for cron)."""
    st = state(ctx)
    rt = st.runtime
    with st.transaction(system_ok=True) as c:  # cron runs it without a staff user (the system actor)
        mail_tools.authorise(c)
    mail_backend.check(rt.settings)
    report = mail.deliver_due(rt)
    report.periodic = mail.run_periodic(rt)
    if json_out:
        print_json(report.as_dict())
        return
    console.print(
        st.t(
            f"送信 {report.sent}件、再試行待ち {report.retried}件、失敗 {report.failed}件、"
            f"定期処理 {len(report.periodic)}件",
            f"sent {report.sent}, to retry {report.retried}, failed {report.failed}, "
            f"periodic jobs {len(report.periodic)}",
        ),
        markup=False,
    )
    if report.errors:
        console.print(", ".join(f"{k}: {v}" for k, v in sorted(report.errors.items())), markup=False)


@app.command("retry")
@cli_command
def retry(
    ctx: typer.Context,
    message_id: str = typer.Argument(..., help="メッセージの ID（mail status の id） / the message id"),
    json_out: bool = JSON_OPT,
) -> None:
    """送信に失敗したメッセージをキューに戻す（内容が残っている場合） / put a failed message back in the queue."""
    st = state(ctx)
    with st.transaction() as c:
        record = mail.retry(c, message_id)
    final = mail_tools.record(st.runtime, message_id) or record  # delivered after the commit (no worker here)
    if json_out:
        print_json(final)
        return
    console.print(
        st.t(
            f"{message_id} をキューに戻しました（状態: {_status_word(st, str(final['status']))}）。",
            f"{message_id} is back in the queue (status: {final['status']}).",
        ),
        markup=False,
    )


@app.command("test")
@cli_command
def send_test(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", help="宛先のメールアドレス / the address to send to"),
    json_out: bool = JSON_OPT,
) -> None:
    """設定した送信方法でテストメールを今すぐ送り、受け付けられたかを表示（管理者） / send a test message now
    through the configured backend and say whether it was accepted."""
    st = state(ctx)
    result = mail_tools.send_test(st.runtime, st.actor(), to, lang=st.lang)
    if json_out:
        print_json(result)
    elif result["accepted"]:
        console.print(
            st.t(
                f"受け付けられました（送信方法 {result['backend']}、参照 {result['delivery_ref']}）。",
                f"accepted (backend {result['backend']}, reference {result['delivery_ref']}).",
            ),
            markup=False,
        )
    if not result["accepted"]:
        if not json_out:
            err_console.print(
                st.t(
                    f"エラー (mail_test_failed): 送信できませんでした（{result['error']}）。",
                    f"error (mail_test_failed): not accepted ({result['error']}).",
                ),
                markup=False,
            )
        raise typer.Exit(1)
