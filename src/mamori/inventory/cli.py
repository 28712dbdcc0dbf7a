"""`mamori inventory …`: storage locations (R-23-7, R-28-4), the data dictionary (R-2.3-1, G-6), the record of
processing activities (G-30) and the foreign countries for the published notice (R-23-7, R-32-1)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel import files, labels
from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state
from mamori.kernel.errors import ValidationFailed

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.inventory import schemas, service
    from mamori.kernel import policy
else:
    schemas = lazy("mamori.inventory.schemas")
    service = lazy("mamori.inventory.service")
    policy = lazy("mamori.kernel.policy")


def _opts(domain: str, codes: tuple[str, ...] | list[str]) -> str:
    """The allowed codes of an option with their words for --help: 「direct（本人から直接取得） / …」 (spaced, so the
    help panel can wrap it)."""
    return labels.choices(domain, codes).replace("、", " / ")


app = typer.Typer(
    help="個人データの所在・データ項目・処理活動の記録 / where data is kept, data items, the ROPA (G-30)",
    no_args_is_help=True,
)
locations_app = typer.Typer(
    help="保管場所と国（R-23-7、R-28-4） / storage locations and countries", no_args_is_help=True
)
items_app = typer.Typer(
    help="データ項目とタグ（要配慮・GDPR 第9条/第10条） / data items and their tags", no_args_is_help=True
)
app.add_typer(locations_app, name="locations")
app.add_typer(items_app, name="items")

_CAT_HELP = "identifier,contact,attribute,behaviour,sensitive"
FORMATS = ("table", "json", "csv", "md")


def _categories(value: str | None) -> list[policy.Category] | None:
    if value is None:
        return None
    out = []
    for name in (p.strip() for p in value.split(",") if p.strip()):
        if name not in {c.value for c in policy.Category}:
            raise ValidationFailed(
                f"不明なデータ区分です: {name}（{_CAT_HELP}）",
                f"Unknown data category: {name} ({_CAT_HELP})",
                code="bad_category",
            )
        out.append(policy.Category(name))
    return out


def _codes(value: str | None) -> list[str] | None:
    return None if value is None else [p.strip() for p in value.split(",") if p.strip()]


def _format(fmt: str, json_out: bool) -> str:
    if json_out:
        return "json"
    if fmt not in FORMATS:
        raise ValidationFailed(
            f"形式は {', '.join(FORMATS)} のいずれかです。",
            f"The format must be one of {', '.join(FORMATS)}.",
            code="bad_format",
        )
    return fmt


def _h(st: CliState, key: str) -> str:
    """A heading from the label dictionary (inventory_field.*, or field.*)."""
    return labels.label(f"inventory_field.{key}", st.lang, default="") or labels.label(
        f"field.{key}", st.lang, default=key
    )


def _yesno(st: CliState, flag: bool) -> str:
    return labels.label("yesno.yes" if flag else "yesno.no", st.lang)


def _country(st: CliState, code: str | None) -> str:
    """「日本」 / 「アメリカ合衆国（US）」: the country's name where the dictionary has it, its code abroad."""
    if not code:
        return "—"
    if not labels.has(f"country.{code}"):
        return code
    return labels.value("country", code, st.lang, staff=code != "JP")


_DOMAINS = {
    "kind": "location_kind",
    "appi_category": "data_category",
    "sensitive_kind": "sensitive_kind",
    "gdpr_article9": "article9",
    "counterparty_kind": "counterparty_kind",
}


def _shown(st: CliState, key: str, value: object) -> str:
    """One field in words: codes through the dictionary, times in JST, booleans はい / いいえ."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _yesno(st, value)
    if isinstance(value, datetime):
        return labels.fmt_datetime(value, st.lang)
    if isinstance(value, date):
        return labels.fmt_date(value, st.lang)
    if key == "country":
        return _country(st, str(value))
    if key == "categories" and isinstance(value, list):
        return labels.values("data_category", [str(v) for v in value], st.lang)
    if key in _DOMAINS:
        return labels.value(_DOMAINS[key], str(value), st.lang, staff=True)
    if isinstance(value, list):
        return (", " if st.lang == "en" else "、").join(str(v) for v in value)
    return str(value)


def _item(st: CliState, key: str) -> str:
    """「氏名（name）」: a customer field by its label with the key staff type back; attr:<key> as it is."""
    if labels.has(f"field.{key}"):
        return f"{labels.label(f'field.{key}', st.lang)}（{key}）" if st.lang != "en" else key
    plural = {"phones": "phone", "emails": "email"}.get(key)
    if plural:
        return f"{labels.label(f'field.{plural}', st.lang)}（{key}）" if st.lang != "en" else key
    if key == "activities":
        return f"{labels.label('customer_field.activities', st.lang)}（{key}）" if st.lang != "en" else key
    return key


_RULE = re.compile(r"R-[0-9.]+-[0-9]+(?: \([a-z]\))?")


def _in_lang(text: str, lang: str) -> str:
    """A bilingual 「日本語 / English」 text from the registers in the chosen language only; the rule ids the
    English half names are kept beside the Japanese (「…（R-28-1）」) for staff."""
    parts = []
    for piece in text.split("; "):
        ja, sep, en = piece.partition(" / ")
        if not sep:
            parts.append(piece)
        elif lang == "en":
            parts.append(en)
        else:
            rules = [r for r in _RULE.findall(en) if r not in ja]
            parts.append(ja + (f"（{'、'.join(rules)}）" if rules else ""))
    return ("; " if lang == "en" else "、").join(parts)


def _emit(text: str, out: Path | None, force: bool = False) -> None:
    if out is None:
        typer.echo(text, nl=False)
    else:
        files.write_output(out, text, force=force)  # never through a link; an existing file only with --force


# -- storage locations ----------------------------------------------------------------------------------------


@locations_app.command("list")
@cli_command
def locations_list(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json"),
    active: bool = typer.Option(False, "--active", help="廃止済みを除く / hide retired"),
) -> None:
    """保管場所の一覧 / list storage locations."""
    st = state(ctx)
    with st.transaction() as c:
        rows = service.list_locations(c, include_retired=not active)
    if json_out:
        print_json(rows)
        return
    table = Table(
        *(_h(st, k) for k in ("code", "name", "kind", "operator", "country", "handles_data", "status"))
    )
    for r in rows:
        table.add_row(
            r.code,
            r.name,
            labels.value("location_kind", r.kind, st.lang, staff=True),
            r.operator,
            _country(st, r.country)
            + ((f" ({r.region})" if st.lang == "en" else f"（{r.region}）") if r.region else ""),
            _yesno(st, r.handles_data),
            labels.value("location_status", "retired" if r.retired else "active", st.lang),
        )
    console.print(table)


@locations_app.command("show")
@cli_command
def locations_show(ctx: typer.Context, code: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """保管場所の詳細 / show a storage location."""
    st = state(ctx)
    with st.transaction() as c:
        r = service.show_location(c, code)
    if json_out:
        print_json(r)
        return
    sep = ": " if st.lang == "en" else "："
    for key, value in r.model_dump().items():
        console.print(f"{_h(st, key)}{sep}{_shown(st, key, value)}", markup=False, highlight=False)


@locations_app.command("add")
@cli_command
def locations_add(
    ctx: typer.Context,
    code: str,
    name: str = typer.Option(..., "--name"),
    kind: str = typer.Option(
        ...,
        "--kind",
        help="種別: "
        + _opts("location_kind", ("database", "backup", "file_share", "cloud", "outsourcee_system")),
    ),
    operator: str = typer.Option(..., "--operator", help="運営する事業者 / who runs it"),
    country: str = typer.Option("JP", "--country", help="ISO 3166 alpha-2"),
    region: str | None = typer.Option(None, "--region"),
    handles_data: bool = typer.Option(
        False, "--handles-data", help="事業者がデータを取り扱う（R-28-4） / the provider handles the data"
    ),
    counterparty: str | None = typer.Option(None, "--counterparty", help="提供先 ID / counterparty id"),
    categories: str | None = typer.Option(None, "--categories", help=_CAT_HELP),
    purposes: str | None = typer.Option(
        None, "--purposes", help="利用目的コード（カンマ区切り） / purpose codes"
    ),
    foreign_note: str | None = typer.Option(
        None, "--foreign-note", help="外的環境の把握（R-23-7） / the foreign country's system"
    ),
    note: str | None = typer.Option(None, "--note"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """保管場所を登録（外国は外的環境の把握が必須） / register a storage location."""
    st = state(ctx)
    data = schemas.LocationIn.model_validate(
        {
            "code": code,
            "name": name,
            "kind": kind,
            "operator": operator,
            "country": country,
            "region": region,
            "handles_data": handles_data,
            "counterparty_id": counterparty,
            "categories": _categories(categories) or [],
            "purposes": _codes(purposes) or [],
            "foreign_note": foreign_note,
            "note": note,
        }
    )
    with st.transaction() as c:
        r = service.add_location(c, data)
    if json_out:
        print_json(r)
    else:
        console.print(st.t(f"登録しました: {r.code}", f"saved: {r.code}"))


@locations_app.command("update")
@cli_command
def locations_update(
    ctx: typer.Context,
    code: str,
    name: str | None = typer.Option(None, "--name"),
    kind: str | None = typer.Option(None, "--kind"),
    operator: str | None = typer.Option(None, "--operator"),
    country: str | None = typer.Option(None, "--country"),
    region: str | None = typer.Option(None, "--region"),
    handles_data: bool | None = typer.Option(None, "--handles-data/--no-handles-data"),
    counterparty: str | None = typer.Option(None, "--counterparty"),
    categories: str | None = typer.Option(None, "--categories", help=_CAT_HELP),
    purposes: str | None = typer.Option(None, "--purposes"),
    foreign_note: str | None = typer.Option(None, "--foreign-note"),
    note: str | None = typer.Option(None, "--note"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """保管場所を変更（指定した項目のみ） / change a storage location (only the options given)."""
    st = state(ctx)
    given = {
        "name": name,
        "kind": kind,
        "operator": operator,
        "country": country,
        "region": region,
        "handles_data": handles_data,
        "counterparty_id": counterparty,
        "categories": _categories(categories),
        "purposes": _codes(purposes),
        "foreign_note": foreign_note,
        "note": note,
    }
    data = schemas.LocationUpdate.model_validate({k: v for k, v in given.items() if v is not None})
    with st.transaction() as c:
        r = service.update_location(c, code, data)
    if json_out:
        print_json(r)
    else:
        console.print(st.t(f"変更しました: {r.code}", f"updated: {r.code}"))


@locations_app.command("retire")
@cli_command
def locations_retire(ctx: typer.Context, code: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """保管場所を廃止（削除はしない） / retire a storage location (never deleted)."""
    st = state(ctx)
    with st.transaction() as c:
        r = service.retire_location(c, code)
    if json_out:
        print_json(r)
    else:
        console.print(st.t(f"廃止しました: {r.code}", f"retired: {r.code}"))


# -- data dictionary ------------------------------------------------------------------------------------------


@items_app.command("list")
@cli_command
def items_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """データ項目とタグの一覧（未確認・APPI と GDPR の違いを表示） / list data items and their tags."""
    st = state(ctx)
    with st.transaction() as c:
        rows = service.list_items(c)
    if json_out:
        print_json(rows)
        return
    table = Table(
        *(
            _h(st, k)
            for k in (
                "item",
                "category",
                "sensitive_kind",
                "gdpr_article9",
                "gdpr_article10",
                "financial",
                "reviewed",
                "notes",
            )
        )
    )
    for r in rows:
        item = _item(st, r.key)
        table.add_row(
            item,
            labels.value("data_category", r.appi_category.value, st.lang, staff=True),
            labels.value("sensitive_kind", r.sensitive_kind, st.lang, staff=True) if r.sensitive_kind else "",
            labels.value("article9", r.gdpr_article9, st.lang, staff=True) if r.gdpr_article9 else "",
            _yesno(st, r.gdpr_article10),
            _yesno(st, r.financial),
            _yesno(st, r.reviewed),
            "\n".join(n for n in r.notes if not n.startswith("未確認")),
        )
    console.print(table)


@items_app.command("tag")
@cli_command
def items_tag(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="顧客の項目名または attr:<属性キー> / a field or attr:<key>"),
    category: str = typer.Option(..., "--category", help=_CAT_HELP),
    sensitive_kind: str | None = typer.Option(
        None, "--sensitive-kind", help="要配慮の種類（R-2.3-1） / 要配慮 kind, e.g. medical_history"
    ),
    article9: str | None = typer.Option(None, "--article9", help="GDPR Art. 9 category, e.g. health"),
    article10: bool = typer.Option(False, "--article10", help="GDPR Art. 10 (criminal)"),
    financial: bool = typer.Option(
        False,
        "--financial",
        help="財産的被害のおそれ（カード番号等; R-26-1 (2)） / misuse may cause financial loss",
    ),
    description: str | None = typer.Option(None, "--description"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """データ項目にタグを付ける（個人情報保護管理者） / tag a data item (privacy officer)."""
    st = state(ctx)
    data = schemas.ItemIn.model_validate(
        {
            "appi_category": category,
            "sensitive_kind": sensitive_kind,
            "gdpr_article9": article9,
            "gdpr_article10": article10,
            "financial": financial,
            "description": description,
        }
    )
    with st.transaction() as c:
        r = service.tag_item(c, key, data)
    if json_out:
        print_json(r)
    else:
        console.print(st.t(f"登録しました: {r.key}", f"saved: {r.key}"))


# -- the record of processing activities and the countries -----------------------------------------------------


@app.command("ropa")
@cli_command
def ropa(
    ctx: typer.Context,
    fmt: str = typer.Option("md", "--format", help="json / csv / md"),
    json_out: bool = typer.Option(False, "--json"),
    out: Path | None = typer.Option(None, "--out", help="ファイルに書き出す / write to a file"),
    force: bool = typer.Option(
        False, "--force", help="既存の出力ファイルを置き換える / replace an existing file"
    ),
) -> None:
    """処理活動の記録（GDPR 第30条）を登録簿から生成 / the record of processing activities (G-30), generated."""
    st = state(ctx)
    chosen = _format(fmt, json_out)
    with st.transaction() as c:
        record = service.ropa(c)
    if chosen == "json":
        if out is None:
            print_json(record)
        else:
            _emit(record.model_dump_json(indent=2), out, force)
    elif chosen == "csv":
        _emit(service.ropa_csv(record), out, force)
    else:
        _emit(service.ropa_markdown(record), out, force)


@app.command("countries")
@cli_command
def countries(
    ctx: typer.Context,
    fmt: str = typer.Option("table", "--format", help="table / json / csv / md"),
    json_out: bool = typer.Option(False, "--json"),
    out: Path | None = typer.Option(None, "--out", help="ファイルに書き出す / write to a file"),
    force: bool = typer.Option(
        False, "--force", help="既存の出力ファイルを置き換える / replace an existing file"
    ),
) -> None:
    """データを保管・提供する外国の一覧（公表用、R-23-7・R-32-1） / foreign countries where data is kept or sent."""
    st = state(ctx)
    chosen = _format(fmt, json_out)
    with st.transaction() as c:
        rows = service.countries(c)
    if chosen == "json":
        if out is None:
            print_json(rows)
        else:
            _emit(
                json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2),
                out,
                force,
            )
    elif chosen == "csv":
        _emit(service.countries_csv(rows), out, force)
    elif chosen == "md":
        _emit(service.countries_markdown(rows), out, force)
    else:
        table = Table(*(_h(st, k) for k in ("country", "kind", "name", "safeguard")))
        for c_ in rows:
            for e in c_.entries:
                table.add_row(
                    _country(st, c_.country),
                    labels.value("recipient_kind", e.kind, st.lang),
                    e.name,
                    _in_lang(e.safeguard, st.lang),
                )
        console.print(table)
