"""CLI: mamori customers notify | pending-notice | notice-exception (R-17-2, R-21-1, R-21-3).

Registered on the customers Typer app when mamori.customers.cli is imported."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.customers.cli import app
from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.customers import schemas, service
else:
    schemas = lazy("mamori.customers.schemas")
    service = lazy("mamori.customers.service")

# The grounds --help lists, written out so that --help imports no schema (issue 16); schemas.NoticeExceptionIn
# still validates, and tests/cli/test_startup.py fails if this drifts from schemas.NOTICE_EXCEPTION_GROUNDS.
HELP_NOTICE_EXCEPTION_GROUNDS = (
    "harm_to_person",
    "harm_to_operator",
    "state_cooperation",
    "obvious_from_circumstances",
)


def _opts(domain: str, codes: tuple[str, ...] | list[str]) -> str:
    """The allowed codes of an option with their words for --help: 「direct（本人から直接取得） / …」 (spaced, so the
    help panel can wrap it)."""
    return labels.choices(domain, codes).replace("、", " / ")


def _v(st: CliState, version: int) -> str:
    return f"v{version}" if st.lang == "en" else f"第{version}版"


def _method(st: CliState, method: str) -> str:
    return labels.value("notice_method", method, st.lang, staff=True)


def _ground(st: CliState, ground: str | None) -> str:
    return labels.value("notice_exception_ground", ground, st.lang, staff=True)


# -- purpose notices (R-17-2, R-21-1, R-21-3) ----------------------------------------------------------------


@app.command("notify")
@cli_command
def notify(
    ctx: typer.Context,
    purpose: str = typer.Option(..., "--purpose", "-p", help="通知した利用目的のコード / purpose code"),
    method: str = typer.Option(
        ..., "--method", help="方法: " + _opts("notice_method", ("notified", "stated", "published"))
    ),
    customer: list[str] = typer.Option([], "--customer", "-c", help="通知した本人のID（複数可）"),
    all_pending: bool = typer.Option(False, "--all-pending", help="新しい版の通知が必要な全員"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """利用目的の現在の版を本人に通知したことを記録する（R-17-2, R-21-1） / record that persons were notified."""
    st = state(ctx)
    data = schemas.NoticeIn.model_validate(
        {"purpose": purpose, "method": method, "customer_ids": customer, "all_pending": all_pending}
    )
    with st.transaction() as c:
        result = service.notices.notify(c, data)
    if json_out:
        print_json(result)
        return
    console.print(
        st.t(
            f"通知を記録しました: {result.purpose} {_v(st, result.version)}（{_method(st, result.method)}）"
            f" {len(result.recorded)}人、既に最新 {len(result.already_current)}人",
            f"notice recorded: {result.purpose} {_v(st, result.version)} ({_method(st, result.method)}) for "
            f"{labels.fmt_count(len(result.recorded), '人', 'en')}, "
            f"{len(result.already_current)} already current",
        ),
        markup=False,
    )
    if result.held_back:
        console.print(
            st.t(
                f"事業承継で取得した {len(result.held_back)}人は本人の同意がないため据え置きました（R-18-2）",
                f"{labels.fmt_count(len(result.held_back), '人', 'en')} received by succession were held back:"
                " no consent (R-18-2)",
            ),
            markup=False,
        )


@app.command("pending-notice")
@cli_command
def pending_notice(
    ctx: typer.Context,
    purpose: str = typer.Argument(..., help="利用目的コード / purpose code"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """新しい版の通知がまだ必要な本人の一覧（R-17-2） / who still needs the notice of the current version."""
    st = state(ctx)
    with st.transaction() as c:
        result = service.notices.pending(c, purpose)
    if json_out:
        print_json(result)
        return
    table = Table(
        "ID",
        labels.label("customer_field.notified_version", st.lang),
        labels.label("customer_field.notice_method", st.lang),
        labels.label("customer_field.notified_on", st.lang),
    )
    for p in result.pending:
        table.add_row(
            p.customer_id,
            _v(st, p.notified_version),
            _method(st, p.method),
            labels.fmt_date(p.notified_at, st.lang),
        )
    console.print(table)
    console.print(
        st.t(
            f"{result.purpose} {_v(st, result.current_version)}の通知が必要: {len(result.pending)}人",
            f"need the notice of {result.purpose} v{result.current_version}: "
            f"{labels.fmt_count(len(result.pending), '人', 'en')}",
        ),
        markup=False,
    )
    for e in result.exceptions:
        console.print(
            st.t(
                f"通知等の例外（R-21-3）: {e.customer_id} {_ground(st, e.exception_ground)} "
                f"{_v(st, e.version)}（記録者 {e.exception_by}）",
                f"notice exception (R-21-3): {e.customer_id} {_ground(st, e.exception_ground)} v{e.version} "
                f"(recorded by {e.exception_by})",
            ),
            markup=False,
        )


@app.command("notice-exception")
@cli_command
def notice_exception(
    ctx: typer.Context,
    customer_id: str,
    purpose: str = typer.Option(..., "--purpose", "-p", help="利用目的コード / purpose code"),
    ground: str | None = typer.Option(
        None,
        "--ground",
        help="通知等の例外の事由（法第21条第4項）: "
        + _opts("notice_exception_ground", HELP_NOTICE_EXCEPTION_GROUNDS),
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """通知等の例外を事由とともに記録する（R-21-3） / record a notice exception with its ground."""
    st = state(ctx)
    data = schemas.NoticeExceptionIn.model_validate({"purpose": purpose, "ground": ground})
    with st.transaction() as c:
        result = service.notices.record_exception(c, customer_id, data)
    if json_out:
        print_json(result)
        return
    console.print(
        st.t(
            f"通知等の例外を記録しました: {customer_id} {result.purpose} {_v(st, result.version)} "
            f"{_ground(st, result.exception_ground)}",
            f"notice exception recorded: {customer_id} {result.purpose} v{result.version} "
            f"{_ground(st, result.exception_ground)}",
        ),
        markup=False,
    )
