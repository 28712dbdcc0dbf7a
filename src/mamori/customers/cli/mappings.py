"""CLI: mamori customers mappings list | show | save | delete | suggest (issue 19: import mappings saved by name).

Registered on the customers Typer app when mamori.customers.cli is imported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.customers.cli import app
from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.customers.service import import_files, import_mapping
else:
    import_files = lazy("mamori.customers.service.import_files")
    import_mapping = lazy("mamori.customers.service.import_mapping")

mappings_app = typer.Typer(
    help="取込マッピング（列と項目の対応）の保存・再利用 / saved import mappings", no_args_is_help=True
)
app.add_typer(mappings_app, name="mappings")

MAP_HELP = (
    "列名=項目、列1+列2=項目（結合）、列名=attr:キー[:区分]（例: --map 姓+名=name --map 電話1=phone"
    " --map 電話2=phone --map 備考=attr:note） / column=field"
)
SEP_HELP = '結合の区切り 項目=区切り（例: --sep address=" "、空も可） / separator of a join'


def _show_mapping(st: CliState, mapping: import_mapping.ImportMapping) -> None:
    table = Table(st.t("項目", "field"), st.t("列", "columns"))
    for target, how in import_mapping.describe(mapping):
        shown = target
        if target.startswith(import_mapping.ATTR_PREFIX):
            key = target[len(import_mapping.ATTR_PREFIX) :]
            category = mapping.attributes.get(key, "attribute")
            shown = f"{target} ({labels.value('data_category', category, st.lang)})"
        table.add_row(shown, how)
    console.print(table)
    for target, values in mapping.values.items():
        pairs = ", ".join(f"{k}→{v}" for k, v in list(values.items())[:20])
        more = st.t(f" ほか{len(values) - 20}件", f" and {len(values) - 20} more") if len(values) > 20 else ""
        console.print(
            st.t(f"値の変換 {target}: {pairs}{more}", f"values of {target}: {pairs}{more}"), markup=False
        )
    if mapping.sheet:
        console.print(st.t(f"シート: {mapping.sheet}", f"sheet: {mapping.sheet}"), markup=False)
    if mapping.id_system:
        console.print(
            st.t(f"顧客番号の発行元: {mapping.id_system}", f"customer number system: {mapping.id_system}"),
            markup=False,
        )


@mappings_app.command("list")
@cli_command
def list_mappings(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """保存した取込マッピングの一覧 / list saved import mappings."""
    st = state(ctx)
    with st.transaction() as c:
        saved = import_mapping.list_(c)
    if json_out:
        print_json([s.model_dump(mode="json") for s in saved])
        return
    table = Table(st.t("名前", "name"), st.t("項目", "fields"), st.t("更新", "updated"), st.t("作成者", "by"))
    for s in saved:
        table.add_row(
            s.name, ", ".join(s.mapping.fields), labels.fmt_date(s.updated_at, st.lang), s.created_by
        )
    console.print(table)
    console.print(st.t(f"{len(saved)}件", f"{len(saved)} mapping(s)"), markup=False)


@mappings_app.command("show")
@cli_command
def show_mapping(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="マッピング名 / mapping name"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """保存した取込マッピングを表示 / show a saved import mapping."""
    st = state(ctx)
    with st.transaction() as c:
        saved = import_mapping.read(c, name)
    if json_out:
        print_json(saved.model_dump(mode="json"))
        return
    console.print(st.t(f"マッピング: {saved.name}", f"mapping: {saved.name}"), markup=False)
    _show_mapping(st, saved.mapping)


@mappings_app.command("save")
@cli_command
def save_mapping(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="マッピング名 / mapping name"),
    from_file: Path | None = typer.Option(
        None, "--from-file", help="マッピングファイル（JSON / TOML） / mapping file"
    ),
    pairs: list[str] = typer.Option([], "--map", help=MAP_HELP),
    seps: list[str] = typer.Option([], "--sep", help=SEP_HELP),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """取込マッピングを名前を付けて保存（同名は置き換え） / save an import mapping by name (replaces)."""
    st = state(ctx)
    if (from_file is None) == (not pairs):
        raise typer.BadParameter(
            "--from-file か --map のどちらか一方を指定してください / give either --from-file or --map",
            param_hint="--from-file / --map",
        )
    if from_file is not None and seps:
        raise typer.BadParameter(
            "--sep は --map と一緒に指定してください / --sep goes with --map", param_hint="--sep"
        )
    mapping = (
        import_mapping.load_file(from_file)
        if from_file is not None
        else import_mapping.parse_cli(pairs, seps)
    )
    with st.transaction() as c:
        saved = import_mapping.save(c, name, mapping)
    if json_out:
        print_json(saved.model_dump(mode="json"))
        return
    console.print(st.t(f"保存しました: {saved.name}", f"saved: {saved.name}"), markup=False)
    _show_mapping(st, saved.mapping)


@mappings_app.command("delete")
@cli_command
def delete_mapping(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="マッピング名 / mapping name"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """保存した取込マッピングを削除 / delete a saved import mapping."""
    st = state(ctx)
    with st.transaction() as c:
        import_mapping.delete(c, name)
    if json_out:
        print_json({"deleted": name.strip()})
        return
    console.print(st.t(f"削除しました: {name.strip()}", f"deleted: {name.strip()}"), markup=False)


@mappings_app.command("suggest")
@cli_command
def suggest_mapping(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="取り込むファイル（.csv / .tsv / .txt / .xlsx） / the file"),
    sheet: str | None = typer.Option(None, "--sheet", help="Excel のシート名 / the sheet"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """ファイルの見出しから対応付けを提案（確認してから使う） / suggest a mapping from a file's headings."""
    st = state(ctx)
    from mamori.kernel.errors import NotFound

    try:
        data = file.read_bytes()
    except OSError:
        raise NotFound(
            "ファイルを読み込めません。", "Cannot read the file.", code="file_unreadable"
        ) from None
    table = import_files.read_table(data, file.name, sheet=sheet)
    mapping = import_mapping.suggest(table.header)
    if sheet:
        mapping.sheet = sheet
    unmapped = [h for h in table.header if h and not any(h in fm.columns for fm in mapping.fields.values())]
    if json_out:
        print_json(
            {
                "mapping": json.loads(import_mapping.dump(mapping)),
                "header": table.header,
                "unmapped": unmapped,
                "sheets": table.sheets,
            }
        )
        return
    _show_mapping(st, mapping)
    if unmapped:
        console.print(
            st.t(f"対応付けなし: {', '.join(unmapped)}", f"not mapped: {', '.join(unmapped)}"), markup=False
        )
    console.print(
        st.t(
            "確認のうえ --map で直すか、mappings save NAME --map … で保存してください。",
            "Check it; correct it with --map, or save it with mappings save NAME --map ….",
        ),
        markup=False,
    )
