"""``mamori monitoring report``: the monthly governance report (issue 25, "Deliver" 4).

``mamori monitoring report [--month 2026-11] [--format text|json|html|pdf] [--out FILE] [--json]`` — the report of a
month (JST; default the previous month): Rich tables on the terminal (``text``), JSON (``--json`` is
``--format json``), or the stand-alone HTML document / PDF written to ``--out`` (HTML goes to standard output
without it; a PDF needs a file). Errors are one line.

Thin: the service (``mamori.monitoring.service.report``) authorises (``monitoring.report``: privacy officer,
administrator), checks the month, builds and audits the report; ``service.report_layout`` lays it out.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel.cli_support import cli_command, console, lazy, print_json, state

if TYPE_CHECKING:
    from mamori.kernel import errors, files
    from mamori.monitoring.report_schemas import GovernanceReport
    from mamori.monitoring.service import report as service
    from mamori.monitoring.service import report_layout as layout
else:
    errors = lazy("mamori.kernel.errors")
    files = lazy("mamori.kernel.files")
    service = lazy("mamori.monitoring.service.report")
    layout = lazy("mamori.monitoring.service.report_layout")

CLI_FORMATS = ("text", "json", "html", "pdf")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``mamori monitoring``."""
    app.command("report")(report)


def _print_text(rep: GovernanceReport, lang: str) -> None:
    console.print(layout.title(rep, lang), markup=False, style="bold", soft_wrap=True)
    for section in layout.sections(rep, lang):
        console.print(f"\n{section.title}", markup=False, style="bold", soft_wrap=True)
        for t in section.tables:
            table = Table(title=t.caption, show_lines=t.id == "checklist-items")
            for j, head in enumerate(t.header):
                table.add_column(
                    head,
                    justify="right" if j in t.numeric else "left",
                    overflow="fold",
                    no_wrap=j == 0 and bool(t.numeric),  # a role or signal on one line beside its figures
                )
            for row in t.rows:
                table.add_row(*row)
            console.print(table)
        for note in section.notes:
            console.print(note, markup=False, style="dim", soft_wrap=True, highlight=False)


@cli_command
def report(
    ctx: typer.Context,
    month: str | None = typer.Option(
        None, "--month", help="対象月 YYYY-MM（省略時は前月） / month (default: last)"
    ),
    fmt: str = typer.Option("text", "--format", help="text / json / html / pdf"),
    out: Path | None = typer.Option(
        None, "--out", help="書き出すファイル（html / pdf / json） / output file"
    ),
    force: bool = typer.Option(False, "--force", help="既存のファイルを上書きする / overwrite"),
    json_out: bool = typer.Option(False, "--json", help="JSON で出力（--format json と同じ） / as JSON"),
) -> None:
    """月次ガバナンス報告（役割別の閲覧・持出し、アラート、請求、事案、アクセス権の見直し、チェックリスト） /
    the monthly governance report."""
    st = state(ctx)
    chosen = "json" if json_out else fmt
    if chosen not in CLI_FORMATS:  # checked before anything is built or audited
        raise errors.ValidationFailed(
            "--format は text / json / html / pdf のいずれかです。",
            "--format must be text, json, html or pdf.",
            code="bad_format",
        )
    if chosen == "pdf" and out is None:
        raise errors.ValidationFailed(
            "PDF は --out で書き出すファイルを指定してください。",
            "A PDF needs a file: give --out.",
            code="out_required",
        )
    if chosen == "text" and out is not None:
        raise errors.ValidationFailed(
            "--out は html / pdf / json のときに使えます。",
            "--out goes with --format html, pdf or json.",
            code="bad_out",
        )
    if out is not None:
        files.check_output(out, force=force)  # an existing file is refused before anything is built
    with st.transaction() as c:
        rep = service.build(c, month, fmt=chosen)
        data: bytes | None = None
        if chosen == "pdf":
            data = layout.render_pdf(rep, st.lang, settings=c.runtime.settings)
        elif chosen == "html":
            data = layout.render_html(rep, st.lang).encode("utf-8")
        elif chosen == "json" and out is not None:
            data = rep.model_dump_json(indent=2).encode("utf-8")
    if out is not None and data is not None:
        files.write_output(out, data, force=force)
        console.print(
            st.t(f"{out} に書き出しました（{len(data):,} バイト）。", f"Wrote {out} ({len(data):,} bytes)."),
            markup=False,
            soft_wrap=True,
        )
    elif chosen == "html" and data is not None:
        sys.stdout.write(data.decode("utf-8"))
    elif chosen == "json":
        print_json(rep.model_dump(mode="json"))
    else:
        _print_text(rep, st.lang)
