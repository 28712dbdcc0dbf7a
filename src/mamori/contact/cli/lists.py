"""``mamori contact list`` (a call or mailing list through the policy engine) and ``mamori contact check`` (the
check before a call or a mail), issue 20."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel.cli_support import CliState, cli_command, console, err_console, lazy, print_json, state

if TYPE_CHECKING:
    from mamori.contact import schemas
    from mamori.contact.service import lists, reach
    from mamori.kernel import files
else:
    schemas = lazy("mamori.contact.schemas")
    lists = lazy("mamori.contact.service.lists")
    reach = lazy("mamori.contact.service.reach")
    files = lazy("mamori.kernel.files")

MAX_IDS_FILE = 10 * 1024 * 1024  # an --ids file of up to ~300,000 ids


def _read_ids(path: Path) -> list[str]:
    """One customer id per line (blank lines and lines starting with # skipped); a CSV's first column is taken."""
    from mamori.kernel.errors import ValidationFailed

    try:
        if path.stat().st_size > MAX_IDS_FILE:
            raise ValidationFailed(
                "ID ファイルが大きすぎます（10 MB まで）。",
                "The ids file is too large (10 MB at most).",
                code="bad_ids",
            )
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise ValidationFailed(
            "ID ファイルを読めません（UTF-8 のテキスト、1 行に 1 件）。",
            "Cannot read the ids file (UTF-8 text, one id per line).",
            code="bad_ids",
        ) from None
    ids = []
    for line in text.splitlines():
        cell = line.split(",", 1)[0].strip().strip('"')
        if not cell or cell.startswith("#") or cell == "customer_id":
            continue
        if len(cell) > 32 or any(c not in "0123456789abcdef" for c in cell):
            raise ValidationFailed(
                "ID ファイルに顧客 ID でない行があります。",
                "The ids file has a line that is not a customer id.",
                code="bad_ids",
            )
        ids.append(cell)
    return ids


def _excluded_table(st: CliState, built: schemas.ContactList) -> Table:
    t = st.t
    table = Table(title=t("対象外（理由別）", "left out, by reason"))
    table.add_column(t("理由", "reason"))
    table.add_column(t("件数", "people"), justify="right")
    for code, n in built.excluded.items():
        ja, en = schemas.EXCLUSION_LABELS.get(code, (code, code))
        table.add_row(f"{t(ja, en)} ({code})", str(n))
    return table


def register(app: typer.Typer) -> None:
    """Add ``list`` and ``check`` to ``mamori contact``."""

    @app.command("list")
    @cli_command
    def list_cmd(
        ctx: typer.Context,
        purpose: str = typer.Option(..., "--purpose", "-p", help="利用目的コード（連絡手段を含む目的）"),
        channel: str = typer.Option(..., "--channel", help="連絡手段: phone / email / post / sms / visit"),
        segment: str | None = typer.Option(
            None, "--segment", help="条件: prefecture=東京都,age=30-49,owner=<ユーザー名>（カンマで AND）"
        ),
        ids_file: Path | None = typer.Option(None, "--ids", help="対象の顧客 ID のファイル（1 行に 1 件）"),
        out: Path | None = typer.Option(None, "--out", "-o", help="出力する CSV（UTF-8 BOM 付き）"),
        force: bool = typer.Option(False, "--force", help="既存のファイルを上書きする"),
        json_out: bool = typer.Option(False, "--json", help="JSON で出力（行と件数）"),
    ) -> None:
        """架電・送付リストを作る（利用目的・同意・停止・連絡拒否を反映） / build a call or mailing list."""
        st = state(ctx)
        if out is None and not json_out:
            raise typer.BadParameter(
                st.t("--out（CSV の出力先）を指定してください", "give --out (the CSV file)")
            )
        if out is not None:
            files.check_output(out, force=force)  # refuse an existing file before any work
        ids = _read_ids(ids_file) if ids_file is not None else None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=err_console, disable=json_out, transient=True) as bar:
            task = bar.add_task(st.t("リスト作成中", "building the list"))
            with st.transaction(purpose) as tx:
                built = lists.build(
                    tx,
                    channel=channel,
                    segment=segment,
                    ids=ids,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
                if out is not None:
                    built, data = lists.export_csv(tx, built)
                    files.write_output(out, data, force=force)
        if json_out:
            print_json(schemas.ListRead.of(built).model_dump(mode="json"))
            return
        console.print(
            st.t(
                f"{built.included} 人をリストにしました（対象 {built.considered} 人、目的 {built.purpose} 第"
                f"{built.purpose_version}版、{built.channel}）: {out}",
                f"{built.included} people listed (of {built.considered}; purpose {built.purpose} "
                f"v{built.purpose_version}, {built.channel}): {out}",
            ),
            markup=False,
        )
        if built.excluded:
            console.print(_excluded_table(st, built))
        console.print(st.t(f"作成番号 {built.build_id}", f"build {built.build_id}"), markup=False)

    @app.command("check")
    @cli_command
    def check_cmd(
        ctx: typer.Context,
        customer_id: str = typer.Argument(..., help="顧客 ID"),
        purpose: str = typer.Option(..., "--purpose", "-p", help="利用目的コード"),
        channel: str = typer.Option(..., "--channel", help="連絡手段: phone / email / post / sms / visit"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """この人にこの手段で連絡してよいか確認する（連絡先を表示） / may I contact this person on this channel?"""
        st = state(ctx)
        with st.transaction(purpose) as tx:
            found = reach.check(tx, customer_id, channel)
        if json_out:
            print_json(found)
            return
        console.print(st.t("連絡できます", "you may contact this person"), markup=False)
        table = Table(show_header=False)
        for key, ja in (
            ("name", "氏名"),
            ("kana", "フリガナ"),
            ("postal_code", "郵便番号"),
            ("address", "住所"),
        ):
            value = getattr(found, key)
            if value:
                table.add_row(st.t(ja, key), value)
        for point in found.contact_points:
            table.add_row(st.t("連絡先", channel), point)
        if not found.contact_points and not found.address:
            table.add_row(st.t("連絡先", channel), st.t("（登録なし）", "(none registered)"))
        console.print(table)
