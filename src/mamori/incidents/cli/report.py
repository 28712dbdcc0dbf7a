"""``mamori incidents report …`` and ``mamori incidents entrustor-notice``: the PPC report (R-26-4) and the notice
to the entrustor (R-26-5), issue 22.

- ``report draft KEY --stage prelim|final [--json]`` — a new version of 速報 / 確報 (not stored when unchanged);
- ``report show KEY [--json]`` — the latest 速報 and 確報 side by side, item by item, with what changed;
- ``report export KEY --stage prelim|final|entrustor [--version N] --format html|pdf|json --out FILE``;
- ``entrustor-notice KEY [--out FILE --format html|pdf|json] [--json]`` — drafts the notice to the entrustor (only
  when the company is the outsourcee) and, with ``--out``, writes it.

Thin: the service (``mamori.incidents.service.report``) authorises, drafts and audits.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel.cli_support import cli_command, console, lazy, print_json, state

if TYPE_CHECKING:
    from mamori.incidents import report_schemas as schemas
    from mamori.incidents.service import report as service
    from mamori.kernel import files
else:
    schemas = lazy("mamori.incidents.report_schemas")
    service = lazy("mamori.incidents.service.report")
    files = lazy("mamori.kernel.files")

report_app = typer.Typer(
    help="個人情報保護委員会への報告（速報・確報、9項目） / the PPC report (R-26-4)", no_args_is_help=True
)
KEY_HELP = "事案番号（INC-0003 / 3）または事案ID / incident number or id"


def register(app: typer.Typer) -> None:
    """Add this part's commands to the ``mamori incidents`` group."""
    app.add_typer(report_app, name="report")
    app.command("entrustor-notice")(entrustor_notice)


def _print_report(ctx: typer.Context, rep: schemas.ReportRead) -> None:
    st = state(ctx)
    label = schemas.STAGE_LABELS[rep.stage][0 if st.lang != "en" else 1]
    if rep.stored:
        head = st.t(
            f"{rep.incident_ref} の{label} 第{rep.version}版を作成しました。",
            f"{rep.incident_ref}: {label} version {rep.version} drafted.",
        )
    else:
        head = st.t(
            f"{rep.incident_ref} の{label}は最新の第{rep.version}版から変わっていません（保存しませんでした）。",
            f"{rep.incident_ref}: {label} unchanged since version {rep.version} (not stored again).",
        )
    console.print(head, markup=False, soft_wrap=True)
    for item in rep.body.items:
        mark = st.t("［調査中］", " [unknown]") if item.unknown else ""
        console.print(f"\n({item.number}) {item.title}{mark}", markup=False, soft_wrap=True, style="bold")
        console.print(item.text, markup=False, soft_wrap=True, highlight=False)


@report_app.command("draft")
@cli_command
def draft(
    ctx: typer.Context,
    key: str = typer.Argument(..., help=KEY_HELP),
    stage: str = typer.Option(..., "--stage", help="prelim（速報） / final（確報）"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """9項目を登録内容から作成し、新しい版として保存する / draft the nine items as a new version."""
    st = state(ctx)
    with st.transaction() as c:
        rep = service.draft(c, key, stage)
    if json_out:
        print_json(rep.model_dump(mode="json"))
        return
    _print_report(ctx, rep)


@report_app.command("show")
@cli_command
def show(
    ctx: typer.Context,
    key: str = typer.Argument(..., help=KEY_HELP),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """最新の速報と確報を項目ごとに並べ、変わった項目を示す / the latest 速報 and 確報 side by side."""
    st = state(ctx)
    with st.transaction() as c:
        both = service.reports(c, key)
    if json_out:
        print_json(both.model_dump(mode="json"))
        return
    prelim = st.t(f"速報 第{both.prelim.version}版", f"prelim v{both.prelim.version}") if both.prelim else "—"
    final = st.t(f"確報 第{both.final.version}版", f"final v{both.final.version}") if both.final else "—"
    table = Table(st.t("項目", "Item"), prelim, final, st.t("変更", "Changed"), show_lines=True)
    for d in both.diff:
        table.add_row(
            f"({d.number}) {d.title}",
            d.prelim or "—",
            d.final or "—",
            st.t("変更あり", "changed") if d.changed else "",
        )
    console.print(table)
    if both.entrustor is not None:
        console.print(
            st.t(
                f"委託元への通知: 第{both.entrustor.version}版（{both.entrustor.body.addressee or '—'}）",
                f"Notice to the entrustor: version {both.entrustor.version}",
            ),
            markup=False,
            soft_wrap=True,
        )
    listed = Table(
        st.t("段階", "Stage"), st.t("版", "Version"), st.t("作成日時", "Drafted"), st.t("作成者", "By")
    )
    for v in both.versions:
        listed.add_row(
            schemas.STAGE_LABELS[v.stage][0 if st.lang != "en" else 1],
            str(v.version),
            v.drafted_at.isoformat(timespec="minutes"),
            v.drafted_by,
        )
    console.print(listed)


def _write(ctx: typer.Context, data: bytes, out: Path, force: bool) -> None:
    st = state(ctx)
    files.write_output(out, data, force=force)
    console.print(
        st.t(f"{out} に書き出しました（{len(data):,} バイト）。", f"Wrote {out} ({len(data):,} bytes)."),
        markup=False,
        soft_wrap=True,
    )


@report_app.command("export")
@cli_command
def export(
    ctx: typer.Context,
    key: str = typer.Argument(..., help=KEY_HELP),
    stage: str = typer.Option(
        ..., "--stage", help="prelim（速報） / final（確報） / entrustor（委託元への通知）"
    ),
    version: int | None = typer.Option(None, "--version", min=1, help="版（省略時は最新） / version"),
    fmt: str = typer.Option(..., "--format", help="html / pdf / json"),
    out: Path = typer.Option(..., "--out", help="書き出すファイル / output file"),
    force: bool = typer.Option(False, "--force", help="既存のファイルを上書きする / overwrite"),
) -> None:
    """報告を HTML / PDF / JSON で書き出す（9項目を番号順に） / export a version as HTML, PDF or JSON."""
    st = state(ctx)
    with st.transaction() as c:
        data = service.export(c, key, stage, version, fmt)
    _write(ctx, data, out, force)


@cli_command
def entrustor_notice(
    ctx: typer.Context,
    key: str = typer.Argument(..., help=KEY_HELP),
    out: Path | None = typer.Option(None, "--out", help="書き出すファイル / output file"),
    fmt: str = typer.Option("pdf", "--format", help="html / pdf / json（--out のとき）"),
    force: bool = typer.Option(False, "--force", help="既存のファイルを上書きする / overwrite"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """委託元への通知を作成する（当社が委託先の事案、R-26-5） / draft the notice to the entrustor (R-26-5)."""
    st = state(ctx)
    if out is not None and fmt not in schemas.FORMATS:  # checked before anything is drafted
        raise typer.BadParameter(
            st.t("--format は html / pdf / json のいずれかです", "--format must be html, pdf or json")
        )
    with st.transaction() as c:
        rep = service.entrustor_notice(c, key)
    if out is not None:
        with st.transaction() as c:
            data = service.export(c, key, "entrustor", rep.version, fmt)
    if json_out:
        print_json(rep.model_dump(mode="json"))
    else:
        _print_report(ctx, rep)
    if out is not None:
        _write(ctx, data, out, force)
