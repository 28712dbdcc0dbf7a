from __future__ import annotations

import typer
from rich.table import Table

from mamori.consent import service
from mamori.consent.schemas import ConsentIn
from mamori.kernel.cli_support import cli_command, console, print_json, state

app = typer.Typer(help="同意と連絡停止 / consent ledger and do-not-contact", no_args_is_help=True)

METHOD_OPT = typer.Option("oral", help="checkbox / button / email / oral / paper / web_form")


@app.command("grant")
@cli_command
def grant(
    ctx: typer.Context,
    customer_id: str,
    purpose: str = typer.Option(None, "--purpose", "-p", help="利用目的コード"),
    sensitive: bool = typer.Option(False, "--sensitive", help="要配慮個人情報の取得への同意 (R-20-2)"),
    method: str = METHOD_OPT,
    notice_version: str | None = typer.Option(None, "--notice-version"),
    evidence: str | None = typer.Option(None, help="証跡の参照（受付番号など。個人情報を書かない）"),
    guardian: str | None = typer.Option(
        None,
        "--guardian",
        help="法定代理人が同意した場合の続柄: parent（親権者）/ guardian（未成年後見人） (R-R8-4)",
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """同意を記録する / record consent."""
    st = state(ctx)
    data = ConsentIn(method=method, notice_version=notice_version, evidence=evidence, guardian=guardian)
    if not sensitive and not purpose:
        raise typer.BadParameter(
            "--purpose または --sensitive を指定してください / give --purpose or --sensitive"
        )
    with st.transaction() as c:
        ev = (
            service.grant_sensitive(c, customer_id, data)
            if sensitive
            else service.grant(c, customer_id, purpose, data)
        )
    print_json(ev) if json_out else console.print(
        st.t(f"同意を記録しました（#{ev.seq}）", f"consent recorded (#{ev.seq})")
    )


@app.command("withdraw")
@cli_command
def withdraw(
    ctx: typer.Context,
    customer_id: str,
    purpose: str = typer.Option(None, "--purpose", "-p"),
    sensitive: bool = typer.Option(False, "--sensitive"),
    method: str = METHOD_OPT,
    evidence: str | None = typer.Option(None),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """同意の撤回を記録する（直ちに反映） / record withdrawal (effective at once)."""
    st = state(ctx)
    data = ConsentIn(method=method, evidence=evidence)
    if not sensitive and not purpose:
        raise typer.BadParameter(
            "--purpose または --sensitive を指定してください / give --purpose or --sensitive"
        )
    with st.transaction() as c:
        ev = (
            service.withdraw_sensitive(c, customer_id, data)
            if sensitive
            else service.withdraw(c, customer_id, purpose, data)
        )
    print_json(ev) if json_out else console.print(
        st.t(f"撤回を記録しました（#{ev.seq}）", f"withdrawal recorded (#{ev.seq})")
    )


@app.command("dnc")
@cli_command
def dnc(
    ctx: typer.Context,
    customer_id: str,
    channel: str = typer.Option(..., help="phone / email / post / sms / visit"),
    allow: bool = typer.Option(False, "--allow", help="連絡停止を解除する"),
    method: str = METHOD_OPT,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """連絡手段ごとの連絡停止 / per-channel do-not-contact."""
    st = state(ctx)
    data = ConsentIn(method=method)
    with st.transaction() as c:
        ev = (service.allow_contact if allow else service.do_not_contact)(c, customer_id, channel, data)
    print_json(ev) if json_out else console.print(st.t(f"記録しました（#{ev.seq}）", f"recorded (#{ev.seq})"))


@app.command("show")
@cli_command
def show(ctx: typer.Context, customer_id: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """同意の現在の状態と台帳 / current consent state and the ledger."""
    st = state(ctx)
    with st.transaction() as c:
        summary = service.show(c, customer_id)
    if json_out:
        print_json(summary)
        return
    console.print(
        st.t("同意: ", "consent: ") + (", ".join(f"{k}={v}" for k, v in summary.purposes.items()) or "-")
    )
    console.print(st.t("要配慮の取得同意: ", "sensitive: ") + summary.sensitive)
    console.print(st.t("連絡停止: ", "do not contact: ") + (", ".join(summary.do_not_contact) or "-"))
    table = Table(
        "#",
        st.t("日時", "when"),
        st.t("区分", "kind"),
        st.t("対象", "target"),
        st.t("操作", "action"),
        st.t("方法", "method"),
        st.t("記録者", "by"),
    )
    for e in summary.events:
        table.add_row(
            str(e.seq), f"{e.occurred_at:%Y-%m-%d %H:%M}", e.kind, e.target, e.action, e.method, e.recorded_by
        )
    console.print(table)
