"""``mamori incidents …`` commands: notices to the people (R-26-6, G-34) — the plan and the send (``notify``), the
send log (``notices``), a substitute measure (``substitute``), the letters for printing (``letters``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, err_console, lazy, print_json, state

if TYPE_CHECKING:
    from mamori.incidents import notice_schemas as schemas
    from mamori.incidents.service import notices as service
else:
    schemas = lazy("mamori.incidents.notice_schemas")
    service = lazy("mamori.incidents.service.notices")

JSON_OPT = typer.Option(False, "--json", help="JSON で出力 / output JSON")


def _word(st: CliState, table: dict[str, tuple[str, str]], key: str) -> str:
    pair = table.get(key)
    return st.t(*pair) if pair else key


def _print_plan(st: CliState, plan: schemas.NoticePlan) -> None:
    console.print(
        st.t(
            f"{plan.ref}: 対象 {plan.persons}人 — メール {plan.email}人・書面 {plan.letter}人・"
            f"連絡先なし {plan.no_contact}人（通知済み {plan.already}人、EU/UK {plan.eu}人）",
            f"{plan.ref}: {plan.persons} in scope — e-mail {plan.email}, letter {plan.letter}, "
            f"no usable contact {plan.no_contact} (already notified {plan.already}, EU/UK {plan.eu})",
        ),
        highlight=False,
    )


def notify(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="事案番号（INC-0003）または ID / incident"),
    dry_run: bool = typer.Option(False, "--dry-run", help="計画だけ表示して送らない / show the plan only"),
    email_only: bool = typer.Option(False, "--email-only", help="書面は使わない / e-mail only"),
    hold_back: bool = typer.Option(
        False,
        "--hold-back",
        help="被害拡大のおそれがあるため通知を控える（記録のみ） / hold notice back (recorded, nothing sent)",
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """本人への通知（R-26-6, G-34）: 計画を示し、メール・書面で通知 / notify the people in scope."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    st = state(ctx)
    with st.transaction() as c:
        plan = service.plan(c, key)
    if dry_run:
        if json_out:
            print_json(plan)
        else:
            _print_plan(st, plan)
        return
    if not json_out:
        _print_plan(st, plan)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err_console, disable=json_out, transient=True) as bar:
        task = bar.add_task(st.t("通知を送信中", "sending notices"), total=plan.persons)
        with st.transaction() as c:
            result = service.send(
                c,
                key,
                channel_preference=("email",) if email_only else ("email", "letter"),
                hold_back=hold_back,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    if json_out:
        print_json(result)
        return
    if result.held_back:
        console.print(
            st.t(
                f"通知を控えました（記録済み）。対象 {plan.persons - result.skipped}人",
                f"notice held back (recorded); {plan.persons - result.skipped} persons",
            ),
            highlight=False,
        )
        return
    console.print(
        st.t(
            f"メール {result.email}人・書面 {result.letter}人・連絡先なし {result.no_contact}人、"
            f"通知済みのため省略 {result.skipped}人（{', '.join(result.rule_ids)}）",
            f"e-mail {result.email}, letter {result.letter}, no usable contact {result.no_contact}; "
            f"skipped (already notified) {result.skipped} ({', '.join(result.rule_ids)})",
        ),
        highlight=False,
    )
    if result.letter:
        console.print(
            st.t(
                f"書面の印刷: mamori incidents letters {result.ref} --out DIR",
                f"print the letters: mamori incidents letters {result.ref} --out DIR",
            ),
            highlight=False,
        )
    if result.no_contact:
        console.print(
            st.t(
                f"連絡先のない方には代替措置を: mamori incidents substitute {result.ref} "
                "--kind publication|inquiry_line --note …",
                f"for people without contact record a substitute: mamori incidents substitute {result.ref} "
                "--kind publication|inquiry_line --note …",
            ),
            highlight=False,
        )


def notices_log(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="事案番号（INC-0003）または ID / incident"),
    json_out: bool = JSON_OPT,
) -> None:
    """通知の送付記録（本人ごと） / the send log per person."""
    st = state(ctx)
    with st.transaction() as c:
        rows = service.log(c, key)
    if json_out:
        print_json(rows)
        return
    table = Table(
        st.t("顧客ID", "customer"),
        st.t("方法", "channel"),
        st.t("状態", "status"),
        st.t("日時", "at"),
    )
    for r in rows:
        table.add_row(
            r.customer_id,
            _word(st, schemas.CHANNEL_LABELS, r.channel),
            _word(st, schemas.STATUS_LABELS, r.status),
            labels.fmt_datetime(r.at, st.lang),
        )
    console.print(table)
    console.print(st.t(f"{len(rows)}件", f"{len(rows)} notice(s)"), highlight=False)


def substitute(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="事案番号（INC-0003）または ID / incident"),
    kind: str = typer.Option(..., "--kind", help="publication（公表） | inquiry_line（問合せ窓口）"),
    note: str = typer.Option(..., "--note", help="公表先の URL、窓口の電話番号など / where, which number"),
    json_out: bool = JSON_OPT,
) -> None:
    """連絡先のない方への代替措置を記録（R-26-6） / record a substitute measure for people without contact."""
    st = state(ctx)
    with st.transaction() as c:
        result = service.substitute(c, key, kind, note)
    if json_out:
        print_json(result)
        return
    console.print(
        st.t(
            f"代替措置（{_word(st, schemas.SUBSTITUTE_LABELS, result.kind)}）を記録しました: "
            f"{result.persons}人 ({result.measure_id})",
            f"substitute measure ({_word(st, schemas.SUBSTITUTE_LABELS, result.kind)}) recorded: "
            f"{result.persons} persons ({result.measure_id})",
        ),
        highlight=False,
    )


def letters(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="事案番号（INC-0003）または ID / incident"),
    out: Path = typer.Option(
        ..., "--out", help="書面（HTML）を書き出すディレクトリ / directory for the letters"
    ),
    fmt: str = typer.Option("html", "--format", help="html | pdf"),
    mark_sent: bool = typer.Option(
        False, "--mark-sent", help="書き出した書面を郵送済みとして記録 / record them as posted"
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """書面で通知する方の通知書（印刷用 HTML / PDF） / the letters to print for the people notified by post."""
    st = state(ctx)
    if fmt not in ("html", "pdf"):
        raise typer.BadParameter("html または pdf / html or pdf", param_hint="--format")
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)  # the letters carry names and addresses
    with st.transaction() as c:
        found = service.letters(c, key, pdf=fmt == "pdf")
        written: list[str] = []
        for letter in found:
            path = out / f"{letter.ref}-{letter.customer_id}.{fmt}"
            data = letter.pdf if fmt == "pdf" and letter.pdf is not None else letter.html.encode("utf-8")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            written.append(path.name)
        marked = (
            service.mark_letters_sent(c, key, [x.customer_id for x in found]) if mark_sent and found else 0
        )
    if json_out:
        print_json({"letters": len(written), "files": written, "marked_sent": marked})
        return
    console.print(
        st.t(
            f"書面 {len(written)}通を書き出しました"
            + (f"（郵送済みとして記録 {marked}通）" if mark_sent else ""),
            f"{len(written)} letter(s) written" + (f" ({marked} recorded as posted)" if mark_sent else ""),
        ),
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add this part's commands to the ``mamori incidents`` group."""
    app.command("notify")(cli_command(notify))
    app.command("notices")(cli_command(notices_log))
    app.command("substitute")(cli_command(substitute))
    app.command("letters")(cli_command(letters))
