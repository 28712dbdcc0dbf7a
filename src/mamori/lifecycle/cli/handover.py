"""``mamori handover plan | run | greet | list`` — the departing rep's handover (issue 21, seed 001 case 1).

``plan FROM_USER``: the rep's customers (ids and count, no personal value) and the successors offered — only staff
current on training and pledge (R-23-3). ``run FROM_USER --to USER``: every customer moves in one audited change,
refused as a whole for an untrained successor; with ``--greet-purpose/--subject/--body-file`` the greeting e-mail
is then sent to the customers handed over (a second step: a refused greeting does not undo the handover).
``greet HANDOVER_ID``: the greeting on its own, e.g. by the successor."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel.cli_support import cli_command, console, err_console, lazy, print_json, state

if TYPE_CHECKING:
    from mamori.kernel import errors
    from mamori.lifecycle import schemas
    from mamori.lifecycle.service import handover as service
else:
    errors = lazy("mamori.kernel.errors")
    schemas = lazy("mamori.lifecycle.schemas")
    service = lazy("mamori.lifecycle.service.handover")

handover_app = typer.Typer(
    help="退職・異動する担当者の顧客の引継ぎ / hand a departing rep's customers over", no_args_is_help=True
)
MAX_BODY_FILE = 64 * 1024


def register(app: typer.Typer) -> None:
    """Adds the command group to the top-level app."""
    app.add_typer(handover_app, name="handover")


def _body(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_BODY_FILE:
            raise errors.ValidationFailed(
                "本文ファイルが大きすぎます（64 KB まで）。",
                "The body file is too large (64 KB at most).",
                code="bad_body",
            )
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise errors.ValidationFailed(
            "本文ファイルを読めません（UTF-8 のテキスト）。",
            "Cannot read the body file (UTF-8 text).",
            code="bad_body",
        ) from None


def _greeting(purpose: str | None, subject: str | None, body_file: Path | None) -> schemas.GreetingIn | None:
    given = [v is not None for v in (purpose, subject, body_file)]
    if not any(given):
        return None
    if not all(given):
        raise typer.BadParameter(
            "挨拶メールには --greet-purpose・--subject・--body-file をすべて指定してください"
            " / a greeting needs --greet-purpose, --subject and --body-file"
        )
    assert body_file is not None
    return schemas.GreetingIn(purpose=purpose, subject=subject, body=_body(body_file))


@handover_app.command("plan")
@cli_command
def plan(
    ctx: typer.Context,
    from_user: str = typer.Argument(..., help="引継ぎ元の担当者のユーザー名 / the departing staff member"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """担当顧客（ID・件数）と引継ぎ先の候補（研修・誓約が有効な担当者） / customers and possible successors."""
    st = state(ctx)
    with st.transaction() as c:
        p = service.plan(c, from_user)
    if json_out:
        print_json(p.model_dump(mode="json"))
        return
    console.print(
        st.t(
            f"{p.departing.username} の担当顧客: {p.customers} 件",
            f"{p.departing.username} owns {p.customers} customer(s)",
        ),
        markup=False,
        soft_wrap=True,
    )
    table = Table(
        st.t("ユーザー名", "User"), st.t("役割", "Role"), st.t("研修・誓約 (R-23-3)", "Training (R-23-3)")
    )
    for s in [*p.candidates, *p.not_ready]:
        table.add_row(
            s.username,
            s.role,
            st.t("有効", "current") if s.ready else st.t("未了（選べません）", "not current"),
        )
    console.print(table)


@handover_app.command("run")
@cli_command
def run(
    ctx: typer.Context,
    from_user: str = typer.Argument(..., help="引継ぎ元の担当者のユーザー名 / the departing staff member"),
    to: str = typer.Option(..., "--to", help="引継ぎ先の担当者のユーザー名 / the successor"),
    reason: str = typer.Option(
        "departure", "--reason", help="departure（退職） / reassignment（異動・担当替え）"
    ),
    greet_purpose: str | None = typer.Option(
        None, "--greet-purpose", help="挨拶メールの利用目的 / greeting purpose"
    ),
    subject: str | None = typer.Option(None, "--subject", help="挨拶メールの件名 / greeting subject"),
    body_file: Path | None = typer.Option(
        None, "--body-file", help="挨拶メールの本文（{name} で宛名） / body file"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """担当顧客を一括で引継ぎ先へ移し（監査記録）、任意で挨拶メールを送る / hand every customer over, then greet."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    st = state(ctx)
    greeting = _greeting(greet_purpose, subject, body_file)
    data = schemas.HandoverCreate.model_validate({"from": from_user, "to": to, "reason": reason})
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err_console, disable=json_out, transient=True) as bar:
        task = bar.add_task(st.t("引継ぎ中", "handing over"))
        with st.transaction() as c:
            done = service.run(c, data, progress=lambda n, total: bar.update(task, completed=n, total=total))
    if greeting is not None:
        try:
            with st.transaction() as c:
                done = done.model_copy(update={"greeting": service.greet(c, done.id, greeting)})
        except errors.MamoriError:
            # the handover stands (it committed); say so before the greeting's refusal is reported
            err_console.print(
                st.t(
                    f"引継ぎは完了しました（引継ぎID {done.id}）が、挨拶メールは送信できませんでした。"
                    f"mamori handover greet {done.id} で再送できます。",
                    f"The handover is done (handover {done.id}) but the greeting was not sent; "
                    f"retry with mamori handover greet {done.id}.",
                ),
                markup=False,
                soft_wrap=True,
            )
            raise
    if json_out:
        print_json(done.model_dump(mode="json"))
        return
    console.print(
        st.t(
            f"{done.from_username} の顧客 {done.customers} 件を {done.to_username} に引き継ぎました（引継ぎID {done.id}）。",
            f"{done.customers} customer(s) of {done.from_username} handed over to {done.to_username} (handover {done.id}).",
        ),
        markup=False,
        soft_wrap=True,
    )
    if done.greeting is not None:
        _greeting_report(ctx, done.greeting)


def _greeting_report(ctx: typer.Context, g: schemas.GreetingResult) -> None:
    st = state(ctx)
    left = "、".join(f"{k} {v}" for k, v in sorted(g.excluded.items())) or "—"
    console.print(
        st.t(
            f"挨拶メール: {g.queued} 件を送信キューに入れました（対象外: {left}）。",
            f"Greeting: {g.queued} message(s) queued (left out: {left}).",
        ),
        markup=False,
        soft_wrap=True,
    )


@handover_app.command("greet")
@cli_command
def greet(
    ctx: typer.Context,
    handover_id: str = typer.Argument(..., help="引継ぎID / handover id"),
    purpose: str = typer.Option(..., "--greet-purpose", help="挨拶メールの利用目的 / greeting purpose"),
    subject: str = typer.Option(..., "--subject", help="件名 / subject"),
    body_file: Path = typer.Option(..., "--body-file", help="本文（{name} で宛名） / body file"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """引継ぎ先の担当者から、引き継いだ顧客へ挨拶メールを送る / the successor greets the customers handed over."""
    st = state(ctx)
    greeting = schemas.GreetingIn(purpose=purpose, subject=subject, body=_body(body_file))
    with st.transaction() as c:
        g = service.greet(c, handover_id, greeting)
    if json_out:
        print_json(g.model_dump(mode="json"))
        return
    _greeting_report(ctx, g)


@handover_app.command("list")
@cli_command
def list_(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """引継ぎの一覧 / handovers."""
    st = state(ctx)
    with st.transaction() as c:
        rows = service.list_handovers(c)
    if json_out:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table(
        "ID", st.t("日時", "At"), st.t("引継ぎ元", "From"), st.t("引継ぎ先", "To"), st.t("件数", "Customers")
    )
    for r in rows:
        table.add_row(
            r.id, r.at.isoformat(timespec="minutes"), r.from_username, r.to_username, str(r.customers)
        )
    console.print(table)
