"""customers CLI: relationship (issue 21) — commands registered on ``mamori.customers.cli.app`` when imported.

``mamori customers end-relationship CUSTOMER_ID [--on DATE] -p PURPOSE``: the end of the customer relationship,
from which a retention rule may count its period (R-22-1)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import typer

from mamori.customers.cli import PURPOSE_OPT, app
from mamori.kernel import labels
from mamori.kernel.cli_support import cli_command, console, lazy, print_json, state

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.customers.service import relationship
else:
    relationship = lazy("mamori.customers.service.relationship")


@app.command("end-relationship")
@cli_command
def end_relationship(
    ctx: typer.Context,
    customer_id: str,
    on: str | None = typer.Option(
        None, "--on", help="取引終了日 YYYY-MM-DD（省略時は今） / the day it ended"
    ),
    clear: bool = typer.Option(False, "--clear", help="取引終了日を取り消す（取引再開） / clear it"),
    purpose: str = PURPOSE_OPT,
    json_out: bool = typer.Option(False, "--json", help="JSON で出力 / output JSON"),
) -> None:
    """取引終了日を記録（保存期間の起算点, R-22-1） / record the end of the customer relationship."""
    st = state(ctx)
    day: date | None = None
    if on is not None:
        try:
            day = date.fromisoformat(on.strip())
        except ValueError:
            raise typer.BadParameter(
                "日付は YYYY-MM-DD で指定してください / give the date as YYYY-MM-DD"
            ) from None
    with st.transaction(purpose) as c:
        done = relationship.end_relationship(c, customer_id, on=day, clear=clear)
    if json_out:
        print_json(done)
        return
    console.print(
        st.t(
            f"取引終了日: {labels.fmt_date(done.relationship_ended_at, st.lang)}",
            f"relationship ended: {labels.fmt_date(done.relationship_ended_at, st.lang)}",
        ),
        highlight=False,
    )
