from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state
from mamori.kernel.errors import ValidationFailed

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.consent import schemas, service
else:
    schemas = lazy("mamori.consent.schemas")
    service = lazy("mamori.consent.service")


def _opts(domain: str, codes: tuple[str, ...] | list[str]) -> str:
    """The allowed codes of an option with their words for --help: 「direct（本人から直接取得） / …」 (spaced, so the
    help panel can wrap it)."""
    return labels.choices(domain, codes).replace("、", " / ")


app = typer.Typer(help="同意・同意の撤回と連絡停止 / consent ledger and do-not-contact", no_args_is_help=True)

_METHODS = ("checkbox", "button", "email", "oral", "paper", "web_form")
METHOD_OPT = typer.Option("oral", help="同意を得た方法: " + _opts("consent_method", _METHODS))


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
    data = schemas.ConsentIn(
        method=method, notice_version=notice_version, evidence=evidence, guardian=guardian
    )
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
        st.t(f"同意を記録しました（番号 {ev.seq}）", f"consent recorded (no. {ev.seq})")
    )


@app.command("withdraw")
@cli_command
def withdraw(
    ctx: typer.Context,
    customer_id: str,
    purpose: str = typer.Option(None, "--purpose", "-p", help="利用目的コード"),
    sensitive: bool = typer.Option(False, "--sensitive", help="要配慮個人情報の取得への同意の撤回"),
    method: str = METHOD_OPT,
    evidence: str | None = typer.Option(None),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """同意の撤回を記録する（直ちに反映） / record withdrawal (effective at once)."""
    st = state(ctx)
    data = schemas.ConsentIn(method=method, evidence=evidence)
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
        st.t(f"同意の撤回を記録しました（番号 {ev.seq}）", f"withdrawal recorded (no. {ev.seq})")
    )


_CHANNEL_HELP = "連絡手段: " + _opts("dnc_channel", ("phone", "email", "post", "sms", "visit"))


@app.command("dnc")
@cli_command
def dnc(
    ctx: typer.Context,
    customer_id: str,
    channel: str = typer.Option(..., help=_CHANNEL_HELP),
    allow: bool = typer.Option(False, "--allow", help="連絡停止を解除する（その手段の受信の同意として記録）"),
    method: str = METHOD_OPT,
    evidence: str | None = typer.Option(None, help="証跡の参照（受付番号など。個人情報を書かない）"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """連絡手段ごとの連絡停止（R-35-1。次の判断から効く） / per-channel do-not-contact."""
    _channel_line(ctx, customer_id, channel, allow, method, evidence, None, json_out)


@app.command("optin")
@cli_command
def optin(
    ctx: typer.Context,
    customer_id: str,
    channel: str = typer.Option(..., help=_CHANNEL_HELP),
    method: str = METHOD_OPT,
    evidence: str | None = typer.Option(
        None, help="証跡の参照（申込フォームの番号など。個人情報を書かない）"
    ),
    notice_version: str | None = typer.Option(None, "--notice-version", help="同意を得たときの説明文の版"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """連絡手段ごとの受信の同意（オプトイン）を記録する。広告宣伝のメール・SMSに必要（特定電子メール法 第3条、TE-3） /
    record a per-channel opt-in (needed for advertising e-mail and SMS). Stop it with: consent dnc ID --channel …"""
    _channel_line(ctx, customer_id, channel, True, method, evidence, notice_version, json_out)


def _channel_line(
    ctx: typer.Context,
    customer_id: str,
    channel: str,
    allow: bool,
    method: str,
    evidence: str | None,
    notice_version: str | None,
    json_out: bool,
) -> None:
    st = state(ctx)
    if channel not in CHANNELS:  # said without echoing what was typed
        raise ValidationFailed(
            f"不明な連絡手段です（{', '.join(CHANNELS)}）",
            f"Unknown channel ({', '.join(CHANNELS)})",
            code="bad_channel",
        )
    data = schemas.ConsentIn(method=method, evidence=evidence, notice_version=notice_version)
    with st.transaction() as c:
        ev = (service.allow_contact if allow else service.do_not_contact)(c, customer_id, channel, data)
    if json_out:
        print_json(ev)
        return
    what = _channel_state(st, ev.action)
    console.print(
        st.t(
            f"{labels.value('dnc_channel', ev.target)}: {what}を記録しました（番号 {ev.seq}）",
            f"{labels.value('dnc_channel', ev.target, 'en')}: {what} recorded (no. {ev.seq})",
        ),
        markup=False,
        highlight=False,
    )


def channel_states(summary: schemas.ConsentSummary) -> dict[str, schemas.ConsentEventRead | None]:
    """Every channel with its newest ledger line (None: nothing recorded): opt_in / opt_out is the state."""
    last: dict[str, schemas.ConsentEventRead | None] = dict.fromkeys(CHANNELS)
    for e in summary.events:
        if e.kind == "channel" and e.target in last:
            last[e.target] = e
    return last


CHANNELS = ("phone", "email", "post", "sms", "visit")  # as kernel.policy.CHANNELS (tests hold them equal)


def _channel_state(st: CliState, action: str | None) -> str:
    """A channel's state in words: opted in (also after a do-not-contact was lifted), do-not-contact, or none."""
    if action == "opt_in":
        return st.t("受信に同意（オプトイン）", "opted in")
    if action == "opt_out":
        return st.t("連絡停止", "do not contact")
    return st.t("記録なし", "nothing recorded")


@app.command("show")
@cli_command
def show(ctx: typer.Context, customer_id: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """同意の現在の状態と台帳 / current consent state and the ledger."""
    st = state(ctx)
    with st.transaction() as c:
        summary = service.show(c, customer_id)
    if json_out:  # as GET /api/v1/customers/{id}/consents (ConsentSummary.channels)
        print_json(summary.model_dump(mode="json"))
        return
    states = channel_states(summary)
    sep = ", " if st.lang == "en" else "、"
    purposes = sep.join(
        f"{code}: {labels.value('consent_state', v, st.lang)}" for code, v in summary.purposes.items()
    )
    lines = [
        ("consent_field.purposes", purposes or "—"),
        ("consent_field.sensitive", labels.value("consent_state", summary.sensitive, st.lang)),
        ("consent_field.do_not_contact", labels.values("dnc_channel", summary.do_not_contact, st.lang)),
    ]
    if summary.suppressed:
        lines.append(("consent_field.stop_use", sep.join(_target(st, t) for t in summary.suppressed)))
    for key, text in lines:
        console.print(
            f"{_h(st, key)}{': ' if st.lang == 'en' else '：'}{text}", markup=False, highlight=False
        )
    console.print(st.t("連絡手段ごとの状態:", "By channel:"), markup=False, highlight=False)
    for channel, e in states.items():
        when = ""
        if e is not None:
            method = labels.value("consent_method", e.method, st.lang, staff=True)
            ref = f"{sep}{e.evidence}" if e.evidence else ""
            when = f"（{labels.fmt_datetime(e.occurred_at, st.lang)}{sep}{method}{ref}）"
            when = when if st.lang != "en" else f" ({when[1:-1]})"
        console.print(
            f"  {labels.value('dnc_channel', channel, st.lang)}: {_channel_state(st, e.action if e else None)}{when}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    table = Table(
        *(
            _h(st, f"consent_field.{k}")
            for k in ("seq", "occurred_at", "kind", "target", "action", "method", "recorded_by")
        )
    )
    for e in summary.events:
        table.add_row(
            str(e.seq),
            labels.fmt_datetime(e.occurred_at, st.lang),
            labels.value("consent_kind", e.kind, st.lang),
            _event_target(st, e.kind, e.target),
            _channel_state(st, e.action)
            if e.kind == "channel"
            else labels.value("consent_action", e.action, st.lang),
            labels.value("consent_method", e.method, st.lang, staff=True),
            e.recorded_by,
        )
    console.print(table)


def _h(st: CliState, key: str) -> str:
    return labels.label(key, st.lang)


def _event_target(st: CliState, kind: str, target: str) -> str:
    if kind == "channel":
        return labels.value("dnc_channel", target, st.lang)
    if kind == "sensitive":
        return "—"  # consent to acquiring 要配慮個人情報 at all, not per purpose
    return _target(st, target)


def _target(st: CliState, target: str) -> str:
    """A purpose code as it is (staff type it back with -p); 「*」 → all use; 「@provision」 → provision."""
    if target == "*":
        return st.t("すべて", "all")
    if target == "@provision":
        return st.t("第三者提供", "third-party provision")
    return target
