"""`mamori deid …` and `mamori text …`: the deid slice's command groups.

The tabular commands (pseudonymise, anonymise, risk, keys, provide) live in :mod:`mamori.deid.tabular.cli` and the
free-text ones in :mod:`mamori.deid.cli.text`; this module adds the register of de-identified datasets and is what
the composition mounts. Every command goes through :mod:`mamori.deid.service`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from mamori.deid.cli.text import app as text_app
from mamori.deid.tabular.cli import app
from mamori.kernel import labels
from mamori.kernel.cli_support import cli_command, console, lazy, print_json, state

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.deid import service
else:
    service = lazy("mamori.deid.service")


@app.command("datasets")
@cli_command
def datasets(
    ctx: typer.Context,
    kind: Annotated[
        str | None, typer.Option("--kind", help="pseudonymised（仮名加工情報）/ anonymised（匿名加工情報）")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="件数 / how many (1..1000)")] = 50,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """作成した仮名加工情報・匿名加工情報の台帳 / the register of de-identified datasets (no record values)."""
    st = state(ctx)
    with st.transaction() as c:
        rows = service.list_datasets(c, kind=kind, limit=limit)
    if json_out:
        print_json({"items": [r.model_dump(mode="json") for r in rows]})
        return
    table = Table(
        *(labels.label(f"deid_field.{k}", st.lang) for k in ("created_at", "kind", "file", "rows", "purpose"))
    )
    for r in rows:
        table.add_row(
            labels.fmt_datetime(r.created_at, st.lang),
            labels.value("dataset_kind", r.kind, st.lang, staff=True),
            r.file_name,
            labels.fmt_count(r.rows, "件", st.lang),
            r.purpose,
        )
    console.print(table)


__all__ = ["app", "text_app"]
