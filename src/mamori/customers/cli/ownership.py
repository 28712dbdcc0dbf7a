"""CLI: mamori customers owner set | transfer — change a customer's owner, one or many (issue 21, seed 001 case 1).

The service authorises each customer (``customer.reassign``: a rep only their own, R-23-2), refuses a successor who
is not current on training and pledge (R-23-3) and audits; nothing moves when anything is refused. No personal value
is shown: ids and counts only.

Registered on the customers Typer app when mamori.customers.cli is imported."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mamori.customers.cli import app
from mamori.kernel.cli_support import cli_command, console, err_console, lazy, print_json, state

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.customers.schemas import OwnershipResult
    from mamori.customers.service import ownership
    from mamori.kernel import errors
else:
    ownership = lazy("mamori.customers.service.ownership")
    errors = lazy("mamori.kernel.errors")

owner_app = typer.Typer(help="顧客の担当者の変更 / change customers' owner", no_args_is_help=True)
app.add_typer(owner_app, name="owner")

MAX_IDS_FILE = 10 * 1024 * 1024
REASON_OPT = typer.Option(
    "reassignment", "--reason", help="理由: departure（退職） / reassignment（担当替え）"
)
TO_OPT = typer.Option(..., "--to", help="引継ぎ先の担当者のユーザー名 / the successor's user name")


def _read_ids(path: Path) -> list[str]:
    """One customer id per line (blank lines and # comments skipped; a CSV's first column)."""
    try:
        if path.stat().st_size > MAX_IDS_FILE:
            raise errors.ValidationFailed(
                "ID ファイルが大きすぎます（10 MB まで）。",
                "The ids file is too large (10 MB at most).",
                code="bad_ids",
            )
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise errors.ValidationFailed(
            "ID ファイルを読めません（UTF-8 のテキスト、1 行に 1 件）。",
            "Cannot read the ids file (UTF-8 text, one id per line).",
            code="bad_ids",
        ) from None
    ids: list[str] = []
    for line in text.splitlines():
        cell = line.split(",", 1)[0].strip().strip('"')
        if not cell or cell.startswith("#") or cell == "customer_id":
            continue
        if len(cell) != 32 or any(c not in "0123456789abcdef" for c in cell):
            raise errors.ValidationFailed(
                "ID ファイルに顧客 ID でない行があります。",
                "The ids file has a line that is not a customer id.",
                code="bad_ids",
            )
        ids.append(cell)
    return ids


def _report(ctx: typer.Context, result: OwnershipResult, json_out: bool) -> None:
    st = state(ctx)
    if json_out:
        print_json(result.model_dump(mode="json"))
        return
    console.print(
        st.t(
            f"{result.changed} 件の顧客の担当者を {result.to_username} に変更しました"
            f"（既に担当: {result.unchanged} 件）。記録しました。",
            f"{result.changed} customer(s) now owned by {result.to_username} "
            f"({result.unchanged} already were); audited.",
        ),
        markup=False,
        soft_wrap=True,
    )


@owner_app.command("set")
@cli_command
def set_(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., help="顧客ID / customer id"),
    to: str = TO_OPT,
    reason: str = REASON_OPT,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """1 件の顧客の担当者を変更する（引継ぎ先は研修・誓約が有効な担当者のみ, R-23-3） / give one customer to another."""
    st = state(ctx)
    with st.transaction() as c:
        result = ownership.set_owner(c, [customer_id], to, reason=reason)
    _report(ctx, result, json_out)


@owner_app.command("transfer")
@cli_command
def transfer(
    ctx: typer.Context,
    from_user: str = typer.Option(..., "--from", help="引継ぎ元の担当者のユーザー名 / the current owner"),
    to: str = TO_OPT,
    ids_file: Path | None = typer.Option(
        None,
        "--ids-file",
        help="移す顧客ID（1 行に 1 件）。省略時は引継ぎ元の全顧客 / ids to move (default: all)",
    ),
    reason: str = REASON_OPT,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """担当顧客をまとめて別の担当者に移す / move a staff member's customers (all, or those listed) to another."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    st = state(ctx)
    listed = _read_ids(ids_file) if ids_file is not None else None
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err_console, disable=json_out, transient=True) as bar:
        task = bar.add_task(st.t("担当者を変更中", "changing owners"))
        with st.transaction() as c:
            source = ownership.find_staff(c, from_user)
            owned = ownership.owned_by(c, source.id)
            if listed is not None:
                ownership.require_owned(listed, owned)
            result = ownership.set_owner(
                c,
                owned if listed is None else listed,
                to,
                reason=reason,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    _report(ctx, result, json_out)
