"""`mamori deid …` and `mamori text …`: the deid slice's command groups.

The tabular commands (pseudonymise, anonymise, risk, keys, provide) live in :mod:`mamori.deid.tabular.cli` and the
free-text ones in :mod:`mamori.deid.text.cli`; this module adds the register of de-identified datasets and is what
the composition mounts. Every command goes through :mod:`mamori.deid.service`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from mamori.deid import service
from mamori.deid.tabular.cli import app
from mamori.deid.text.cli import app as text_app
from mamori.kernel.cli_support import cli_command, console, print_json, state


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
        st.t("作成日時", "created"),
        st.t("種類", "kind"),
        st.t("ファイル", "file"),
        st.t("行数", "rows"),
        st.t("利用目的", "purpose"),
    )
    for r in rows:
        table.add_row(
            f"{r.created_at:%Y-%m-%d %H:%M}",
            r.kind_ja if st.lang != "en" else r.kind,
            r.file_name,
            str(r.rows),
            r.purpose,
        )
    console.print(table)


__all__ = ["app", "text_app"]
