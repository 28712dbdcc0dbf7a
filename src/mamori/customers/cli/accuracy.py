"""CLI: ``mamori customers confirm ID`` and ``mamori customers unconfirmed`` (issue 21, R-22-1: accuracy).

Registered on the customers Typer app when mamori.customers.cli is imported. Ids and dates only: no value."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.customers.cli import PURPOSE_OPT, app
from mamori.kernel.cli_support import cli_command, console, lazy, print_json, state
from mamori.kernel.labels import fmt_date

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.customers import schemas
    from mamori.customers.service import accuracy
else:
    schemas = lazy("mamori.customers.schemas")
    accuracy = lazy("mamori.customers.service.accuracy")

DEFAULT_DAYS = 365  # as schemas.CONFIRMATION_PERIOD_DAYS (written out: --help imports no schema)


@app.command("confirm")
@cli_command
def confirm(
    ctx: typer.Context,
    customer_id: str,
    purpose: str = PURPOSE_OPT,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """顧客情報を本人に確認したことを記録する（R-22-1） / record that the data was confirmed with the person."""
    st = state(ctx)
    with st.transaction(purpose) as c:
        result = accuracy.confirm(c, customer_id)
    if json_out:
        print_json(result)
        return
    console.print(
        st.t(
            f"確認を記録しました: {result.customer_id}（最終確認日 {fmt_date(result.confirmed_at)}）",
            f"confirmation recorded: {result.customer_id} (last confirmed {fmt_date(result.confirmed_at, 'en')})",
        ),
        markup=False,
    )


@app.command("unconfirmed")
@cli_command
def unconfirmed(
    ctx: typer.Context,
    days: int = typer.Option(DEFAULT_DAYS, "--days", help="この日数より前に確認した（または未確認の）顧客"),
    limit: int = typer.Option(100, "--limit", help="表示する件数"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """確認が必要な顧客（最終確認日が古い順、R-22-1） / customers due for confirmation, oldest first."""
    st = state(ctx)
    query = schemas.UnconfirmedQuery.model_validate({"days": days, "limit": limit})
    with st.transaction() as c:
        due = accuracy.unconfirmed(c, older_than_days=query.days, limit=query.limit)
        total = accuracy.count_unconfirmed(c, older_than_days=query.days)
        before = accuracy.cutoff(c, query.days)
    if json_out:
        print_json(
            schemas.UnconfirmedList(older_than_days=query.days, before=before, total=total, customers=due)
        )
        return
    table = Table(
        title=st.t(
            f"確認が必要な顧客: {total}人（{query.days}日以上確認していない）",
            f"Customers due for confirmation: {total} (not confirmed for {query.days} days)",
        )
    )
    table.add_column("ID", no_wrap=True)
    table.add_column(st.t("担当", "owner"), overflow="fold")
    table.add_column(st.t("最終確認日", "last confirmed"))
    lang = "en" if st.lang == "en" else "ja"
    for d in due:
        table.add_row(d.customer_id, d.owner or d.owner_id or "—", fmt_date(d.confirmed_at, lang))
    console.print(table)
