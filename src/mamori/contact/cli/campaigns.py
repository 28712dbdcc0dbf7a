"""``mamori contact campaign create|list|show|send|sends|bounce`` (issue 20): e-mail campaigns under the 特定電子メール法;
``--tracking clicks|opens_clicks`` measures clicks (and opens) under a purpose covering behaviour data (brief T)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.contact import campaign_schemas as schemas
    from mamori.contact.service import campaigns as service
else:
    schemas = lazy("mamori.contact.campaign_schemas")
    service = lazy("mamori.contact.service.campaigns")

campaign = typer.Typer(
    help="メール配信（特定電子メール法: オプトイン・送信者表示・配信停止） / e-mail campaigns",
    no_args_is_help=True,
)

JSON_OPT = typer.Option(False, "--json", help="JSON で出力 / output JSON")


class TrackingOption(StrEnum):
    NONE = "none"
    CLICKS = "clicks"
    OPENS_CLICKS = "opens_clicks"


def _tracking_label(st: CliState, value: str) -> str:
    if value == "opens_clicks":
        return st.t("開封とクリックを計測", "opens and clicks measured")
    if value == "clicks":
        return st.t("クリックを計測", "clicks measured")
    return st.t("計測なし", "not measured")


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "—"


def _body(st: CliState, body: str | None, body_file: Path | None) -> str:
    if (body is None) == (body_file is None):
        raise typer.BadParameter(
            st.t("--body か --body-file のどちらかを指定してください", "give either --body or --body-file")
        )
    if body_file is not None:
        try:
            return body_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise typer.BadParameter(
                st.t("本文ファイルを UTF-8 で読めません", "the body file cannot be read as UTF-8")
            ) from None
    return body or ""


def _print_campaign(st: CliState, c: schemas.CampaignRead) -> None:
    status = st.t("送信済み", "sent") if c.status == "sent" else st.t("下書き", "draft")
    console.print(f"[bold]{c.name}[/bold]  ({c.id})", highlight=False)
    console.print(
        st.t(
            f"利用目的: {c.purpose}（第{c.purpose_version}版）  状態: {status}",
            f"purpose: {c.purpose} (v{c.purpose_version})  status: {status}",
        ),
        highlight=False,
    )
    console.print(st.t(f"件名: {c.subject}", f"subject: {c.subject}"), markup=False, highlight=False)
    console.print(
        st.t("計測: ", "measurement: ") + _tracking_label(st, c.tracking), markup=False, highlight=False
    )
    if c.status == "sent" and c.tracking != "none":
        console.print(
            st.t(
                f"計測した配信: {c.tracked} 件  開封: {c.opened} 件  クリック: {c.clicked} 件",
                f"tracked sends: {c.tracked}  opened: {c.opened}  clicked: {c.clicked}",
            ),
            highlight=False,
        )
    if c.status == "sent":
        console.print(
            st.t(f"送信対象: {c.queued} 件", f"queued: {c.queued}")
            + "  "
            + ", ".join(f"{k}={v}" for k, v in c.sends.items()),
            highlight=False,
        )
        if c.excluded:
            console.print(
                st.t("除外: ", "left out: ") + ", ".join(f"{k}={v}" for k, v in c.excluded.items()),
                highlight=False,
            )


@campaign.command("create")
@cli_command
def create(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="キャンペーン名（社内用）"),
    purpose: str = typer.Option(..., "--purpose", "-p", help="利用目的コード（連絡手段にメールを含むもの）"),
    subject: str = typer.Option(..., "--subject", help="件名（差し込みは {name} のみ）"),
    body: str | None = typer.Option(None, "--body", help="本文（テキスト。差し込みは {name} のみ）"),
    body_file: Path | None = typer.Option(None, "--body-file", help="本文のファイル（UTF-8）"),
    tracking: TrackingOption = typer.Option(
        TrackingOption.NONE,
        "--tracking",
        help="開封・クリックの計測（none / clicks / opens_clicks。行動履歴を含む利用目的のみ）",
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """メール配信の下書きを作成する / create a campaign draft."""
    st = state(ctx)
    data = schemas.CampaignCreate(
        name=name,
        purpose=purpose,
        subject=subject,
        body=_body(st, body, body_file),
        tracking=tracking.value,
    )
    with st.transaction() as c:
        made = service.create(c, data)
    if json_out:
        print_json(made)
    else:
        console.print(st.t(f"下書きを作成しました: {made.id}", f"draft created: {made.id}"), highlight=False)


@campaign.command("list")
@cli_command
def list_(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """メール配信の一覧 / list campaigns."""
    st = state(ctx)
    with st.transaction() as c:
        rows = service.list_campaigns(c)
    if json_out:
        print_json(rows)
        return
    table = Table(
        st.t("ID", "id"),
        st.t("名前", "name"),
        st.t("利用目的", "purpose"),
        st.t("状態", "status"),
        st.t("送信数", "queued"),
        st.t("計測", "measurement"),
    )
    for r in rows:
        table.add_row(
            r.id,
            r.name,
            r.purpose,
            st.t("送信済み", "sent") if r.status == "sent" else st.t("下書き", "draft"),
            str(r.queued),
            r.tracking,
        )
    console.print(table)


@campaign.command("show")
@cli_command
def show(
    ctx: typer.Context,
    campaign_id: str,
    preview: bool = typer.Option(False, "--preview", help="受信者に届く形で本文を表示"),
    json_out: bool = JSON_OPT,
) -> None:
    """メール配信の内容と件数 / show a campaign."""
    st = state(ctx)
    with st.transaction() as c:
        found = service.show(c, campaign_id)
        shown = service.preview(c, campaign_id) if preview else None
    if json_out:
        print_json({"campaign": found, "preview": shown} if preview else found)
        return
    _print_campaign(st, found)
    if shown is not None:
        console.rule()
        for name, value in shown.headers:
            console.print(f"{name}: {value}", markup=False, highlight=False)
        console.print(f"Subject: {shown.subject}\n", markup=False, highlight=False)
        console.print(shown.text, markup=False, highlight=False)


@campaign.command("send")
@cli_command
def send(ctx: typer.Context, campaign_id: str, json_out: bool = JSON_OPT) -> None:
    """送信する（一度だけ。宛先は利用目的・同意・オプトインに従う） / send the campaign once."""
    st = state(ctx)
    with st.transaction() as c:
        sent = service.send(c, campaign_id)
    if json_out:
        print_json(sent)
    else:
        console.print(
            st.t(f"{sent.queued} 件を送信キューに入れました。", f"{sent.queued} message(s) queued."),
            highlight=False,
        )
        _print_campaign(st, sent)


@campaign.command("sends")
@cli_command
def sends(ctx: typer.Context, campaign_id: str, json_out: bool = JSON_OPT) -> None:
    """送信ごとの状態と開封・クリック（ID・状態・日時のみ） / each send's status, opens and clicks."""
    st = state(ctx)
    with st.transaction() as c:
        rows = service.sends(c, campaign_id)
    if json_out:
        print_json(rows)
        return
    table = Table(
        st.t("送信ID", "send id"),
        st.t("顧客ID", "customer id"),
        st.t("状態", "status"),
        st.t("計測", "tracked"),
        st.t("開封", "opened"),
        st.t("クリック", "clicked"),
        st.t("クリック数", "clicks"),
    )
    for r in rows:
        table.add_row(
            r.id,
            r.customer_id,
            r.status + (f" ({r.reason})" if r.reason else ""),
            st.t("あり", "yes") if r.tracked else st.t("なし", "no"),
            _when(r.opened_at),
            _when(r.clicked_at),
            str(r.clicks),
        )
    console.print(table)


@campaign.command("bounce")
@cli_command
def bounce(
    ctx: typer.Context,
    send_id: str,
    reason: str = typer.Option(..., "--reason", help="バウンスのコード（例: 5.1.1、mailbox_full）"),
    json_out: bool = JSON_OPT,
) -> None:
    """後から届いたバウンスを記録する / record a bounce."""
    st = state(ctx)
    with st.transaction() as c:
        done = service.bounce(c, send_id, reason)
    if json_out:
        print_json(done)
    else:
        console.print(
            st.t(
                f"バウンスを記録しました: {done.id}（{done.reason}）",
                f"bounce recorded: {done.id} ({done.reason})",
            ),
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add ``mamori contact campaign …``."""
    app.add_typer(campaign, name="campaign")
